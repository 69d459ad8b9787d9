package activities

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/testsuite"

	"github.com/slipway-dev/slipway/api"
	"github.com/slipway-dev/slipway/dataplane"
	"github.com/slipway-dev/slipway/entry"
	"github.com/slipway-dev/slipway/secretbox"
	"github.com/slipway-dev/slipway/store"
	"github.com/slipway-dev/slipway/workflows"
)

// fakeDriver runs each build as one httptest server answering its build ID; ready says whether a build
// passes its readiness check. It records the releases it was given.
type fakeDriver struct {
	t        *testing.T
	mu       sync.Mutex
	ready    map[string]bool
	servers  map[string]*httptest.Server
	releases []dataplane.Release
	removed  []string
	restored []string
	previous []dataplane.Release // the releases Restore went back to
}

func (f *fakeDriver) Apply(_ context.Context, r dataplane.Release) ([]dataplane.Instance, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.releases = append(f.releases, r)
	srv := f.servers[r.BuildID]
	if srv == nil {
		srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, r.BuildID) }))
		f.t.Cleanup(srv.Close)
		f.servers[r.BuildID] = srv
	}
	return []dataplane.Instance{{ID: r.BuildID, BuildID: r.BuildID, Address: strings.TrimPrefix(srv.URL, "http://"), Running: true}}, nil
}

func (f *fakeDriver) WaitReady(ctx context.Context, r dataplane.Release, beat func(dataplane.Probe)) (dataplane.Probe, error) {
	f.mu.Lock()
	ok := f.ready[r.BuildID]
	f.mu.Unlock()
	if ok {
		return dataplane.Probe{Ready: true, Message: "GET /healthz: 200"}, nil
	}
	return dataplane.Probe{Message: "GET /healthz: 503"}, context.DeadlineExceeded
}

func (f *fakeDriver) VerdictWait() time.Duration { return 0 }

// Serve switches entry to the instances, as the Docker driver does.
func (f *fakeDriver) Serve(ctx context.Context, r dataplane.Release, insts []dataplane.Instance, entry dataplane.Entry) (string, error) {
	if !r.Public() {
		return "", entry.Close(ctx, r)
	}
	var addrs []string
	for _, i := range insts {
		addrs = append(addrs, i.Address)
	}
	return entry.Switch(ctx, r, addrs)
}

// Commit names the other builds running, as the Docker driver does.
func (f *fakeDriver) Commit(ctx context.Context, r dataplane.Release) ([]string, error) {
	running, _ := f.Describe(ctx, r.Project, r.Component, r.Environment)
	var out []string
	for _, i := range running {
		if i.BuildID != r.BuildID && !slices.Contains(out, i.BuildID) {
			out = append(out, i.BuildID)
		}
	}
	slices.Sort(out)
	return out, nil
}

func (f *fakeDriver) ReplacesInPlace() bool { return false }

func (f *fakeDriver) Restore(ctx context.Context, failed dataplane.Release, previous *dataplane.Release) error {
	f.mu.Lock()
	f.restored = append(f.restored, failed.BuildID)
	if previous != nil {
		f.restored = append(f.restored, "to "+previous.BuildID)
		f.previous = append(f.previous, *previous)
	}
	f.mu.Unlock()
	return f.Remove(ctx, failed.Project, failed.Component, failed.Environment, failed.BuildID, 0)
}

func (f *fakeDriver) Remove(_ context.Context, _, _, _, buildID string, _ time.Duration) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.removed = append(f.removed, buildID)
	if srv := f.servers[buildID]; srv != nil {
		srv.Close()
		delete(f.servers, buildID)
	}
	return nil
}

func (f *fakeDriver) Describe(_ context.Context, _, _, _ string) ([]dataplane.Instance, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []dataplane.Instance
	for id, srv := range f.servers {
		out = append(out, dataplane.Instance{ID: id, BuildID: id, Address: strings.TrimPrefix(srv.URL, "http://"), Running: true})
	}
	return out, nil
}

func rollout(t *testing.T, d *Deploys, st *store.Store, id, build string) workflows.RolloutResult {
	t.Helper()
	if _, err := st.CreateDeployment(context.Background(), store.Deployment{ID: id, Project: "shop", Component: "api",
		Environment: "development", BuildID: build, Digest: "sha256:" + build}); err != nil {
		t.Fatal(err)
	}
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	env.RegisterActivity(d)
	val, err := env.ExecuteActivity(d.Rollout, workflows.RolloutInput{DeploymentID: id})
	if err != nil {
		t.Fatal(err)
	}
	var res workflows.RolloutResult
	if err := val.Get(&res); err != nil {
		t.Fatal(err)
	}
	return res
}

func TestRolloutSwitchesOnlyToAReadyRelease(t *testing.T) {
	d, drv, st := deploysWithStore(t)
	good := rollout(t, d, st, "d-1", "b-good")
	if good.Status != api.DeploymentSucceeded || good.URL == "" {
		t.Fatalf("good rollout %+v", good)
	}
	if body := httpGet(t, good.URL); body != "b-good" {
		t.Fatalf("entry serves %q", body)
	}
	// The release got the image by digest, its config as an environment variable and its secret as a file.
	r := drv.releases[0]
	if r.Image != "127.0.0.1:5000/shop/api@sha256:b-good" || r.Env["GREETING"] != "hi" || string(r.Files["/run/secrets/token"]) != "s3cret-value" ||
		r.Port() != 8080 {
		t.Fatalf("release %+v", r)
	}
	if strings.Contains(mustJSON(t, good), "s3cret") {
		t.Fatal("the rollout's result holds the secret")
	}

	bad := rollout(t, d, st, "d-2", "b-bad")
	if bad.Status != api.DeploymentFailed || !strings.Contains(bad.Message, "not ready: GET /healthz: 503") {
		t.Fatalf("bad rollout %+v", bad)
	}
	if body := httpGet(t, good.URL); body != "b-good" {
		t.Fatalf("after the bad rollout the entry serves %q", body)
	}
	if got := strings.Join(drv.removed, ","); got != "b-bad" {
		t.Fatalf("removed %s, want only the bad release", got)
	}
	if got := strings.Join(drv.restored, ","); got != "b-bad,to b-good" {
		t.Fatalf("restored %s, want b-bad undone for b-good", got)
	}
	dep, err := st.GetDeployment(context.Background(), "d-2")
	if err != nil || dep.Status != api.DeploymentFailed || dep.EndedAt == nil {
		t.Fatalf("recorded %+v, %v", dep, err)
	}
	cur, err := st.CurrentDeployment(context.Background(), "shop", "api", "development")
	if err != nil || cur.ID != "d-1" || cur.ConfigHash == "" {
		t.Fatalf("current %+v, %v", cur, err)
	}

	// A retried rollout of an ended deployment answers as recorded and does nothing.
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	env.RegisterActivity(d)
	val, err := env.ExecuteActivity(d.Rollout, workflows.RolloutInput{DeploymentID: "d-2"})
	if err != nil {
		t.Fatal(err)
	}
	var again workflows.RolloutResult
	if err := val.Get(&again); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(again, bad) || len(drv.releases) != 2 {
		t.Fatalf("retried rollout %+v after %d applies", again, len(drv.releases))
	}
}

func TestRestoreGetsTheConfigsThePreviousReleaseRanWith(t *testing.T) {
	ctx := context.Background()
	d, drv, st := deploysWithStore(t)
	if res := rollout(t, d, st, "d-1", "b-good"); res.Status != api.DeploymentSucceeded {
		t.Fatalf("first rollout %+v", res)
	}
	dep, err := st.GetDeployment(ctx, "d-1")
	if err != nil || dep.ReleaseConfig == nil {
		t.Fatalf("deployment d-1 recorded no release config: %+v, %v", dep, err)
	}
	if strings.Contains(string(dep.ReleaseConfig.Ciphertext), "s3cret") {
		t.Fatal("the recorded release config is not sealed")
	}
	// The environment's config changes after d-1; the failed d-2 must go back to what d-1 ran with.
	v := store.ConfigValue{Project: "shop", Component: "api", Environment: "development", Key: "GREETING"}
	if v.Sealed, err = d.Keyring.Seal(v.AAD(), []byte("hola")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.PutConfig(ctx, v, false); err != nil {
		t.Fatal(err)
	}
	if res := rollout(t, d, st, "d-2", "b-bad"); res.Status != api.DeploymentFailed || !strings.Contains(res.Message, "rolled back") {
		t.Fatalf("bad rollout %+v", res)
	}
	if len(drv.previous) != 1 {
		t.Fatalf("restored to %d releases", len(drv.previous))
	}
	prev := drv.previous[0]
	if prev.BuildID != "b-good" || prev.Env["GREETING"] != "hi" || string(prev.Files["/run/secrets/token"]) != "s3cret-value" {
		t.Fatalf("restored to %s with GREETING=%q, want b-good with the recorded GREETING=hi", prev.BuildID, prev.Env["GREETING"])
	}
	if got := drv.releases[1].Env["GREETING"]; got != "hola" {
		t.Fatalf("the new release got GREETING=%q, want the current hola", got)
	}
}

func TestRetriedRolloutThatWasRestoringRestoresWithoutRollingOutAgain(t *testing.T) {
	ctx := context.Background()
	d, drv, st := deploysWithStore(t)
	if res := rollout(t, d, st, "d-1", "b-good"); res.Status != api.DeploymentSucceeded {
		t.Fatalf("first rollout %+v", res)
	}
	if _, err := st.CreateDeployment(ctx, store.Deployment{ID: "d-2", Project: "shop", Component: "api",
		Environment: "development", BuildID: "b-bad", Digest: "sha256:b-bad"}); err != nil {
		t.Fatal(err)
	}
	applies := len(drv.releases)
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	env.RegisterActivity(d)
	// The attempt before died while restoring, as its last heartbeat said.
	env.SetHeartbeatDetails(restoringAfter + "not ready: GET /healthz: 503")
	val, err := env.ExecuteActivity(d.Rollout, workflows.RolloutInput{DeploymentID: "d-2"})
	if err != nil {
		t.Fatal(err)
	}
	var res workflows.RolloutResult
	if err := val.Get(&res); err != nil {
		t.Fatal(err)
	}
	if len(drv.releases) != applies {
		t.Fatalf("the retried rollout applied the failed release again (%d applies)", len(drv.releases)-applies)
	}
	if res.Status != api.DeploymentFailed || res.Message != "not ready: GET /healthz: 503; rolled back: the previous release b-good keeps serving" {
		t.Fatalf("retried rollout %+v", res)
	}
	if got := strings.Join(drv.restored, ","); got != "b-bad,to b-good" {
		t.Fatalf("restored %s", got)
	}
}

func TestAnEnvironmentThatChangedDataPlaneRestoresNothingOfTheOldOneAndLeavesIt(t *testing.T) {
	ctx := context.Background()
	d, drv, st := deploysWithStore(t)
	if res := rollout(t, d, st, "d-1", "b-good"); res.Status != api.DeploymentSucceeded {
		t.Fatalf("first rollout %+v", res)
	}
	cur, err := st.CurrentDeployment(ctx, "shop", "api", "development")
	if err != nil || cur.DataPlane != store.DataPlaneDocker {
		t.Fatalf("the docker rollout recorded data plane %q (%v)", cur.DataPlane, err)
	}
	onCluster := store.Environment{Project: "shop", Name: "development", DataPlane: store.DataPlaneKubernetes}
	next := store.Deployment{ID: "d-2", Project: "shop", Component: "api", Environment: "development", BuildID: "b-good"}
	if prev, err := d.previous(ctx, next, onCluster); err != nil || prev != nil {
		t.Fatalf("previous on the cluster = %+v, %v; want none: b-good ran on docker", prev, err)
	}
	if prev, err := d.previous(ctx, next, store.Environment{Project: "shop", Name: "development"}); err != nil || prev == nil {
		t.Fatalf("previous on docker = %+v, %v", prev, err)
	}
	d.leaveOtherPlane(ctx, log.NewStructuredLogger(slog.Default()), next, onCluster)
	if got := strings.Join(drv.removed, ","); got != "b-good" {
		t.Fatalf("removed %q, want the docker release the environment left", got)
	}
}

func TestRetriedRolloutThatWasStartingRollsOut(t *testing.T) {
	d, drv, st := deploysWithStore(t)
	if _, err := st.CreateDeployment(context.Background(), store.Deployment{ID: "d-1", Project: "shop", Component: "api",
		Environment: "development", BuildID: "b-good", Digest: "sha256:b-good"}); err != nil {
		t.Fatal(err)
	}
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	env.RegisterActivity(d)
	// The attempt before died while its release got ready (a worker killed, say).
	env.SetHeartbeatDetails("starting b-good")
	val, err := env.ExecuteActivity(d.Rollout, workflows.RolloutInput{DeploymentID: "d-1"})
	if err != nil {
		t.Fatal(err)
	}
	var res workflows.RolloutResult
	if err := val.Get(&res); err != nil {
		t.Fatal(err)
	}
	if res.Status != api.DeploymentSucceeded || len(drv.releases) != 1 || len(drv.restored) != 0 {
		t.Fatalf("retried rollout %+v after %d applies, restored %v", res, len(drv.releases), drv.restored)
	}
}

// With RetireLater a deployment is recorded succeeded as soon as its release serves, naming the releases still
// running beside it; RetireReplaced then removes those, never the one serving now.
func TestRetireReplacedRemovesWhatTheServingReleaseReplaced(t *testing.T) {
	ctx := context.Background()
	d, drv, st := deploysWithStore(t)
	drv.ready["b-bad"] = true // here: a second good release
	if res := rollout(t, d, st, "d-1", "b-good"); res.Status != api.DeploymentSucceeded {
		t.Fatalf("first rollout %+v", res)
	}
	if _, err := st.CreateDeployment(ctx, store.Deployment{ID: "d-2", Project: "shop", Component: "api",
		Environment: "development", BuildID: "b-bad", Digest: "sha256:b-bad"}); err != nil {
		t.Fatal(err)
	}
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	env.RegisterActivity(d)
	val, err := env.ExecuteActivity(d.Rollout, workflows.RolloutInput{DeploymentID: "d-2", RetireLater: true})
	if err != nil {
		t.Fatal(err)
	}
	var res workflows.RolloutResult
	if err := val.Get(&res); err != nil || res.Status != api.DeploymentSucceeded || !reflect.DeepEqual(res.Replaced, []string{"b-good"}) {
		t.Fatalf("rollout %+v, %v; want succeeded, replacing b-good", res, err)
	}
	if dep, err := st.GetDeployment(ctx, "d-2"); err != nil || dep.Status != api.DeploymentSucceeded {
		t.Fatalf("d-2 recorded %+v, %v: want succeeded before the old release goes", dep, err)
	}
	if body := httpGet(t, res.URL); body != "b-bad" {
		t.Fatalf("entry serves %q, want the new release", body)
	}
	if len(drv.removed) != 0 {
		t.Fatalf("the rollout removed %v; with RetireLater it leaves that to RetireReplaced", drv.removed)
	}
	// The build serving now is never retired, even when named (a rollback to it ran meanwhile).
	if _, err := env.ExecuteActivity(d.RetireReplaced, workflows.RetireReplacedInput{DeploymentID: "d-1", Builds: []string{"b-bad"}}); err != nil {
		t.Fatal(err)
	}
	if len(drv.removed) != 0 {
		t.Fatalf("retiring the serving build removed %v", drv.removed)
	}
	for range 2 { // idempotent
		if _, err := env.ExecuteActivity(d.RetireReplaced, workflows.RetireReplacedInput{DeploymentID: "d-2", Builds: res.Replaced}); err != nil {
			t.Fatal(err)
		}
	}
	if got := strings.Join(drv.removed, ","); got != "b-good,b-good" {
		t.Fatalf("retired %s, want the replaced b-good (twice: the retry finds nothing left)", got)
	}
	if body := httpGet(t, res.URL); body != "b-bad" {
		t.Fatalf("after retiring the entry serves %q", body)
	}
}

// inPlaceDriver is a fakeDriver that replaces releases in place, judges readiness itself and routes
// traffic itself, as a cluster does. It records the rollout's wait and what it committed.
type inPlaceDriver struct {
	*fakeDriver
	waited    time.Duration // how long WaitReady was given
	committed []string
}

func (f *inPlaceDriver) VerdictWait() time.Duration { return 15 * time.Second }

func (f *inPlaceDriver) WaitReady(ctx context.Context, r dataplane.Release, beat func(dataplane.Probe)) (dataplane.Probe, error) {
	if dl, ok := ctx.Deadline(); ok {
		f.waited = time.Until(dl)
	}
	return f.fakeDriver.WaitReady(ctx, r, beat)
}

func (f *inPlaceDriver) Serve(_ context.Context, r dataplane.Release, _ []dataplane.Instance, _ dataplane.Entry) (string, error) {
	return "http://" + r.Component + ".cluster.svc:8080", nil
}

func (f *inPlaceDriver) Commit(_ context.Context, r dataplane.Release) ([]string, error) {
	f.committed = append(f.committed, r.BuildID)
	return nil, nil
}

func (f *inPlaceDriver) ReplacesInPlace() bool { return true }

// failingOpen is a keyring that cannot open the configs recorded with one deployment.
type failingOpen struct {
	*secretbox.Keyring
	deployment string
}

func (k failingOpen) Open(aad []byte, s secretbox.Sealed) ([]byte, error) {
	if string(aad) == string(store.DeploymentConfigAAD(k.deployment)) {
		return nil, secretbox.ErrDecrypt
	}
	return k.Keyring.Open(aad, s)
}

// On a data plane that replaces releases in place and routes traffic itself, a rollout waits the data
// plane's own verdict out, serves at the URL the data plane gives (no entry opens), commits the release
// and names nothing to retire; a failed release is not restored without the previous release.
func TestRolloutOnADataPlaneThatReplacesInPlace(t *testing.T) {
	d, fake, st := deploysWithStore(t)
	drv := &inPlaceDriver{fakeDriver: fake}
	d.Driver = drv
	res := rollout(t, d, st, "d-1", "b-good")
	if res.Status != api.DeploymentSucceeded || res.URL != "http://api.cluster.svc:8080" || res.Replaced != nil {
		t.Fatalf("rollout %+v; want served at the data plane's URL, nothing to retire", res)
	}
	if drv.waited <= 2*time.Minute {
		t.Fatalf("WaitReady was given %v, want the ready timeout and the data plane's verdict wait", drv.waited)
	}
	if !slices.Equal(drv.committed, []string{"b-good"}) || len(drv.removed) != 0 {
		t.Fatalf("committed %v, removed %v; want b-good committed, nothing removed", drv.committed, drv.removed)
	}
	if b := d.Router.Backends(entry.Key{Project: "shop", Component: "api", Environment: "development"}); b != nil {
		t.Fatalf("an entry opened for a release its data plane routes: %v", b)
	}

	// The previous release cannot be read: a release replaced in place cannot be restored without it.
	d.Keyring = failingOpen{Keyring: d.Keyring.(*secretbox.Keyring), deployment: "d-1"}
	if _, err := st.CreateDeployment(context.Background(), store.Deployment{ID: "d-2", Project: "shop", Component: "api",
		Environment: "development", BuildID: "b-bad", Digest: "sha256:b-bad"}); err != nil {
		t.Fatal(err)
	}
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	env.RegisterActivity(d)
	if _, err := env.ExecuteActivity(d.Rollout, workflows.RolloutInput{DeploymentID: "d-2"}); err == nil {
		t.Fatal("a failed release replaced in place was restored without the previous release")
	}
	if len(drv.restored) != 0 {
		t.Fatalf("restored %v without the previous release", drv.restored)
	}
}

// On a data plane that starts releases beside the one serving, a failed release is removed even when the
// previous release cannot be read: that one never stopped.
func TestRestoreBesideGoesOnWithoutThePreviousRelease(t *testing.T) {
	d, drv, st := deploysWithStore(t)
	if res := rollout(t, d, st, "d-1", "b-good"); res.Status != api.DeploymentSucceeded {
		t.Fatalf("first rollout %+v", res)
	}
	d.Keyring = failingOpen{Keyring: d.Keyring.(*secretbox.Keyring), deployment: "d-1"}
	res := rollout(t, d, st, "d-2", "b-bad")
	if res.Status != api.DeploymentFailed || !strings.Contains(res.Message, "not ready: GET /healthz: 503; removed") {
		t.Fatalf("bad rollout %+v", res)
	}
	if got := strings.Join(drv.restored, ","); got != "b-bad" {
		t.Fatalf("restored %s, want b-bad removed without a previous release", got)
	}
}
