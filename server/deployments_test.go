package server

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/api/serviceerror"

	"github.com/slipway-dev/slipway/api"
	"github.com/slipway-dev/slipway/descriptor"
	"github.com/slipway-dev/slipway/store"
	"github.com/slipway-dev/slipway/workflows"
)

// succeededBuild stores a succeeded build of shop/api requiring GREETING and the secret API_TOKEN.
func (e *testEnv) succeededBuild(id string) {
	e.t.Helper()
	ctx := context.Background()
	if _, err := e.st.CreateBuild(ctx, store.Build{ID: id, Project: "shop", Component: "api", Commit: shaMain, WorkflowID: "w-" + id}); err != nil {
		e.t.Fatal(err)
	}
	d := descriptor.Descriptor{Required: descriptor.Required{Configs: []descriptor.Requirement{{Name: "GREETING"}},
		Secrets: []descriptor.Requirement{{Name: "API_TOKEN"}}}}
	if err := e.st.PutBuildSpec(ctx, id, d, nil); err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.st.UpdateBuild(ctx, id, func(b *store.Build) error {
		b.Status, b.Digest = api.BuildSucceeded, "sha256:"+strings.Repeat("a", 63)+id[len(id)-1:]
		return nil
	}); err != nil {
		e.t.Fatal(err)
	}
}

// serving records build as the release running in env.
func (e *testEnv) serving(env, build string) {
	e.t.Helper()
	ctx := context.Background()
	id := "d-" + env + "-" + build
	if _, err := e.st.CreateDeployment(ctx, store.Deployment{ID: id, Project: "shop", Component: "api", Environment: env, BuildID: build}); err != nil {
		e.t.Fatal(err)
	}
	now := time.Now().UTC()
	if _, err := e.st.UpdateDeployment(ctx, id, func(d *store.Deployment) error {
		d.Status, d.URL, d.EndedAt = api.DeploymentSucceeded, "http://127.0.0.1:1", &now
		return nil
	}); err != nil {
		e.t.Fatal(err)
	}
}

func (e *testEnv) setConfigs(env string) {
	e.t.Helper()
	base := "/api/v1/projects/shop/components/api/environments/" + env + "/configs/"
	e.must(http.StatusCreated, http.MethodPut, base+"GREETING", e.developer, map[string]any{"value": "hi"}, nil)
	e.must(http.StatusCreated, http.MethodPut, base+"API_TOKEN", e.developer, map[string]any{"value": "s3cret", "secret": true}, nil)
}

const apiPath = "/api/v1/projects/shop/components/api"

func TestDeployChecksAndQueues(t *testing.T) {
	e, fake := newBuildEnv(t)
	e.succeededBuild("b-1")
	deploy := apiPath + "/environments/development/deploy"

	rec := e.must(http.StatusUnprocessableEntity, http.MethodPost, deploy, e.developer, map[string]any{"build": "b-1"}, nil)
	if !strings.Contains(rec.Body.String(), "GREETING (config)") || !strings.Contains(rec.Body.String(), "API_TOKEN (secret)") {
		t.Fatalf("missing configs answer %s", rec.Body)
	}
	e.setConfigs("development")
	e.must(http.StatusUnprocessableEntity, http.MethodPost, deploy, e.developer, map[string]any{}, nil)
	e.must(http.StatusUnprocessableEntity, http.MethodPost, deploy, e.developer, map[string]any{"build": "b-nope"}, nil)
	e.must(http.StatusNotFound, http.MethodPost, apiPath+"/environments/staging/deploy", e.developer, map[string]any{"build": "b-1"}, nil)
	e.must(http.StatusForbidden, http.MethodPost, deploy, e.viewer, map[string]any{"build": "b-1"}, nil)

	var got api.Deployment
	e.must(http.StatusAccepted, http.MethodPost, deploy, e.developer, map[string]any{"build": "b-1"}, &got)
	if got.Status != api.DeploymentQueued || got.Build != "b-1" || got.Environment != "development" || got.Actor != "dev" {
		t.Fatalf("deployment %+v", got)
	}
	if len(fake.signals) != 1 {
		t.Fatalf("%d signals", len(fake.signals))
	}
	sig := fake.signals[0]
	if sig.workflowID != "deploy/shop/api/development" || sig.signal != workflows.SignalDeploy ||
		sig.arg != (workflows.DeployRequest{DeploymentID: got.ID, BuildID: "b-1"}) || sig.opts.TaskQueue != workflows.TaskQueue {
		t.Fatalf("signal %+v", sig)
	}

	// Production: every deploy is a request. By default it waits for an approval, and a developer may ask.
	e.setConfigs("production")
	var req api.Promotion
	e.must(http.StatusAccepted, http.MethodPost, apiPath+"/environments/production/deploy", e.developer, map[string]any{"build": "b-1"}, &req)
	if req.Status != api.PromotionPendingApproval || req.MinApprovals != 1 || req.Requester != "dev" || req.From != "" || fake.promotionStarts() != 1 {
		t.Fatalf("request %+v, %d workflows", req, fake.promotionStarts())
	}
	// Without approvals, production needs an admin, whose request is queued (to be re-scanned) at once.
	e.must(http.StatusOK, http.MethodPatch, "/api/v1/projects/shop/environments/production", e.admin,
		map[string]any{"approval": map[string]any{"required": false}}, nil)
	rec = e.must(http.StatusForbidden, http.MethodPost, apiPath+"/environments/production/deploy", e.developer, map[string]any{"build": "b-1"}, nil)
	if !strings.Contains(rec.Body.String(), "production environment") {
		t.Fatalf("developer to production: %s", rec.Body)
	}
	e.must(http.StatusAccepted, http.MethodPost, apiPath+"/environments/production/deploy", e.admin, map[string]any{"build": "b-1"}, &req)
	if req.Status != api.PromotionQueued || req.MinApprovals != 0 {
		t.Fatalf("admin's request %+v", req)
	}
	// A rollback (an older build) or a redeploy (the same one) is a deploy too: an admin's.
	e.succeededBuild("b-2")
	for _, b := range []string{"b-2", "b-1"} {
		wantError(t, e.do(http.MethodPost, apiPath+"/environments/production/deploy", e.developer, map[string]any{"build": b}),
			http.StatusForbidden, "forbidden", "")
	}
	if n := fake.promotionStarts(); n != 2 {
		t.Fatalf("%d promotion workflows, want the developer's and the admin's", n)
	}
	if hist, err := e.st.ListDeployments(context.Background(), "shop", "api", "production", 0); err != nil || len(hist) != 0 {
		t.Fatalf("production history %+v, %v: nothing is deployed before its request's workflow queues it", hist, err)
	}

	// Temporal down: 503 and the deployment is recorded failed, not left queued.
	// The message every token reads names no address; the log has it.
	fake.set(func(f *fakeTemporal) {
		f.signalErr = serviceerror.NewUnavailable("dial tcp 10.9.8.7:7233: connect: connection refused")
	})
	e.must(http.StatusServiceUnavailable, http.MethodPost, deploy, e.developer, map[string]any{"build": "b-1"}, nil)
	hist, err := e.st.ListDeployments(context.Background(), "shop", "api", "development", 0)
	if err != nil || len(hist) != 2 || hist[0].Status != api.DeploymentFailed || !strings.Contains(hist[0].Message, "could not be queued") {
		t.Fatalf("history %+v, %v", hist, err)
	}
	if strings.Contains(hist[0].Message, "10.9.8.7") || strings.Contains(hist[0].Message, "refused") || !strings.Contains(e.logs.String(), "10.9.8.7:7233") {
		t.Fatalf("unqueued deployment's message %q; log:\n%s", hist[0].Message, e.logs)
	}
}

func TestPromoteRules(t *testing.T) {
	e, fake := newBuildEnv(t)
	e.must(http.StatusCreated, http.MethodPost, "/api/v1/projects/shop/environments", e.developer, map[string]any{"name": "staging"}, nil)
	e.must(http.StatusOK, http.MethodPut, "/api/v1/projects/shop/environments/order", e.admin,
		map[string]any{"order": []string{"development", "staging", "production"}}, nil)
	for _, env := range []string{"development", "staging", "production"} {
		e.setConfigs(env)
	}
	e.succeededBuild("b-1")
	e.succeededBuild("b-2")
	promote := apiPath + "/promote"
	// Without approvals, production's rule is an admin's token (TestPromotionRequests has the approvals).
	e.must(http.StatusOK, http.MethodPatch, "/api/v1/projects/shop/environments/production", e.admin,
		map[string]any{"approval": map[string]any{"required": false}}, nil)

	rec := e.must(http.StatusConflict, http.MethodPost, promote, e.developer, map[string]any{}, nil)
	if !strings.Contains(rec.Body.String(), "nothing_to_promote") {
		t.Fatalf("promote with nothing running: %s", rec.Body)
	}
	e.serving("development", "b-2")
	e.serving("staging", "b-1")

	// Default: the first environment whose release the next does not run → development's b-2 to staging.
	var got api.Promotion
	e.must(http.StatusAccepted, http.MethodPost, promote, e.developer, map[string]any{}, &got)
	if got.Environment != "staging" || got.Build != "b-2" {
		t.Fatalf("default promotion %+v", got)
	}
	// A build: from where it runs to the next environment; production needs an admin.
	e.must(http.StatusForbidden, http.MethodPost, promote, e.developer, map[string]any{"build": "b-1"}, nil)
	e.must(http.StatusAccepted, http.MethodPost, promote, e.admin, map[string]any{"build": "b-1"}, &got)
	if got.Environment != "production" || got.Build != "b-1" {
		t.Fatalf("promotion of b-1 %+v", got)
	}
	// Skipping an environment: only an admin, and only naming the target.
	rec = e.must(http.StatusConflict, http.MethodPost, promote, e.developer, map[string]any{"build": "b-1", "to": "staging"}, nil)
	if !strings.Contains(rec.Body.String(), "only an admin may skip") {
		t.Fatalf("developer skipping: %s", rec.Body)
	}
	e.serving("production", "b-1")
	rec = e.must(http.StatusConflict, http.MethodPost, promote, e.developer, map[string]any{"build": "b-1"}, nil)
	if !strings.Contains(rec.Body.String(), "last_environment") {
		t.Fatalf("promoting from the last environment: %s", rec.Body)
	}
	e.must(http.StatusUnprocessableEntity, http.MethodPost, promote, e.developer, map[string]any{"to": "development"}, nil)
	e.must(http.StatusUnprocessableEntity, http.MethodPost, promote, e.developer, map[string]any{"to": "qa"}, nil)
	e.must(http.StatusConflict, http.MethodPost, promote, e.developer, map[string]any{"build": "b-9"}, nil)
	// A developer promotes into production by no way at all: 403 whatever the body, before anything else is judged.
	for _, body := range []map[string]any{{"to": "production"}, {"build": "b-2", "to": "production"}, {"build": "b-9", "to": "production"}} {
		apiErr := wantError(t, e.do(http.MethodPost, promote, e.developer, body), http.StatusForbidden, "forbidden", "")
		if !strings.Contains(apiErr.Message, "production is a production environment: promoting there needs an admin token") {
			t.Fatalf("developer promoting %v: %q", body, apiErr.Message)
		}
	}
	// An admin may send development's build straight to production.
	e.must(http.StatusAccepted, http.MethodPost, promote, e.admin, map[string]any{"build": "b-2", "to": "production"}, &got)
	if got.Environment != "production" || got.Build != "b-2" {
		t.Fatalf("skip %+v", got)
	}
	if n, m := len(fake.signals), fake.promotionStarts(); n != 1 || m != 2 {
		t.Fatalf("%d deployments queued and %d promotion workflows, want staging's queued and production's two requests", n, m)
	}

	var deps api.Page[api.EnvironmentDeployments]
	e.must(http.StatusOK, http.MethodGet, apiPath+"/deployments", e.viewer, nil, &deps)
	if len(deps.Items) != 3 || deps.Items[0].Environment != "development" || deps.Items[2].Current == nil ||
		deps.Items[2].Current.Build != "b-1" || len(deps.Items[2].History) != 1 || len(deps.Items[1].History) != 2 {
		t.Fatalf("deployments %+v", deps.Items)
	}
}

func TestDeploymentsShowDrift(t *testing.T) {
	var mu sync.Mutex
	var asked []string
	e, _ := newBuildEnv(t, func(d *Deps) {
		d.Drift = func(_ context.Context, env store.Environment, component string) (*api.Drift, error) {
			mu.Lock()
			asked = append(asked, env.Name+"/"+component)
			mu.Unlock()
			switch env.Name {
			case "development":
				return &api.Drift{Detected: true, Message: "spec.replicas changed by kubectl-scale"}, nil
			default:
				return nil, errors.New("cluster unreachable")
			}
		}
	})
	e.succeededBuild("b-1")
	e.serving("development", "b-1")
	e.serving("production", "b-1")
	var deps api.Page[api.EnvironmentDeployments]
	e.must(http.StatusOK, http.MethodGet, apiPath+"/deployments", e.viewer, nil, &deps)
	dev, prod := deps.Items[0], deps.Items[1]
	if dev.Drift == nil || !dev.Drift.Detected || dev.Drift.Message != "spec.replicas changed by kubectl-scale" {
		t.Fatalf("development drift %+v", dev.Drift)
	}
	if prod.Drift != nil || prod.DriftError != "the data plane of production could not be read (see slipway's log)" {
		t.Fatalf("production drift %+v, error %q", prod.Drift, prod.DriftError)
	}
	slices.Sort(asked)
	if strings.Join(asked, ",") != "development/api,production/api" {
		t.Fatalf("drift asked for %v: only environments with a current release are checked", asked)
	}
}
