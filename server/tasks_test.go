package server

import (
	"context"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/slipway-dev/slipway/api"
	"github.com/slipway-dev/slipway/store"
	"github.com/slipway-dev/slipway/workflows"
)

// fakeSchedules is the part of client.ScheduleClient the schedule handlers use; it keeps Schedules by ID.
type fakeSchedules struct {
	client.ScheduleClient
	mu    sync.Mutex
	made  map[string]client.ScheduleOptions
	calls []string // "create ID", "update ID", "pause ID", "unpause ID", "delete ID"
}

func (f *fakeSchedules) Create(_ context.Context, o client.ScheduleOptions) (client.ScheduleHandle, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "create "+o.ID)
	if _, ok := f.made[o.ID]; ok {
		return nil, temporal.ErrScheduleAlreadyRunning
	}
	f.made[o.ID] = o
	return f.handle(o.ID), nil
}

func (f *fakeSchedules) GetHandle(_ context.Context, id string) client.ScheduleHandle {
	return f.handle(id)
}

func (f *fakeSchedules) handle(id string) client.ScheduleHandle {
	return &fakeScheduleHandle{f: f, id: id}
}

func (f *fakeSchedules) record(call string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, call)
}

type fakeScheduleHandle struct {
	client.ScheduleHandle
	f  *fakeSchedules
	id string
}

func (h *fakeScheduleHandle) Update(_ context.Context, o client.ScheduleUpdateOptions) error {
	h.f.mu.Lock()
	made := h.f.made[h.id]
	h.f.mu.Unlock()
	up, err := o.DoUpdate(client.ScheduleUpdateInput{Description: client.ScheduleDescription{Schedule: client.Schedule{
		Spec: &made.Spec, Action: made.Action, Policy: &client.SchedulePolicies{Overlap: made.Overlap}}}})
	if err != nil {
		return err
	}
	h.f.mu.Lock()
	made.Spec, made.Action, made.Overlap = *up.Schedule.Spec, up.Schedule.Action, up.Schedule.Policy.Overlap
	h.f.made[h.id] = made
	h.f.calls = append(h.f.calls, "update "+h.id)
	h.f.mu.Unlock()
	return nil
}

func (h *fakeScheduleHandle) Pause(context.Context, client.SchedulePauseOptions) error {
	h.f.record("pause " + h.id)
	return nil
}

func (h *fakeScheduleHandle) Unpause(context.Context, client.ScheduleUnpauseOptions) error {
	h.f.record("unpause " + h.id)
	return nil
}

func (h *fakeScheduleHandle) Delete(context.Context) error {
	h.f.mu.Lock()
	defer h.f.mu.Unlock()
	delete(h.f.made, h.id)
	h.f.calls = append(h.f.calls, "delete "+h.id)
	return nil
}

// fakeTaskTemporal adds Schedules to fakeTemporal.
type fakeTaskTemporal struct {
	*fakeTemporal
	schedules *fakeSchedules
}

func (f fakeTaskTemporal) ScheduleClient() client.ScheduleClient { return f.schedules }

// newTaskEnv is a test server with a fake Temporal that keeps Schedules, and shop/nightly, a scheduled task.
func newTaskEnv(t *testing.T) (*testEnv, fakeTaskTemporal) {
	t.Helper()
	fake := fakeTaskTemporal{fakeTemporal: &fakeTemporal{}, schedules: &fakeSchedules{made: map[string]client.ScheduleOptions{}}}
	e := newTestEnv(t, func(d *Deps) { d.Temporal = fake; d.Registry = "registry.test:5000"; d.Resolve = fakeResolve })
	e.createProject("shop")
	e.must(http.StatusCreated, http.MethodPost, "/api/v1/projects/shop/components", e.developer, map[string]any{
		"name": "nightly", "repo": apiRepo, "type": "scheduled-task"}, nil)
	return e, fake
}

const nightlyPath = "/api/v1/projects/shop/components/nightly"

func TestComponentTypeIsCheckedAndKept(t *testing.T) {
	e, _ := newTaskEnv(t)
	var c api.Component
	e.must(http.StatusOK, http.MethodGet, nightlyPath, e.viewer, nil, &c)
	if c.Type != api.ComponentScheduledTask {
		t.Errorf("type = %q, want scheduled-task", c.Type)
	}
	rec := e.do(http.MethodPost, "/api/v1/projects/shop/components", e.developer, map[string]any{"name": "x", "repo": apiRepo, "type": "cronjob"})
	if msg := wantError(t, rec, http.StatusUnprocessableEntity, "invalid", "type"); !strings.Contains(msg.Message, "web-app") {
		t.Errorf("the refusal %q does not list the types", msg.Message)
	}
	e.must(http.StatusOK, http.MethodPatch, nightlyPath, e.developer, map[string]any{"type": nil}, &c)
	if c.Type != api.ComponentService {
		t.Errorf("type reset by null = %q, want service", c.Type)
	}
}

func TestScheduleMakesTemporalSchedule(t *testing.T) {
	e, fake := newTaskEnv(t)
	sched := nightlyPath + "/environments/development/schedule"
	for _, c := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"cron": "61 * * * *"}, "cron"},
		{map[string]any{"cron": ""}, "cron"},
		{map[string]any{"cron": "* * * * *", "timeZone": "Mars/Olympus"}, "timeZone"},
		{map[string]any{"cron": "* * * * *", "overlap": "sometimes"}, "overlap"},
	} {
		wantError(t, e.do(http.MethodPut, sched, e.developer, c.body), http.StatusUnprocessableEntity, "invalid", c.field)
	}
	wantError(t, e.do(http.MethodPut, nightlyPath+"/environments/staging/schedule", e.developer, map[string]any{"cron": "* * * * *"}),
		http.StatusNotFound, "no_environment", "environment")
	e.must(http.StatusForbidden, http.MethodPut, sched, e.viewer, map[string]any{"cron": "* * * * *"}, nil)

	var got api.TaskSchedule
	e.must(http.StatusOK, http.MethodPut, sched, e.developer, map[string]any{"cron": "*/5 * * * *", "timeZone": "Europe/Berlin"}, &got)
	if got.Overlap != api.OverlapSkip || got.TimeZone != "Europe/Berlin" || len(got.Next) != 3 || got.Next[0].Minute()%5 != 0 {
		t.Errorf("schedule = %+v, want skip, Europe/Berlin, 3 next runs on the fives", got)
	}
	id := workflows.TaskScheduleID("shop", "nightly", "development")
	made := fake.schedules.made[id]
	action, _ := made.Action.(*client.ScheduleWorkflowAction)
	if !reflect.DeepEqual(made.Spec.CronExpressions, []string{"*/5 * * * *"}) || made.Spec.TimeZoneName != "Europe/Berlin" || action == nil ||
		action.ID != workflows.TaskRunWorkflowID("shop", "nightly", "development") || action.TaskQueue != workflows.TaskQueue {
		t.Fatalf("Temporal Schedule %+v (action %+v), want the cron in Europe/Berlin starting TaskRun", made, action)
	}
	if in, _ := action.Args[0].(workflows.TaskRunInput); in.Trigger != api.RunTriggerSchedule || in.Environment != "development" {
		t.Errorf("the Schedule starts %+v, want a scheduled run in development", action.Args)
	}

	// Again: the Schedule is updated, paused.
	e.must(http.StatusOK, http.MethodPut, sched, e.developer, map[string]any{"cron": "@hourly", "overlap": "buffer-one", "paused": true}, &got)
	if len(got.Next) != 0 || !got.Paused {
		t.Errorf("paused schedule = %+v, want no next runs", got)
	}
	if c := fake.schedules.calls; !reflect.DeepEqual(c[len(c)-3:], []string{"create " + id, "update " + id, "pause " + id}) {
		t.Errorf("Temporal calls %v, want create refused, update, pause", c)
	}
	e.must(http.StatusOK, http.MethodGet, sched, e.viewer, nil, &got)
	var list api.Page[api.TaskSchedule]
	e.must(http.StatusOK, http.MethodGet, nightlyPath+"/schedules", e.viewer, nil, &list)
	if got.Cron != "@hourly" || len(list.Items) != 1 || list.Items[0].Environment != "development" {
		t.Errorf("read back %+v and %+v, want the @hourly schedule in development", got, list)
	}
	e.must(http.StatusNoContent, http.MethodDelete, sched, e.developer, nil, nil)
	if _, ok := fake.schedules.made[id]; ok {
		t.Errorf("the Temporal Schedule was not deleted")
	}
	e.must(http.StatusNotFound, http.MethodGet, sched, e.viewer, nil, nil)

	// A service has no schedule.
	e.must(http.StatusOK, http.MethodPatch, nightlyPath, e.developer, map[string]any{"type": "service"}, nil)
	wantError(t, e.do(http.MethodPut, sched, e.developer, map[string]any{"cron": "* * * * *"}), http.StatusConflict, "not_scheduled", "type")
}

func TestRunStartsTaskRun(t *testing.T) {
	e, fake := newTaskEnv(t)
	runs := nightlyPath + "/environments/development/runs"
	wantError(t, e.do(http.MethodPost, runs, e.developer, nil), http.StatusConflict, "nothing_deployed", "environment")

	ctx := context.Background()
	if _, err := e.st.CreateBuild(ctx, store.Build{ID: "b-1", Project: "shop", Component: "nightly", Commit: shaMain}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.CreateDeployment(ctx, store.Deployment{ID: "d-1", Project: "shop", Component: "nightly", Environment: "development", BuildID: "b-1"}); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	if _, err := e.st.UpdateDeployment(ctx, "d-1", func(d *store.Deployment) error {
		d.Status, d.EndedAt = api.DeploymentSucceeded, &now
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	e.must(http.StatusForbidden, http.MethodPost, runs, e.viewer, nil, nil)
	var run api.TaskRun
	e.must(http.StatusAccepted, http.MethodPost, runs, e.developer, nil, &run)
	if run.Status != api.RunQueued || run.Build != "b-1" || run.Deployment != "d-1" || run.Trigger != api.RunTriggerManual {
		t.Errorf("run = %+v, want queued, of b-1 through d-1, manual", run)
	}
	starts := fake.startCalls()
	if len(starts) != 1 || workflows.TaskRunID(starts[0].opts.ID) != run.ID ||
		reflect.ValueOf(starts[0].workflow).Pointer() != reflect.ValueOf(workflows.TaskRun).Pointer() {
		t.Fatalf("started %+v, want one TaskRun whose workflow ID gives run %s", starts, run.ID)
	}

	// The worker's side, as the store records it: the output and the exit code.
	if err := e.st.AppendTaskRunLog(ctx, run.ID, "cleaned 3 rows"); err != nil {
		t.Fatal(err)
	}
	code := 0
	if _, err := e.st.UpdateTaskRun(ctx, run.ID, func(r *store.TaskRun) error {
		r.Status, r.ExitCode, r.StartedAt, r.EndedAt = api.RunSucceeded, &code, &now, new(now.Add(1500*time.Millisecond))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	var got api.TaskRun
	e.must(http.StatusOK, http.MethodGet, "/api/v1/runs/"+run.ID, e.viewer, nil, &got)
	if got.ExitCode == nil || *got.ExitCode != 0 || got.DurationSeconds != 1.5 {
		t.Errorf("run = %+v, want exit 0 after 1.5 s", got)
	}
	var list api.Page[api.TaskRun]
	e.must(http.StatusOK, http.MethodGet, nightlyPath+"/runs?environment=development&limit=1", e.viewer, nil, &list)
	if len(list.Items) != 1 || list.Items[0].ID != run.ID {
		t.Errorf("runs = %+v, want the one", list)
	}
	wantError(t, e.do(http.MethodGet, nightlyPath+"/runs?limit=0", e.viewer, nil), http.StatusUnprocessableEntity, "invalid", "limit")
	rec := e.must(http.StatusOK, http.MethodGet, "/api/v1/runs/"+run.ID+"/logs", e.viewer, nil, nil)
	if rec.Body.String() != "cleaned 3 rows\n" {
		t.Errorf("run log %q", rec.Body)
	}
	e.must(http.StatusNotFound, http.MethodGet, "/api/v1/runs/run-nope", e.viewer, nil, nil)

	// A service does not run.
	e.must(http.StatusOK, http.MethodPatch, nightlyPath, e.developer, map[string]any{"type": "service"}, nil)
	wantError(t, e.do(http.MethodPost, runs, e.developer, nil), http.StatusConflict, "not_a_task", "type")
}

func TestConsoleShowsATasksScheduleRunsAndRunNow(t *testing.T) {
	e, _ := newTaskEnv(t)
	ctx := context.Background()
	if _, err := e.st.CreateBuild(ctx, store.Build{ID: "b-1", Project: "shop", Component: "nightly", Commit: shaMain}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.CreateDeployment(ctx, store.Deployment{ID: "d-1", Project: "shop", Component: "nightly", Environment: "development", BuildID: "b-1"}); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	if _, err := e.st.UpdateDeployment(ctx, "d-1", func(d *store.Deployment) error {
		d.Status, d.EndedAt = api.DeploymentSucceeded, &now
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	e.must(http.StatusOK, http.MethodPut, nightlyPath+"/environments/development/schedule", e.developer, map[string]any{"cron": "0 3 * * *"}, nil)
	var run api.TaskRun
	e.must(http.StatusAccepted, http.MethodPost, nightlyPath+"/environments/development/runs", e.developer, nil, &run)

	dev, viewer := e.signIn(e.developer), e.signIn(e.viewer)
	page := dev.page(http.StatusOK, "/projects/shop/components/nightly/deploy")
	for _, want := range []string{"Runs <code>0 3 * * *</code> (UTC)", `data-api="/api/v1/projects/shop/components/nightly/environments/development/runs"`,
		`data-run="` + run.ID + `"`, "/api/v1/runs/" + run.ID + "/logs"} {
		if !strings.Contains(page, want) {
			t.Errorf("the task's Deploy tab lacks %q", want)
		}
	}
	// Nothing is deployed to production, so nothing runs there; a viewer runs nothing.
	if strings.Count(page, "Run now</button>") != 1 {
		t.Errorf("%d Run now buttons, want the development one", strings.Count(page, "Run now</button>"))
	}
	if body := viewer.page(http.StatusOK, "/projects/shop/components/nightly/deploy"); strings.Contains(body, "Run now") || !strings.Contains(body, run.ID) {
		t.Errorf("the viewer's Deploy tab: Run now shown, or the run missing")
	}
	if body := dev.get("/api/v1/runs/" + run.ID + "/logs"); body.Code != http.StatusOK {
		t.Errorf("the run's log through the console's session: %d", body.Code)
	}
}
