package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"

	"github.com/slipway-dev/slipway/api"
	"github.com/slipway-dev/slipway/delivery"
	"github.com/slipway-dev/slipway/gitsource"
	"github.com/slipway-dev/slipway/store"
	"github.com/slipway-dev/slipway/workflows"
)

// fakeTemporal is the part of client.Client the build handlers use; any other method panics (nil embedded).
type fakeTemporal struct {
	client.Client

	mu        sync.Mutex
	starts    []fakeStart
	startErr  error
	steps     []workflows.Step
	queryErr  error
	queries   []string // "workflowID run runID query"
	cancels   []string // "workflowID run runID"
	cancelErr error
	signals   []fakeSignal
	signalErr error
}

// fakeSignal is one SignalWithStartWorkflow call.
type fakeSignal struct {
	workflowID, signal string
	arg                any
	opts               client.StartWorkflowOptions
}

func (f *fakeTemporal) SignalWithStartWorkflow(_ context.Context, workflowID, signal string, arg any,
	opts client.StartWorkflowOptions, _ any, _ ...any) (client.WorkflowRun, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.signals = append(f.signals, fakeSignal{workflowID: workflowID, signal: signal, arg: arg, opts: opts})
	if f.signalErr != nil {
		return nil, f.signalErr
	}
	return fakeRun{id: workflowID, runID: "run-deploy"}, nil
}

// fakeStart is one ExecuteWorkflow call.
type fakeStart struct {
	opts     client.StartWorkflowOptions
	workflow any
	args     []any
}

func (f *fakeTemporal) SignalWorkflow(_ context.Context, workflowID, runID, signal string, arg any) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.signals = append(f.signals, fakeSignal{workflowID: workflowID, signal: signal, arg: arg})
	return f.signalErr
}

// promotionStarts counts the Promotion workflows started.
func (f *fakeTemporal) promotionStarts() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, s := range f.starts {
		if strings.HasPrefix(s.opts.ID, "promotion/") {
			n++
		}
	}
	return n
}

func (f *fakeTemporal) ExecuteWorkflow(_ context.Context, opts client.StartWorkflowOptions, wf any, args ...any) (client.WorkflowRun, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.starts = append(f.starts, fakeStart{opts: opts, workflow: wf, args: args})
	if f.startErr != nil {
		return nil, f.startErr
	}
	return fakeRun{id: opts.ID, runID: fmt.Sprintf("run-%d", len(f.starts))}, nil
}

func (f *fakeTemporal) QueryWorkflow(_ context.Context, workflowID, runID, query string, _ ...any) (converter.EncodedValue, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.queries = append(f.queries, workflowID+" run "+runID+" "+query)
	if f.queryErr != nil {
		return nil, f.queryErr
	}
	return jsonValue{v: f.steps}, nil
}

func (f *fakeTemporal) CancelWorkflow(_ context.Context, workflowID, runID string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cancels = append(f.cancels, workflowID+" run "+runID)
	return f.cancelErr
}

// set changes the fake's behaviour under its lock.
func (f *fakeTemporal) set(fn func(f *fakeTemporal)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

func (f *fakeTemporal) startCalls() []fakeStart {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]fakeStart(nil), f.starts...)
}

func (f *fakeTemporal) queryCalls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.queries...)
}

func (f *fakeTemporal) cancelCalls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.cancels...)
}

// fakeRun is the run ExecuteWorkflow returns.
type fakeRun struct {
	client.WorkflowRun
	id, runID string
}

func (r fakeRun) GetID() string    { return r.id }
func (r fakeRun) GetRunID() string { return r.runID }

// Get answers as a workflow that ended with a zero result.
func (r fakeRun) Get(context.Context, any) error { return nil }

// jsonValue is a query result encoded as the default data converter does (JSON).
type jsonValue struct{ v any }

func (j jsonValue) HasValue() bool { return j.v != nil }

func (j jsonValue) Get(ptr any) error {
	data, err := json.Marshal(j.v)
	if err != nil {
		return err
	}
	return json.Unmarshal(data, ptr)
}

// Commits of the fake repository.
const (
	shaMain = "1111111111111111111111111111111111111111"
	shaTag  = "2222222222222222222222222222222222222222"
	apiRepo = "https://git.example.com/acme/api.git"
)

// fakeResolve knows branch main (also as short SHA 1111111), tag v1.0, a ref refused by the server and a ref
// whose lookup fails in transit.
func fakeResolve(_ context.Context, repo, ref string, _ gitsource.Auth) (string, error) {
	switch ref {
	case "main", "1111111", shaMain:
		return shaMain, nil
	case "v1.0":
		return shaTag, nil
	case "private":
		return "", fmt.Errorf("resolving %q in %s: %w", ref, repo, gitsource.ErrAuth)
	case "flaky":
		return "", fmt.Errorf("resolving %q in %s: connection reset by peer", ref, repo)
	}
	return "", fmt.Errorf("resolving %q in %s: %w: no branch or tag named %q", ref, repo, gitsource.ErrUnknownRef, ref)
}

// newBuildEnv is a testEnv with a fake Temporal, a registry, fakeResolve and component shop/api.
func newBuildEnv(t *testing.T, adjust ...func(*Deps)) (*testEnv, *fakeTemporal) {
	t.Helper()
	fake := &fakeTemporal{}
	e := newTestEnv(t, append([]func(*Deps){func(d *Deps) {
		d.Temporal = fake
		d.Registry = "registry.test:5000"
		d.Resolve = fakeResolve
	}}, adjust...)...)
	e.createProject("shop")
	e.must(http.StatusCreated, http.MethodPost, "/api/v1/projects/shop/components", e.developer, map[string]any{
		"name": "api", "repo": apiRepo, "dockerfile": "build/api.Dockerfile", "context": "svc",
	}, nil)
	return e, fake
}

const triggerPath = "/api/v1/projects/shop/components/api/builds"

// trigger posts a build request and decodes the answer, failing unless the status is want.
func (e *testEnv) trigger(want int, body any) api.BuildAccepted {
	e.t.Helper()
	var got api.BuildAccepted
	e.must(want, http.MethodPost, triggerPath, e.developer, body, &got)
	return got
}

// storedBuilds lists every build of shop/api from the store.
func (e *testEnv) storedBuilds() []store.Build {
	e.t.Helper()
	bs, err := e.st.ListBuilds(context.Background(), "shop", "api", "", 500)
	if err != nil {
		e.t.Fatalf("listing builds: %v", err)
	}
	return bs
}

func (e *testEnv) storedBuild(id string) store.Build {
	e.t.Helper()
	b, err := e.st.GetBuild(context.Background(), id)
	if err != nil {
		e.t.Fatalf("getting build %s: %v", id, err)
	}
	return b
}

func TestTriggerBuildStartsWorkflow(t *testing.T) {
	e, fake := newBuildEnv(t)
	// A secret of the component must not reach the workflow.
	e.must(http.StatusCreated, http.MethodPut, "/api/v1/projects/shop/components/api/environments/development/configs/DB_PASSWORD",
		e.developer, map[string]any{"value": "hunter2-very-secret", "secret": true}, nil)

	got := e.trigger(http.StatusAccepted, nil) // no body: the head of the component's branch
	wantWID := "build/shop/api/" + shaMain
	want := api.BuildAccepted{ID: delivery.BuildID(wantWID), WorkflowID: wantWID, Commit: shaMain, Status: api.BuildQueued}
	if got != want {
		t.Fatalf("trigger answered %+v, want %+v", got, want)
	}

	starts := fake.startCalls()
	if len(starts) != 1 {
		t.Fatalf("ExecuteWorkflow called %d times, want 1", len(starts))
	}
	st := starts[0]
	if st.opts.ID != wantWID || st.opts.TaskQueue != workflows.TaskQueue ||
		st.opts.WorkflowIDConflictPolicy != enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING ||
		st.opts.WorkflowIDReusePolicy != enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE {
		t.Errorf("start options %+v", st.opts)
	}
	for key, value := range map[string]string{
		workflows.SearchAttrProject: "shop", workflows.SearchAttrComponent: "api",
		workflows.SearchAttrCommit: shaMain, workflows.SearchAttrTrigger: "manual",
	} {
		if v, ok := st.opts.TypedSearchAttributes.GetKeyword(temporal.NewSearchAttributeKeyKeyword(key)); !ok || v != value {
			t.Errorf("search attribute %s = %q (set %v), want %q", key, v, ok, value)
		}
	}
	if n := st.opts.TypedSearchAttributes.Size(); n != 4 {
		t.Errorf("%d search attributes, want 4", n)
	}
	if reflect.ValueOf(st.workflow).Pointer() != reflect.ValueOf(workflows.BuildPipeline).Pointer() {
		t.Errorf("started workflow %v, want workflows.BuildPipeline", st.workflow)
	}
	wantIn := workflows.BuildPipelineInput{
		BuildID: got.ID, Project: "shop", Component: "api", Repo: apiRepo, Commit: shaMain,
		Dockerfile: "build/api.Dockerfile", Context: "svc", Repository: "registry.test:5000/shop/api", Type: api.ComponentService,
	}
	if len(st.args) != 1 || st.args[0] != wantIn {
		t.Errorf("workflow args %+v, want [%+v]", st.args, wantIn)
	}
	payload, err := json.Marshal(st.args)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{e.developer, "hunter2-very-secret"} {
		if strings.Contains(string(payload), secret) {
			t.Errorf("workflow input %s holds a secret", payload)
		}
	}

	b := e.storedBuild(got.ID)
	if b.Status != api.BuildQueued || b.WorkflowID != wantWID || b.RunID != "run-1" || b.Commit != shaMain ||
		b.Trigger != (store.Trigger{Kind: "manual", Actor: "dev"}) {
		t.Errorf("stored build %+v", b)
	}
}

func TestTriggerSameCommitReturnsExistingBuild(t *testing.T) {
	e, fake := newBuildEnv(t)
	first := e.trigger(http.StatusAccepted, map[string]any{})
	for _, body := range []any{map[string]any{"commit": "main"}, map[string]any{"commit": "1111111"}, map[string]any{"commit": shaMain, "rebuild": false}} {
		again := e.trigger(http.StatusOK, body)
		if again.ID != first.ID || again.WorkflowID != first.WorkflowID || !again.Existing || again.Status != api.BuildQueued {
			t.Errorf("trigger %v answered %+v, want the existing build %s", body, again, first.ID)
		}
	}
	if n := len(fake.startCalls()); n != 1 {
		t.Errorf("ExecuteWorkflow called %d times, want 1", n)
	}
	if n := len(e.storedBuilds()); n != 1 {
		t.Errorf("%d builds stored, want 1", n)
	}

	tag := e.trigger(http.StatusAccepted, map[string]any{"commit": "v1.0"})
	if tag.Commit != shaTag || tag.ID == first.ID || tag.Existing {
		t.Errorf("trigger of tag v1.0 answered %+v", tag)
	}
}

func TestRebuildGetsNewID(t *testing.T) {
	e, fake := newBuildEnv(t)
	first := e.trigger(http.StatusAccepted, nil)
	second := e.trigger(http.StatusAccepted, map[string]any{"rebuild": true})
	third := e.trigger(http.StatusAccepted, map[string]any{"commit": "main", "rebuild": true})
	if second.WorkflowID != first.WorkflowID+"/rebuild-2" || third.WorkflowID != first.WorkflowID+"/rebuild-3" {
		t.Errorf("rebuild workflow IDs %q, %q; want %q + /rebuild-2 and -3", second.WorkflowID, third.WorkflowID, first.WorkflowID)
	}
	if second.ID == first.ID || third.ID == second.ID || second.Existing || third.Existing {
		t.Errorf("rebuilds answered %+v, %+v", second, third)
	}
	starts := fake.startCalls()
	if len(starts) != 3 || starts[2].opts.ID != third.WorkflowID || starts[2].args[0].(workflows.BuildPipelineInput).BuildID != third.ID {
		t.Errorf("starts %+v", starts)
	}
	// Without rebuild, the commit's newest run is the answer: the rebuild is the commit's build now.
	if again := e.trigger(http.StatusOK, nil); again.ID != third.ID || !again.Existing {
		t.Errorf("trigger after rebuilds answered %+v, want existing %s", again, third.ID)
	}
	// The list and the detail say which run of the commit is current.
	var list api.Page[api.Build]
	e.must(http.StatusOK, http.MethodGet, triggerPath, e.viewer, nil, &list)
	superseded := map[string]string{}
	for _, b := range list.Items {
		superseded[b.ID] = b.SupersededBy
	}
	if len(list.Items) != 3 || superseded[third.ID] != "" || superseded[second.ID] != third.ID || superseded[first.ID] != third.ID {
		t.Errorf("list marks superseded runs %v, want %s and %s superseded by %s", superseded, first.ID, second.ID, third.ID)
	}
	var detail api.Build
	e.must(http.StatusOK, http.MethodGet, "/api/v1/builds/"+first.ID, e.viewer, nil, &detail)
	if detail.SupersededBy != third.ID {
		t.Errorf("detail of the first run says supersededBy %q, want %s", detail.SupersededBy, third.ID)
	}
	// A rebuild of a commit never built is its first build.
	if tag := e.trigger(http.StatusAccepted, map[string]any{"commit": "v1.0", "rebuild": true}); tag.WorkflowID != "build/shop/api/"+shaTag {
		t.Errorf("rebuild of a new commit answered %+v", tag)
	}
}

func TestTriggerRefusesBadCommitsAndStoresNothing(t *testing.T) {
	e, fake := newBuildEnv(t)
	apiErr := wantError(t, e.do(http.MethodPost, triggerPath, e.developer, map[string]any{"commit": "nope"}),
		http.StatusUnprocessableEntity, "unknown_commit", "commit")
	if !strings.Contains(apiErr.Message, `"nope"`) {
		t.Errorf("message %q does not name the commit", apiErr.Message)
	}
	wantError(t, e.do(http.MethodPost, triggerPath, e.developer, map[string]any{"commit": "a..b"}), http.StatusUnprocessableEntity, "invalid", "commit")
	wantError(t, e.do(http.MethodPost, triggerPath, e.developer, map[string]any{"commit": 7}), http.StatusUnprocessableEntity, "invalid", "commit")
	wantError(t, e.do(http.MethodPost, triggerPath, e.developer, map[string]any{"ref": "main"}), http.StatusBadRequest, "unknown_field", "ref")
	wantError(t, e.do(http.MethodPost, triggerPath, e.developer, map[string]any{"commit": "private"}), http.StatusUnprocessableEntity, "repo_auth_failed", "repo")
	wantError(t, e.do(http.MethodPost, triggerPath, e.developer, map[string]any{"commit": "flaky"}), http.StatusBadGateway, "git_unavailable", "")
	wantError(t, e.do(http.MethodPost, "/api/v1/projects/shop/components/nope/builds", e.developer, nil), http.StatusNotFound, "not_found", "")
	if n := len(fake.startCalls()); n != 0 {
		t.Errorf("ExecuteWorkflow called %d times, want 0", n)
	}
	if bs := e.storedBuilds(); len(bs) != 0 {
		t.Errorf("builds stored: %+v", bs)
	}
}

func TestTriggerResolvesTheComponentBranch(t *testing.T) {
	var mu sync.Mutex
	var asked []string
	e, _ := newBuildEnv(t, func(d *Deps) {
		d.Resolve = func(ctx context.Context, repo, ref string, _ gitsource.Auth) (string, error) {
			mu.Lock()
			defer mu.Unlock()
			asked = append(asked, repo+" "+ref)
			return shaMain, nil
		}
	})
	e.must(http.StatusOK, http.MethodPatch, "/api/v1/projects/shop/components/api", e.developer, map[string]any{"branch": "release/1.x"}, nil)
	e.trigger(http.StatusAccepted, nil)
	e.trigger(http.StatusOK, map[string]any{"commit": "v2"})
	mu.Lock()
	defer mu.Unlock()
	if want := []string{apiRepo + " release/1.x", apiRepo + " v2"}; !reflect.DeepEqual(asked, want) {
		t.Errorf("resolved %q, want %q", asked, want)
	}
}

func TestTriggerWhenTemporalIsDown(t *testing.T) {
	e, fake := newBuildEnv(t)
	fake.set(func(f *fakeTemporal) { f.startErr = serviceerror.NewUnavailable("connection refused") })
	wantError(t, e.do(http.MethodPost, triggerPath, e.developer, nil), http.StatusServiceUnavailable, "temporal_unavailable", "")

	bs := e.storedBuilds()
	if len(bs) != 1 {
		t.Fatalf("builds stored: %+v, want the one that could not start", bs)
	}
	if b := bs[0]; b.Status != api.BuildFailed || !strings.Contains(b.Error, "connection refused") || b.EndedAt == nil || b.RunID != "" {
		t.Errorf("build that could not start is %+v, want failed with the reason", b)
	}

	// Temporal is back: the next trigger builds the commit under a new ID, and the one after finds that build.
	fake.set(func(f *fakeTemporal) { f.startErr = nil })
	got := e.trigger(http.StatusAccepted, nil)
	if got.WorkflowID != "build/shop/api/"+shaMain+"/rebuild-2" || got.Existing {
		t.Errorf("trigger after Temporal came back answered %+v", got)
	}
	if again := e.trigger(http.StatusOK, nil); again.ID != got.ID || !again.Existing {
		t.Errorf("trigger after that answered %+v, want the existing %s", again, got.ID)
	}
	for _, b := range e.storedBuilds() {
		if b.Status == api.BuildQueued && b.RunID == "" {
			t.Errorf("dangling queued build %+v", b)
		}
	}

	// Other refusals fail the build too, but are not "unavailable".
	fake.set(func(f *fakeTemporal) {
		f.startErr = serviceerror.NewInvalidArgument("search attribute SlipwayCommit is not registered")
	})
	wantError(t, e.do(http.MethodPost, triggerPath, e.developer, map[string]any{"commit": "v1.0"}), http.StatusInternalServerError, "internal", "")
	var tagBuilds []store.Build
	for _, b := range e.storedBuilds() {
		if b.Commit == shaTag {
			tagBuilds = append(tagBuilds, b)
		}
	}
	if len(tagBuilds) != 1 || tagBuilds[0].Status != api.BuildFailed || !strings.Contains(tagBuilds[0].Error, "not registered") {
		t.Errorf("builds of the tag %+v, want one failed with the reason", tagBuilds)
	}
}

func TestTriggerWithoutTemporalOrRegistry(t *testing.T) {
	e, _ := newBuildEnv(t, func(d *Deps) { d.Temporal = nil })
	wantError(t, e.do(http.MethodPost, triggerPath, e.developer, nil), http.StatusServiceUnavailable, "temporal_unavailable", "")
	if bs := e.storedBuilds(); len(bs) != 0 {
		t.Errorf("builds stored without Temporal: %+v", bs)
	}
	if _, err := e.st.CreateBuild(context.Background(), store.Build{ID: "b-1", Project: "shop", Component: "api", Commit: shaMain, WorkflowID: "w"}); err != nil {
		t.Fatal(err)
	}
	wantError(t, e.do(http.MethodPost, "/api/v1/builds/b-1/cancel", e.developer, nil), http.StatusServiceUnavailable, "temporal_unavailable", "")
	var v api.Build
	e.must(http.StatusOK, http.MethodGet, "/api/v1/builds/b-1", e.viewer, nil, &v) // stored steps, no query
	if v.ID != "b-1" || v.Steps == nil {
		t.Errorf("detail without Temporal %+v", v)
	}
	e2, fake := newBuildEnv(t, func(d *Deps) { d.Registry = "" })
	wantError(t, e2.do(http.MethodPost, triggerPath, e2.developer, nil), http.StatusServiceUnavailable, "registry_not_configured", "")
	if len(fake.startCalls()) != 0 || len(e2.storedBuilds()) != 0 {
		t.Error("a build was started without a registry")
	}
}

func TestTriggerStartsAQueuedBuildLeftWithoutRun(t *testing.T) {
	e, fake := newBuildEnv(t)
	e.srv.builds.QueuedGrace = 0 // the build below was left queued long ago
	// As if the API died between storing the build and starting its workflow.
	wid := workflows.BuildWorkflowID("shop", "api", shaMain, 1)
	if _, err := e.st.CreateBuild(context.Background(), store.Build{ID: delivery.BuildID(wid), Project: "shop", Component: "api",
		Commit: shaMain, Trigger: store.Trigger{Kind: "manual", Actor: "dev"}, WorkflowID: wid}); err != nil {
		t.Fatal(err)
	}
	got := e.trigger(http.StatusOK, nil)
	if got.ID != delivery.BuildID(wid) || !got.Existing {
		t.Errorf("trigger answered %+v, want the existing build", got)
	}
	starts := fake.startCalls()
	if len(starts) != 1 || starts[0].opts.ID != wid || starts[0].opts.WorkflowIDConflictPolicy != enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING {
		t.Errorf("starts %+v, want one of %s with USE_EXISTING", starts, wid)
	}
	if b := e.storedBuild(got.ID); b.RunID != "run-1" {
		t.Errorf("run not recorded: %+v", b)
	}
	e.trigger(http.StatusOK, nil)
	if n := len(fake.startCalls()); n != 1 {
		t.Errorf("ExecuteWorkflow called %d times, want 1", n)
	}
}

func TestViewerCannotTriggerOrCancel(t *testing.T) {
	e, fake := newBuildEnv(t)
	wantError(t, e.do(http.MethodPost, triggerPath, e.viewer, nil), http.StatusForbidden, "forbidden", "")
	got := e.trigger(http.StatusAccepted, nil)
	wantError(t, e.do(http.MethodPost, "/api/v1/builds/"+got.ID+"/cancel", e.viewer, nil), http.StatusForbidden, "forbidden", "")
	wantError(t, e.do(http.MethodGet, "/api/v1/builds/"+got.ID, "", nil), http.StatusUnauthorized, "unauthorized", "")
	if len(fake.startCalls()) != 1 || len(fake.cancelCalls()) != 0 {
		t.Error("a refused request reached Temporal")
	}
	e.must(http.StatusOK, http.MethodGet, "/api/v1/builds/"+got.ID, e.viewer, nil, nil)
	e.must(http.StatusOK, http.MethodGet, triggerPath, e.viewer, nil, nil)
	e.must(http.StatusOK, http.MethodGet, "/api/v1/builds/"+got.ID+"/logs", e.viewer, nil, nil)
}

func TestBuildDetailUsesQueryWhileRunning(t *testing.T) {
	e, fake := newBuildEnv(t)
	got := e.trigger(http.StatusAccepted, nil)
	path := "/api/v1/builds/" + got.ID
	t0 := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	t1 := t0.Add(3 * time.Second)
	fake.set(func(f *fakeTemporal) {
		f.steps = []workflows.Step{
			{Name: "checkout", Status: "succeeded", StartedAt: &t0, EndedAt: &t1},
			{Name: "build", Status: "running", StartedAt: &t1},
			{Name: "push", Status: "pending"},
		}
	})
	if _, err := e.st.UpdateBuild(context.Background(), got.ID, func(b *store.Build) error {
		b.Status, b.StartedAt = api.BuildRunning, &t0
		b.Steps = []store.Step{{Name: "checkout", Status: "running", StartedAt: &t0}}
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	var v api.Build
	rec := e.must(http.StatusOK, http.MethodGet, path, e.viewer, nil, &v)
	if len(v.Steps) != 3 || v.Steps[0].Status != "succeeded" || v.Steps[2].Status != "pending" ||
		v.Steps[1].Name != "build" || v.Steps[1].Status != "running" || v.Steps[1].StartedAt == nil ||
		!v.Steps[1].StartedAt.Equal(t1) || v.Steps[1].EndedAt != nil {
		t.Errorf("steps %+v, want the query's", v.Steps)
	}
	if q := fake.queryCalls(); len(q) != 1 || q[0] != got.WorkflowID+" run run-1 "+workflows.QueryBuildSteps {
		t.Errorf("queries %q", q)
	}
	if v.ID != got.ID || v.Project != "shop" || v.Component != "api" || v.Status != api.BuildRunning || v.Commit != shaMain ||
		v.WorkflowID != got.WorkflowID || v.RunID != "run-1" || v.Trigger != (api.Trigger{Kind: "manual", Actor: "dev"}) ||
		v.StartedAt == nil || !v.StartedAt.Equal(t0) || v.EndedAt != nil || v.CreatedAt.IsZero() {
		t.Errorf("detail %+v", v)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(rec.Body.Bytes(), &raw); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"id", "status", "commit", "trigger", "digest", "steps", "required", "project", "component", "createdAt", "startedAt", "imageSize", "workflowId"} {
		if _, ok := raw[key]; !ok {
			t.Errorf("detail %s lacks %q", rec.Body, key)
		}
	}
	if string(raw["required"]) != "[]" {
		t.Errorf("required = %s, want []", raw["required"])
	}
	if _, ok := raw["error"]; ok {
		t.Errorf("detail of a running build has an error: %s", rec.Body)
	}

	// The query fails: the stored steps.
	fake.set(func(f *fakeTemporal) { f.queryErr = serviceerror.NewUnavailable("no worker") })
	e.must(http.StatusOK, http.MethodGet, path, e.viewer, nil, &v)
	if len(v.Steps) != 1 || v.Steps[0].Name != "checkout" || v.Steps[0].Status != "running" {
		t.Errorf("steps after a failed query %+v, want the stored ones", v.Steps)
	}

	// Finished: the stored record, no query.
	fake.set(func(f *fakeTemporal) { f.queryErr = nil })
	if _, err := e.st.UpdateBuild(context.Background(), got.ID, func(b *store.Build) error {
		b.Status, b.Error, b.EndedAt = api.BuildFailed, "BuildFailed: RUN make: exit code 2", &t1
		b.Steps = []store.Step{{Name: "checkout", Status: "succeeded", StartedAt: &t0, EndedAt: &t1}, {Name: "build", Status: "failed", StartedAt: &t1, EndedAt: &t1}}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	queries := len(fake.queryCalls())
	e.must(http.StatusOK, http.MethodGet, path, e.viewer, nil, &v)
	if len(fake.queryCalls()) != queries {
		t.Error("a finished build was queried")
	}
	if v.Status != api.BuildFailed || v.Error != "BuildFailed: RUN make: exit code 2" || len(v.Steps) != 2 || v.Steps[1].Status != "failed" || v.EndedAt == nil {
		t.Errorf("finished detail %+v", v)
	}
	wantError(t, e.do(http.MethodGet, "/api/v1/builds/b-nope", e.viewer, nil), http.StatusNotFound, "not_found", "")
}

func TestListBuildsPagesAndFilters(t *testing.T) {
	e, _ := newBuildEnv(t)
	ctx := context.Background()
	for i := 1; i <= 5; i++ {
		if _, err := e.st.CreateBuild(ctx, store.Build{ID: fmt.Sprintf("b-%02d", i), Project: "shop", Component: "api",
			Commit: fmt.Sprintf("%040d", i), Trigger: store.Trigger{Kind: "manual"}}); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range []string{"b-02", "b-04"} {
		if _, err := e.st.UpdateBuild(ctx, id, func(b *store.Build) error { b.Status = api.BuildFailed; return nil }); err != nil {
			t.Fatal(err)
		}
	}
	e.createComponent("shop", "web")
	if _, err := e.st.CreateBuild(ctx, store.Build{ID: "b-web", Project: "shop", Component: "web", Commit: shaMain}); err != nil {
		t.Fatal(err)
	}

	list := func(query string) (ids []string, next string) {
		t.Helper()
		var p api.Page[api.Build]
		e.must(http.StatusOK, http.MethodGet, triggerPath+query, e.viewer, nil, &p)
		for _, b := range p.Items {
			ids = append(ids, b.ID)
		}
		return ids, p.Next
	}
	check := func(query string, wantIDs []string, wantNext string) {
		t.Helper()
		ids, next := list(query)
		if !reflect.DeepEqual(ids, wantIDs) || next != wantNext {
			t.Errorf("GET builds%s = %v next %q, want %v next %q", query, ids, next, wantIDs, wantNext)
		}
	}
	check("", []string{"b-05", "b-04", "b-03", "b-02", "b-01"}, "")
	check("?limit=2", []string{"b-05", "b-04"}, "b-04")
	check("?limit=2&cursor=b-04", []string{"b-03", "b-02"}, "b-02")
	check("?limit=2&cursor=b-02", []string{"b-01"}, "")
	check("?limit=5", []string{"b-05", "b-04", "b-03", "b-02", "b-01"}, "")
	check("?status=failed", []string{"b-04", "b-02"}, "")
	check("?status=failed&limit=1", []string{"b-04"}, "b-04")
	check("?status=failed&limit=1&cursor=b-04", []string{"b-02"}, "")
	check("?status=queued,failed&limit=3", []string{"b-05", "b-04", "b-03"}, "b-03")
	check("?status=succeeded", nil, "")

	var p api.Page[api.Build]
	rec := e.must(http.StatusOK, http.MethodGet, triggerPath+"?status=succeeded", e.viewer, nil, &p)
	if !strings.Contains(rec.Body.String(), `"items":[]`) {
		t.Errorf("empty list is %s, want items []", rec.Body)
	}

	wantError(t, e.do(http.MethodGet, triggerPath+"?limit=0", e.viewer, nil), http.StatusUnprocessableEntity, "invalid", "limit")
	wantError(t, e.do(http.MethodGet, triggerPath+"?limit=x", e.viewer, nil), http.StatusUnprocessableEntity, "invalid", "limit")
	wantError(t, e.do(http.MethodGet, triggerPath+"?status=done", e.viewer, nil), http.StatusUnprocessableEntity, "invalid", "status")
	wantError(t, e.do(http.MethodGet, triggerPath+"?cursor=b-nope", e.viewer, nil), http.StatusUnprocessableEntity, "invalid", "cursor")
	wantError(t, e.do(http.MethodGet, triggerPath+"?cursor=b-web", e.viewer, nil), http.StatusUnprocessableEntity, "invalid", "cursor")
	wantError(t, e.do(http.MethodGet, "/api/v1/projects/shop/components/nope/builds", e.viewer, nil), http.StatusNotFound, "not_found", "")
}

func TestCancelBuild(t *testing.T) {
	e, fake := newBuildEnv(t)
	got := e.trigger(http.StatusAccepted, nil)
	path := "/api/v1/builds/" + got.ID + "/cancel"
	var c api.BuildCancellation
	e.must(http.StatusAccepted, http.MethodPost, path, e.developer, nil, &c)
	if c != (api.BuildCancellation{ID: got.ID, WorkflowID: got.WorkflowID, Status: api.BuildQueued, CancelRequested: true}) {
		t.Errorf("cancel answered %+v", c)
	}
	if calls := fake.cancelCalls(); len(calls) != 1 || calls[0] != got.WorkflowID+" run run-1" {
		t.Errorf("CancelWorkflow calls %q", calls)
	}

	fake.set(func(f *fakeTemporal) {
		f.cancelErr = serviceerror.NewCancellationAlreadyRequested("cancellation already requested")
	})
	e.must(http.StatusAccepted, http.MethodPost, path, e.developer, nil, nil)
	fake.set(func(f *fakeTemporal) { f.cancelErr = serviceerror.NewUnavailable("connection refused") })
	wantError(t, e.do(http.MethodPost, path, e.developer, nil), http.StatusServiceUnavailable, "temporal_unavailable", "")
	fake.set(func(f *fakeTemporal) { f.cancelErr = serviceerror.NewNotFound("workflow execution already completed") })
	wantError(t, e.do(http.MethodPost, path, e.developer, nil), http.StatusConflict, "build_finished", "")

	fake.set(func(f *fakeTemporal) { f.cancelErr = nil })
	if _, err := e.st.UpdateBuild(context.Background(), got.ID, func(b *store.Build) error { b.Status = api.BuildCancelled; return nil }); err != nil {
		t.Fatal(err)
	}
	calls := len(fake.cancelCalls())
	wantError(t, e.do(http.MethodPost, path, e.developer, nil), http.StatusConflict, "build_finished", "")
	if len(fake.cancelCalls()) != calls {
		t.Error("a finished build's workflow was cancelled")
	}
	wantError(t, e.do(http.MethodPost, "/api/v1/builds/b-nope/cancel", e.developer, nil), http.StatusNotFound, "not_found", "")
}
