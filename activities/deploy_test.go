package activities

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/testsuite"

	"github.com/slipway-dev/slipway/dataplane"
	"github.com/slipway-dev/slipway/descriptor"
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

// deploysWithStore returns deploy activities on a real store with project shop (development), component api,
// succeeded builds b-good and b-bad requiring GREETING and the secret API_TOKEN (set, sealed, in development).
func deploysWithStore(t *testing.T) (*Deploys, *fakeDriver, *store.Store) {
	t.Helper()
	ctx := context.Background()
	_, st := buildsWithStore(t)
	keys, err := secretbox.LoadOrCreateKeyring(filepath.Join(t.TempDir(), "kek.json"))
	if err != nil {
		t.Fatal(err)
	}
	desc := descriptor.Descriptor{Endpoints: []descriptor.Endpoint{{Name: "web", Port: 8080, Type: descriptor.REST}},
		Required: descriptor.Required{Configs: []descriptor.Requirement{{Name: "GREETING", Env: "GREETING"}},
			Secrets: []descriptor.Requirement{{Name: "API_TOKEN", File: "/run/secrets/token"}}}}
	for _, id := range []string{"b-good", "b-bad"} {
		if _, err := st.CreateBuild(ctx, store.Build{ID: id, Project: "shop", Component: "api", Commit: strings.Repeat("b", 40)}); err != nil {
			t.Fatal(err)
		}
		if err := st.PutBuildSpec(ctx, id, desc, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := st.UpdateBuild(ctx, id, func(b *store.Build) error { b.Status, b.Digest = store.BuildSucceeded, "sha256:"+id; return nil }); err != nil {
			t.Fatal(err)
		}
	}
	for key, val := range map[string]string{"GREETING": "hi", "API_TOKEN": "s3cret-value"} {
		v := store.ConfigValue{Project: "shop", Component: "api", Environment: "development", Key: key, Secret: key == "API_TOKEN"}
		if v.Sealed, err = keys.Seal(v.AAD(), []byte(val)); err != nil {
			t.Fatal(err)
		}
		if _, _, err := st.PutConfig(ctx, v, false); err != nil {
			t.Fatal(err)
		}
	}
	drv := &fakeDriver{t: t, ready: map[string]bool{"b-good": true}, servers: map[string]*httptest.Server{}}
	router := &entry.Router{}
	t.Cleanup(func() { router.Close(context.Background()) })
	return &Deploys{Store: st, Keyring: keys, Driver: drv, Router: router, Registry: "127.0.0.1:5000"}, drv, st
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
	if good.Status != store.DeploymentSucceeded || good.URL == "" {
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
	if bad.Status != store.DeploymentFailed || !strings.Contains(bad.Message, "not ready: GET /healthz: 503") {
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
	if err != nil || dep.Status != store.DeploymentFailed || dep.EndedAt == nil {
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
	if res := rollout(t, d, st, "d-1", "b-good"); res.Status != store.DeploymentSucceeded {
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
	if res := rollout(t, d, st, "d-2", "b-bad"); res.Status != store.DeploymentFailed || !strings.Contains(res.Message, "rolled back") {
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

func TestCheckRequiredNamesEveryMissingValue(t *testing.T) {
	d, _, st := deploysWithStore(t)
	if _, err := st.CreateEnvironment(context.Background(), store.Environment{Project: "shop", Name: "production"}); err != nil {
		t.Fatal(err)
	}
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	env.RegisterActivity(d)
	_, err := env.ExecuteActivity(d.CheckRequired, workflows.CheckRequiredInput{BuildID: "b-good", Project: "shop", Component: "api", Environment: "production"})
	wantNonRetryable(t, err, ErrTypeMissingConfig)
	if !strings.Contains(err.Error(), "environment production lacks what build b-good requires: GREETING (config), API_TOKEN (secret)") {
		t.Fatalf("error %v", err)
	}
	if _, err := env.ExecuteActivity(d.CheckRequired, workflows.CheckRequiredInput{BuildID: "b-good", Project: "shop", Component: "api", Environment: "development"}); err != nil {
		t.Fatal(err)
	}
	_, err = env.ExecuteActivity(d.CheckRequired, workflows.CheckRequiredInput{BuildID: "b1", Project: "shop", Component: "api", Environment: "development"})
	if err == nil || strings.Contains(err.Error(), "NotDeployable") {
		t.Fatalf("a queued build: %v, want a retryable wait", err)
	}
}

// A build's own auto-deploy is queued after its push and spec steps but before the build is recorded
// succeeded: it is checked (and rolled out, with the digest its deployment recorded) at once, not retried.
func TestCheckRequiredPassesTheRunningBuildsOwnAutoDeploy(t *testing.T) {
	ctx := context.Background()
	d, drv, st := deploysWithStore(t)
	desc := descriptor.Descriptor{Endpoints: []descriptor.Endpoint{{Name: "web", Port: 8080, Type: descriptor.REST}},
		Required: descriptor.Required{Configs: []descriptor.Requirement{{Name: "GREETING", Env: "GREETING"}}}}
	if _, err := st.CreateBuild(ctx, store.Build{ID: "b-run", Project: "shop", Component: "api", Commit: strings.Repeat("c", 40)}); err != nil {
		t.Fatal(err)
	}
	if err := st.PutBuildSpec(ctx, "b-run", desc, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := st.UpdateBuild(ctx, "b-run", func(b *store.Build) error { b.Status = store.BuildRunning; return nil }); err != nil {
		t.Fatal(err)
	}
	for _, dep := range []store.Deployment{
		{ID: "d-auto-run", Project: "shop", Component: "api", Environment: "development", BuildID: "b-run", Digest: "sha256:run", Actor: autoActor},
		{ID: "d-other", Project: "shop", Component: "api", Environment: "development", BuildID: "b-good", Digest: "sha256:b-good", Actor: "admin"},
	} {
		if _, err := st.CreateDeployment(ctx, dep); err != nil {
			t.Fatal(err)
		}
	}
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	env.RegisterActivity(d)
	in := workflows.CheckRequiredInput{DeploymentID: "d-auto-run", BuildID: "b-run", Project: "shop", Component: "api", Environment: "development"}
	if _, err := env.ExecuteActivity(d.CheckRequired, in); err != nil {
		t.Fatalf("the running build's own auto-deploy: %v, want it checked at once", err)
	}
	in.DeploymentID = "d-other"
	if _, err := env.ExecuteActivity(d.CheckRequired, in); err == nil || strings.Contains(err.Error(), "NotDeployable") {
		t.Fatalf("a running build under another build's deployment: %v, want a retryable wait", err)
	}
	drv.ready["b-run"] = true
	res, err := env.ExecuteActivity(d.Rollout, workflows.RolloutInput{DeploymentID: "d-auto-run"})
	if err != nil {
		t.Fatal(err)
	}
	var out workflows.RolloutResult
	if err := res.Get(&out); err != nil || out.Status != store.DeploymentSucceeded {
		t.Fatalf("rollout of the running build's auto-deploy = %+v, %v", out, err)
	}
	if rel := drv.releases[len(drv.releases)-1]; rel.Digest != "sha256:run" || !strings.HasSuffix(rel.Image, "@sha256:run") {
		t.Fatalf("released %s (%s), want the digest the deployment recorded", rel.Image, rel.Digest)
	}
}

func httpGet(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func mustJSON(t *testing.T, v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestRetriedRolloutThatWasRestoringRestoresWithoutRollingOutAgain(t *testing.T) {
	ctx := context.Background()
	d, drv, st := deploysWithStore(t)
	if res := rollout(t, d, st, "d-1", "b-good"); res.Status != store.DeploymentSucceeded {
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
	if res.Status != store.DeploymentFailed || res.Message != "not ready: GET /healthz: 503; rolled back: the previous release b-good keeps serving" {
		t.Fatalf("retried rollout %+v", res)
	}
	if got := strings.Join(drv.restored, ","); got != "b-bad,to b-good" {
		t.Fatalf("restored %s", got)
	}
}

func TestAnEnvironmentThatChangedDataPlaneRestoresNothingOfTheOldOneAndLeavesIt(t *testing.T) {
	ctx := context.Background()
	d, drv, st := deploysWithStore(t)
	if res := rollout(t, d, st, "d-1", "b-good"); res.Status != store.DeploymentSucceeded {
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
	if res.Status != store.DeploymentSucceeded || len(drv.releases) != 1 || len(drv.restored) != 0 {
		t.Fatalf("retried rollout %+v after %d applies, restored %v", res, len(drv.releases), drv.restored)
	}
}

// With RetireLater a deployment is recorded succeeded as soon as its release serves, naming the releases still
// running beside it; RetireReplaced then removes those, never the one serving now.
func TestRetireReplacedRemovesWhatTheServingReleaseReplaced(t *testing.T) {
	ctx := context.Background()
	d, drv, st := deploysWithStore(t)
	drv.ready["b-bad"] = true // here: a second good release
	if res := rollout(t, d, st, "d-1", "b-good"); res.Status != store.DeploymentSucceeded {
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
	if err := val.Get(&res); err != nil || res.Status != store.DeploymentSucceeded || !reflect.DeepEqual(res.Replaced, []string{"b-good"}) {
		t.Fatalf("rollout %+v, %v; want succeeded, replacing b-good", res, err)
	}
	if dep, err := st.GetDeployment(ctx, "d-2"); err != nil || dep.Status != store.DeploymentSucceeded {
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

// fakeSignaller records the deployments queued on deploy workflows.
type fakeSignaller struct {
	mu     sync.Mutex
	queued []workflows.DeployRequest
}

func (f *fakeSignaller) SignalWithStartWorkflow(_ context.Context, _, _ string, arg any,
	_ client.StartWorkflowOptions, _ any, _ ...any) (client.WorkflowRun, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.queued = append(f.queued, arg.(workflows.DeployRequest))
	return nil, nil
}

// An auto-deploy never goes into a production environment: RequestDeploy refuses a production-first project
// (recording and queueing nothing), and CheckRequired refuses an auto-deploy whose environment became production
// after it was queued. A deployment an admin asked for is not refused there.
func TestAutoDeployNeverGoesIntoProduction(t *testing.T) {
	ctx := context.Background()
	d, _, st := deploysWithStore(t)
	sig := &fakeSignaller{}
	d.Temporal = sig
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	env.RegisterActivity(d)
	in := workflows.RequestDeployInput{BuildID: "b-good", Project: "shop", Component: "api", Digest: "sha256:b-good"}

	// development first: queued there.
	val, err := env.ExecuteActivity(d.RequestDeploy, in)
	if err != nil {
		t.Fatal(err)
	}
	var res workflows.RequestDeployResult
	if err := val.Get(&res); err != nil || res.Environment != "development" || len(sig.queued) != 1 {
		t.Fatalf("auto-deploy with development first = %+v, %v; queued %+v", res, err, sig.queued)
	}

	// production first: refused, naming it; nothing recorded or queued.
	if _, err := st.CreateEnvironment(ctx, store.Environment{Project: "shop", Name: "live", Production: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.ReorderEnvironments(ctx, "shop", []string{"live", "development"}); err != nil {
		t.Fatal(err)
	}
	in.BuildID = "b-bad"
	_, err = env.ExecuteActivity(d.RequestDeploy, in)
	wantNonRetryable(t, err, ErrTypeAutoDeployToProduction)
	if !strings.Contains(err.Error(), "production environment live") || !strings.Contains(err.Error(), "b-bad") {
		t.Fatalf("refusal %v does not name the environment and the build", err)
	}
	if hist, err := st.ListDeployments(ctx, "shop", "api", "live", 0); err != nil || len(hist) != 0 || len(sig.queued) != 1 {
		t.Fatalf("refused auto-deploy recorded %+v (%v), queued %+v", hist, err, sig.queued)
	}

	// Queued to development, which is flagged production before it runs: refused at its check.
	if _, err := st.UpdateEnvironment(ctx, "shop", "development", func(e *store.Environment) error { e.Production = true; return nil }); err != nil {
		t.Fatal(err)
	}
	check := workflows.CheckRequiredInput{DeploymentID: res.DeploymentID, BuildID: "b-good", Project: "shop", Component: "api", Environment: "development"}
	_, err = env.ExecuteActivity(d.CheckRequired, check)
	wantNonRetryable(t, err, ErrTypeAutoDeployToProduction)
	if !strings.Contains(err.Error(), "production environment development") {
		t.Fatalf("refusal %v does not name the environment", err)
	}
	// The same build deployed there by an admin passes.
	if _, err := st.CreateDeployment(ctx, store.Deployment{ID: "d-admin", Project: "shop", Component: "api", Environment: "development",
		BuildID: "b-good", Digest: "sha256:b-good", Actor: "root"}); err != nil {
		t.Fatal(err)
	}
	check.DeploymentID = "d-admin"
	if _, err := env.ExecuteActivity(d.CheckRequired, check); err != nil {
		t.Fatalf("an admin's deployment into production: %v", err)
	}
}
