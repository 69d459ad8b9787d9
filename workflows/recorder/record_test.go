package recorder

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	sdkworker "go.temporal.io/sdk/worker"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/slipway-dev/slipway/localtemporal"
	"github.com/slipway-dev/slipway/workflows"
)

// recordEnv, set, makes TestRecordHistories rewrite the histories in workflows/testdata.
const recordEnv = "SLIPWAY_RECORD_HISTORIES"

// TestRecordHistories runs BuildPipeline and DeployQueue on the embedded Temporal server, on a worker like
// slipway's (sessions enabled) with the stand-in activities, and records the histories of:
//   - build_pipeline_auto_deploy.json: a build with auto-deploy, which queues its own deployment to the first
//     environment through RequestDeploy (and the deploy queue then rolls it out);
//   - deploy_queue_failed.json: a deploy queue whose second deployment lacks a required secret (CheckRequired
//     fails non-retryably; recorded failed through FailDeployment) and whose third never gets ready (the
//     rollout ends failed), then idles until a fourth is queued, which replaces the first's release;
//   - deploy_queue_continue_as_new.json and deploy_queue_after_continue_as_new.json: a deploy queue sent more
//     requests than one run deploys (the last while it waits for its last retirement, its deployments done),
//     which continues as new carrying the rest, and the run that deploys them;
//   - deploy_queue_rollback.json: a deploy queue whose first release passes its verification (and is offered for
//     auto-promotion) and whose second fails it: the first is deployed again, unverified, and the second retired;
//   - deploy_queue_data_plane.json: the same, recorded after the steps that reach the data plane (rollout,
//     verification, retirement) moved to the Docker data plane's task queue, which a worker of its own polls;
//   - notify.json: a notification whose first POST the hook answers 502, delivered on the retry;
//   - auto_promotion.json: an auto-promotion whose soaking candidate is superseded by a newer one, which alone is
//     promoted once its soak has passed.
//
// The deploy queues' histories are recorded once the queue idles (its timer set, nothing else under way): the
// queue would end only after its idle time, ten minutes. Without SLIPWAY_RECORD_HISTORIES the test is skipped:
// it starts a Temporal server and runs some 300 activities, and the replay tests read what it wrote.
func TestRecordHistories(t *testing.T) {
	if os.Getenv(recordEnv) == "" {
		t.Skip(recordEnv + " not set: the histories in workflows/testdata are not recorded again")
	}
	quiet := slog.New(slog.DiscardHandler)
	ts, err := localtemporal.Start(localtemporal.Config{
		DBPath:           filepath.Join(t.TempDir(), "temporal.db"),
		Address:          "127.0.0.1:0",
		SearchAttributes: workflows.SearchAttributes(),
		Logger:           quiet,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer ts.Stop()
	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	c, err := client.Dial(client.Options{HostPort: ts.Address(), Namespace: workflows.DefaultNamespace, Logger: sdklog.NewStructuredLogger(log)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s := newStandIns(c)
	// As worker.New makes slipway's worker, with the stand-ins for its activities.
	w := sdkworker.New(c, workflows.TaskQueue, sdkworker.Options{EnableSessionWorker: true, MaxHeartbeatThrottleInterval: 3 * time.Second})
	w.RegisterWorkflow(workflows.BuildPipeline)
	w.RegisterWorkflow(workflows.DeployQueue)
	w.RegisterWorkflow(workflows.AutoPromotion)
	w.RegisterWorkflow(workflows.Notify)
	s.register(w)
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	// As worker.New makes the worker of the Docker data plane's task queue.
	dw := sdkworker.New(c, workflows.DataPlaneTaskQueue(workflows.DataPlaneDocker), sdkworker.Options{MaxHeartbeatThrottleInterval: 3 * time.Second})
	s.registerDataPlane(dw)
	if err := dw.Start(); err != nil {
		t.Fatal(err)
	}
	defer dw.Stop()

	r := &recording{c: c, s: s, dir: "../testdata"}
	for _, sc := range []struct {
		name string
		run  func(*testing.T)
	}{
		{"build pipeline with auto-deploy", r.buildWithAutoDeploy},
		{"deploy queue with failures", r.deployFailures},
		{"deploy queue continuing as new", r.continueAsNew},
		{"deploy queue rolling back", func(t *testing.T) { r.rollBack(t, "web", "deploy_queue_rollback.json") }},
		{"deploy queue on its data plane's queue", func(t *testing.T) { r.rollBack(t, "api", "deploy_queue_data_plane.json") }},
		{"auto-promotion superseded", r.autoPromotion},
		{"notification retried", r.notification},
	} {
		if !t.Run(sc.name, sc.run) {
			return
		}
	}
}

// recording runs the scenarios on one server and worker.
type recording struct {
	c   client.Client
	s   *standIns
	dir string
}

func (r *recording) buildWithAutoDeploy(t *testing.T) {
	ctx := context.Background()
	const commit = "4f03f84a279a7da76e80faabad655c935916cb63"
	in := workflows.BuildPipelineInput{
		BuildID: hexID("b", "auto-deploy"), Project: "shop", Component: "api", Repo: "https://git.example.com/shop/api.git",
		Commit: commit, Dockerfile: "Dockerfile", Context: ".", Repository: "127.0.0.1:5000/shop/api", AutoDeploy: true,
	}
	// As the API starts a build (server.executeBuild).
	opts := client.StartWorkflowOptions{
		ID:                       workflows.BuildWorkflowID(in.Project, in.Component, in.Commit, 1),
		TaskQueue:                workflows.TaskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		EnableEagerStart:         true,
		TypedSearchAttributes: temporal.NewSearchAttributes(
			temporal.NewSearchAttributeKeyKeyword(workflows.SearchAttrProject).ValueSet(in.Project),
			temporal.NewSearchAttributeKeyKeyword(workflows.SearchAttrComponent).ValueSet(in.Component),
			temporal.NewSearchAttributeKeyKeyword(workflows.SearchAttrCommit).ValueSet(in.Commit),
			temporal.NewSearchAttributeKeyKeyword(workflows.SearchAttrTrigger).ValueSet("webhook"),
		),
	}
	run, err := r.c.ExecuteWorkflow(ctx, opts, workflows.BuildPipeline, in)
	if err != nil {
		t.Fatal(err)
	}
	var res workflows.BuildPipelineResult
	if err := run.Get(ctx, &res); err != nil {
		t.Fatalf("build: %v", err)
	}
	if res.Digest != digestOf(in.BuildID) {
		t.Fatalf("build result %+v", res)
	}
	ws := workspaceOf(in.BuildID)
	// The workspace goes with the session, before the deployment is queued.
	want := fmt.Sprintf("start:%[1]s checkout:4f03f84 build:%[1]s scan:%[1]s push:127.0.0.1:5000/shop/api:4f03f84 spec:%[1]s "+
		"remove:%[2]s request-deploy:%[1]s finish:%[1]s:succeeded[checkout=succeeded,build=succeeded,scan=succeeded,push=succeeded,spec=succeeded,deploy=succeeded]",
		in.BuildID, ws)
	if got := r.s.took(opts.ID); got != want {
		t.Fatalf("build activities\n got %s\nwant %s", got, want)
	}
	// The deployment it queued ran on the development queue.
	queue := workflows.DeployWorkflowID(in.Project, in.Component, "development")
	r.waitIdle(t, queue, "")
	dep := "d-auto-" + strings.TrimPrefix(in.BuildID, "b-")
	if got := r.s.took(queue); got != "check:"+dep+" rollout:"+dep {
		t.Fatalf("auto-deployment's activities %s", got)
	}
	r.write(t, opts.ID, run.GetRunID(), "build_pipeline_auto_deploy.json")
}

func (r *recording) deployFailures(t *testing.T) {
	const project, component, env = "shop", "web", "production"
	queue := workflows.DeployWorkflowID(project, component, env)
	var deps, builds []string
	for i := range 4 {
		deps, builds = append(deps, hexID("d", fmt.Sprint("failures-", i))), append(builds, hexID("b", fmt.Sprint("failures-", i)))
	}
	r.s.mu.Lock()
	r.s.missing[builds[1]] = "API_TOKEN (secret)"
	r.s.notReady[builds[2]] = true
	r.s.mu.Unlock()
	// Three queued at once (behind the first's check), the fourth once the queue idles.
	first := r.s.holdCall("check:" + builds[0])
	runID := r.queue(t, project, component, env, deps[0], builds[0])
	r.queue(t, project, component, env, deps[1], builds[1])
	r.queue(t, project, component, env, deps[2], builds[2])
	close(first.release)
	r.waitIdle(t, queue, runID)
	want := fmt.Sprintf("check:%[1]s rollout:%[1]s check:%[2]s fail:%[2]s check:%[3]s rollout:%[3]s", deps[0], deps[1], deps[2])
	if got := r.s.took(queue); got != want {
		t.Fatalf("deploy activities\n got %s\nwant %s", got, want)
	}
	r.queue(t, project, component, env, deps[3], builds[3])
	r.waitIdle(t, queue, runID)
	// The failed rollout left the first build serving: the fourth replaced it.
	want = fmt.Sprintf("check:%[1]s rollout:%[1]s retire:%[1]s:%[2]s", deps[3], builds[0])
	if got := r.s.took(queue); got != want {
		t.Fatalf("deploy activities\n got %s\nwant %s", got, want)
	}
	r.write(t, queue, runID, "deploy_queue_failed.json")
}

func (r *recording) rollBack(t *testing.T, component, file string) {
	const project, env = "shop", "staging"
	queue := workflows.DeployWorkflowID(project, component, env)
	good, bad := hexID("b", component+"-verified"), hexID("b", component+"-unverified")
	d1, d2 := hexID("d", component+"-verified"), hexID("d", component+"-unverified")
	r.s.mu.Lock()
	r.s.unverified[bad] = true
	r.s.mu.Unlock()
	runID := r.queue(t, project, component, env, d1, good)
	r.queue(t, project, component, env, d2, bad)
	r.waitIdle(t, queue, runID)
	rb := "d-rb-" + strings.TrimPrefix(d2, "d-")
	want := fmt.Sprintf("check:%[1]s rollout:%[1]s verify:%[1]s offer:%[1]s check:%[2]s rollout:%[2]s verify:%[2]s rollback:%[2]s "+
		"check:%[3]s rollout:%[3]s rolledback:%[2]s", d1, d2, rb)
	// The retirement runs beside the queue, on another worker: in the calls, it may come before or after rolledback.
	retire := fmt.Sprintf(" retire:%s:%s", rb, bad)
	got := r.s.took(queue)
	if strings.Count(got, retire) != 1 || strings.Replace(got, retire, "", 1) != want {
		t.Fatalf("deploy activities\n got %s\nwant %s, with%s after the rollback's rollout", got, want, retire)
	}
	r.write(t, queue, runID, file)
}

func (r *recording) autoPromotion(t *testing.T) {
	const project, component, env = "shop", "web", "production"
	id, opts, in := workflows.AutoPromotionStart(project, component, env)
	older, newer := hexID("d", "soaking"), hexID("d", "newer")
	offer := func(dep, build string, soak time.Duration) string {
		run, err := r.c.SignalWithStartWorkflow(context.Background(), id, workflows.SignalCandidate,
			workflows.PromotionCandidate{DeploymentID: dep, BuildID: build, ReadyAt: time.Now().Add(soak)}, opts, workflows.AutoPromotion, in)
		if err != nil {
			t.Fatal(err)
		}
		return run.GetRunID()
	}
	runID := offer(older, hexID("b", "soaking"), time.Hour)
	offer(newer, hexID("b", "newer"), 2*time.Second)
	r.poll(t, id, runID, func(h *historypb.History) bool { return r.s.took(id) == "autopromote:"+newer })
	r.waitIdle(t, id, runID)
	r.write(t, id, runID, "auto_promotion.json")
}

func (r *recording) notification(t *testing.T) {
	id := hexID("nd", "retried")
	run, err := r.c.ExecuteWorkflow(context.Background(), workflows.NotifyStart(id), workflows.Notify, workflows.NotifyInput{DeliveryID: id})
	if err != nil {
		t.Fatal(err)
	}
	if err := run.Get(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if got := r.s.took(workflows.NotifyWorkflowID(id)); got != "deliver:"+id+" deliver:"+id {
		t.Fatalf("notification activities %s", got)
	}
	r.write(t, workflows.NotifyWorkflowID(id), run.GetRunID(), "notify.json")
}

// continueAsNewAfter is DeployQueue's deployQueueContinueAfter: how many deployments one run deploys.
const continueAsNewAfter = 100

func (r *recording) continueAsNew(t *testing.T) {
	const project, component, env = "shop", "worker", "staging"
	queue := workflows.DeployWorkflowID(project, component, env)
	var reqs []workflows.DeployRequest
	for i := range continueAsNewAfter + 4 {
		reqs = append(reqs, workflows.DeployRequest{DeploymentID: hexID("d", fmt.Sprint("staging-", i)), BuildID: hexID("b", fmt.Sprint("staging-", i))})
	}
	// All but the last request are queued while the first is checked; the last while the queue, its
	// deployments done, waits for the last retirement before it continues as new.
	checking := r.s.holdCall("check:" + reqs[0].BuildID)
	retiring := r.s.holdCall("retire:" + reqs[continueAsNewAfter-1].DeploymentID)
	first := r.queue(t, project, component, env, reqs[0].DeploymentID, reqs[0].BuildID)
	for _, req := range reqs[1 : len(reqs)-1] {
		r.queue(t, project, component, env, req.DeploymentID, req.BuildID)
	}
	close(checking.release)
	select {
	case <-retiring.entered:
	case <-time.After(2 * time.Minute):
		t.Fatal("the last deployment's retirement did not start within 2 minutes")
	}
	last := reqs[len(reqs)-1]
	r.queue(t, project, component, env, last.DeploymentID, last.BuildID)
	close(retiring.release)
	hist := r.waitClosed(t, queue, first)
	end := hist.Events[len(hist.Events)-1]
	if end.GetEventType() != enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW {
		t.Fatalf("the first run ended with %s", end.GetEventType())
	}
	var carried workflows.DeployQueueInput
	if err := converter.GetDefaultDataConverter().FromPayloads(end.GetWorkflowExecutionContinuedAsNewEventAttributes().GetInput(), &carried); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(carried.Pending, reqs[continueAsNewAfter:]) {
		t.Fatalf("continued as new with %+v, want the last %d requests", carried.Pending, len(reqs)-continueAsNewAfter)
	}
	next := end.GetWorkflowExecutionContinuedAsNewEventAttributes().GetNewExecutionRunId()
	r.waitIdle(t, queue, next)

	var want []string
	for _, req := range reqs {
		want = append(want, "check:"+req.DeploymentID, "rollout:"+req.DeploymentID)
	}
	calls := strings.Fields(r.s.took(queue))
	queued := slices.DeleteFunc(slices.Clone(calls), func(c string) bool { return strings.HasPrefix(c, "retire:") })
	if !slices.Equal(queued, want) {
		t.Fatalf("deploy activities\n got %s\nwant %s", queued, want)
	}
	// Each release replaced the one before; the queue waited for the last retirement before continuing as new.
	if retired := len(calls) - len(queued); retired != len(reqs)-1 {
		t.Fatalf("%d retirements, want %d", retired, len(reqs)-1)
	}
	r.write(t, queue, first, "deploy_queue_continue_as_new.json")
	r.write(t, queue, next, "deploy_queue_after_continue_as_new.json")
}

// queue stores a deployment and queues it as the API does (server.queueDeployment); it returns the run ID
// of the queue it went to.
func (r *recording) queue(t *testing.T, project, component, env, id, build string) string {
	t.Helper()
	r.s.store(id, deployment{project: project, component: component, environment: env, build: build})
	wid, opts, in := workflows.DeployStart(project, component, env)
	run, err := r.c.SignalWithStartWorkflow(context.Background(), wid, workflows.SignalDeploy,
		workflows.DeployRequest{DeploymentID: id, BuildID: build}, opts, workflows.DeployQueue, in)
	if err != nil {
		t.Fatalf("queueing %s: %v", id, err)
	}
	return run.GetRunID()
}

// waitIdle waits until the deploy queue's run (runID; "" the latest) waits for requests: its idle timer is
// set, and no activity or workflow task is under way.
func (r *recording) waitIdle(t *testing.T, id, runID string) {
	t.Helper()
	r.poll(t, id, runID, func(h *historypb.History) bool {
		count := map[enumspb.EventType]int{}
		for _, e := range h.Events {
			count[e.GetEventType()]++
		}
		activities := count[enumspb.EVENT_TYPE_ACTIVITY_TASK_COMPLETED] + count[enumspb.EVENT_TYPE_ACTIVITY_TASK_FAILED] +
			count[enumspb.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT] + count[enumspb.EVENT_TYPE_ACTIVITY_TASK_CANCELED]
		timers := count[enumspb.EVENT_TYPE_TIMER_FIRED] + count[enumspb.EVENT_TYPE_TIMER_CANCELED]
		tasks := count[enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED] + count[enumspb.EVENT_TYPE_WORKFLOW_TASK_FAILED] +
			count[enumspb.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT]
		return activities == count[enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED] && count[enumspb.EVENT_TYPE_TIMER_STARTED] == timers+1 &&
			tasks == count[enumspb.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED]
	})
}

// waitClosed waits until the run has ended and returns its history.
func (r *recording) waitClosed(t *testing.T, id, runID string) *historypb.History {
	t.Helper()
	return r.poll(t, id, runID, func(h *historypb.History) bool {
		switch h.Events[len(h.Events)-1].GetEventType() {
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED,
			enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED,
			enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED:
			return true
		}
		return false
	})
}

// poll reads the run's history until done says so, for at most two minutes.
func (r *recording) poll(t *testing.T, id, runID string, done func(*historypb.History) bool) *historypb.History {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		h := r.history(t, id, runID)
		if len(h.Events) > 0 && done(h) {
			return h
		}
		if time.Now().After(deadline) {
			t.Fatalf("workflow %s (run %q) not there after 2 minutes: its last event is %v", id, runID, h.Events[len(h.Events)-1])
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (r *recording) history(t *testing.T, id, runID string) *historypb.History {
	t.Helper()
	iter := r.c.GetWorkflowHistory(context.Background(), id, runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	h := &historypb.History{}
	for iter.HasNext() {
		e, err := iter.Next()
		if err != nil {
			t.Fatalf("history of %s: %v", id, err)
		}
		h.Events = append(h.Events, e)
	}
	return h
}

// write writes the run's history to the file, as the integration tests' recordHistory does.
func (r *recording) write(t *testing.T, id, runID, name string) {
	t.Helper()
	b, err := protojson.MarshalOptions{Multiline: true, Indent: "  "}.Marshal(r.history(t, id, runID))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(r.dir, name), b, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s (%d bytes)", name, len(b))
}

// testWriter sends log lines to t.Log so they show only for failing tests.
type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}
