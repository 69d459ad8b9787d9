package activities

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/testsuite"

	"github.com/slipway-dev/slipway/api"
	"github.com/slipway-dev/slipway/descriptor"
	"github.com/slipway-dev/slipway/entry"
	"github.com/slipway-dev/slipway/secretbox"
	"github.com/slipway-dev/slipway/store"
	"github.com/slipway-dev/slipway/workflows"
)

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
		if _, err := st.UpdateBuild(ctx, id, func(b *store.Build) error { b.Status, b.Digest = api.BuildSucceeded, "sha256:"+id; return nil }); err != nil {
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
	if _, err := st.UpdateBuild(ctx, "b-run", func(b *store.Build) error { b.Status = api.BuildRunning; return nil }); err != nil {
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
	if err := res.Get(&out); err != nil || out.Status != api.DeploymentSucceeded {
		t.Fatalf("rollout of the running build's auto-deploy = %+v, %v", out, err)
	}
	if rel := drv.releases[len(drv.releases)-1]; rel.Digest != "sha256:run" || !strings.HasSuffix(rel.Image, "@sha256:run") {
		t.Fatalf("released %s (%s), want the digest the deployment recorded", rel.Image, rel.Digest)
	}
}

// httpGet GETs url, an entry's URL under localhost among them (entry.DialLocalhost).
func httpGet(t *testing.T, url string) string {
	t.Helper()
	resp, err := (&http.Client{Transport: entry.LocalhostTransport()}).Get(url)
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
