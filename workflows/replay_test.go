package workflows

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"google.golang.org/protobuf/proto"
)

// recordedHistories are histories recorded from real runs against the embedded Temporal.
//
// The integration tests rewrite theirs with SLIPWAY_RECORD_HISTORIES=1: build_pipeline.json is a build whose
// worker was killed mid-build (TestBuildResumesAfterWorkerKilled): its session failed and the pipeline started
// over in a new one, then scanned, pushed and stored its spec; build_pipeline_before_scan.json is the same from
// before the scan and spec steps were added; deploy_queue.json is production's deploy queue of
// TestDeployPromoteAndSurviveABadBuild, from before deployments retired what they replaced: a promotion that
// succeeded and a broken build's rollout that failed; rotate_keys.json is TestDevStack's key rotation;
// task_run.json is TestScheduledAndManualTasks's manual run, whose container exited 3; promotion.json is
// TestTwoApprovalsAcrossARestart's production promotion: two approvals with slipway dev restarted between them,
// a re-scan, the deployment queued.
//
// workflows/recorder's TestRecordHistories rewrites the others (SLIPWAY_RECORD_HISTORIES=1, real workflows on
// the embedded Temporal with stand-in activities): a build with auto-deploy; a deploy queue whose deployments
// fail in their check (recorded through FailDeployment) and in their rollout, then idles and deploys again; a
// deploy queue that continues as new with requests pending, and its next run; a deploy queue whose second release
// fails its verification and is rolled back, before and after its data-plane steps moved to their plane's task
// queue; an auto-promotion whose candidate is superseded.
var recordedHistories = []struct {
	file string
	// current says the history was recorded with today's activity options and input types, so every
	// activity's options and input are compared too (the older ones' lack fields added since, which their
	// runs read as zero; deploy_queue.json's rollout also had a heartbeat timeout of a minute).
	current bool
	// has are activities the recorded run called: what the history is kept for.
	has []string
}{
	{file: "rotate_keys.json", current: true, has: []string{ActivityRewrapDataKeys}},
	{file: "build_pipeline.json", current: true, has: []string{ActivityScanImage, ActivityUpdateSpec}},
	{file: "build_pipeline_before_scan.json", has: []string{ActivityPushImage}},
	{file: "deploy_queue.json", has: []string{ActivityRollout}},
	{file: "build_pipeline_auto_deploy.json", current: true, has: []string{ActivityRequestDeploy, ActivityFinishBuild}},
	{file: "deploy_queue_failed.json", current: true, has: []string{ActivityFailDeployment, ActivityRetireReplaced}},
	{file: "deploy_queue_continue_as_new.json", current: true, has: []string{ActivityRetireReplaced}},
	{file: "deploy_queue_after_continue_as_new.json", current: true, has: []string{ActivityRollout}},
	{file: "task_run.json", current: true, has: []string{ActivityStartTaskRun, ActivityRunTask}},
	{file: "promotion.json", current: true, has: []string{ActivityPromotionState, ActivityRescanPromotion, ActivityQueuePromotion}},
	{file: "deploy_queue_rollback.json", current: true, has: []string{ActivityVerify, ActivityRollBack, ActivityOfferPromotion, ActivityRetireReplaced}},
	{file: "deploy_queue_data_plane.json", current: true, has: []string{ActivityRollout, ActivityVerify, ActivityRollBack, ActivityRetireReplaced}},
	{file: "auto_promotion.json", current: true, has: []string{ActivityAutoPromote}},
	{file: "notify.json", current: true, has: []string{ActivityDeliverNotification}},
}

// TestReplayRecordedHistories replays the recorded histories, so a change to a workflow that breaks
// determinism for runs already in flight fails here. It also holds each replay to what the run did: the same
// activities in the same order (with the same options and inputs, for histories recorded with today's), and
// the same end: the same result, the same continue-as-new input, or, for a run still open, none.
func TestReplayRecordedHistories(t *testing.T) {
	for _, h := range recordedHistories {
		t.Run(h.file, func(t *testing.T) {
			hist := readHistory(t, "testdata/"+h.file)
			if err := replaySame(hist, h.current); err != nil {
				t.Fatalf("replaying %s: %v", h.file, err)
			}
			var called []string
			for _, e := range hist.Events {
				if a := e.GetActivityTaskScheduledEventAttributes(); a != nil {
					called = append(called, a.GetActivityType().GetName())
				}
			}
			for _, name := range h.has {
				if !slices.Contains(called, name) {
					t.Errorf("%s has no %s: it is not the run it is kept for", h.file, name)
				}
			}
		})
	}
}

// The queue that continued as new carried the requests it had not run; the replay ends the same way.
func TestReplayedContinueAsNewCarriesPending(t *testing.T) {
	hist := readHistory(t, "testdata/deploy_queue_continue_as_new.json")
	var in DeployQueueInput
	if err := converter.GetDefaultDataConverter().FromPayloads(
		hist.Events[len(hist.Events)-1].GetWorkflowExecutionContinuedAsNewEventAttributes().GetInput(), &in); err != nil {
		t.Fatal(err)
	}
	if len(in.Pending) == 0 {
		t.Fatal("deploy_queue_continue_as_new.json continued as new with no request pending")
	}
	next := readHistory(t, "testdata/deploy_queue_after_continue_as_new.json")
	var started DeployQueueInput
	if err := converter.GetDefaultDataConverter().FromPayloads(next.Events[0].GetWorkflowExecutionStartedEventAttributes().GetInput(), &started); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(started, in) {
		t.Fatalf("the next run started with %+v, not what the first carried (%+v)", started, in)
	}
}

// The replay is held to what the run did: a history edited to differ from what the workflows do fails.
func TestReplayNoticesADifferentRun(t *testing.T) {
	for _, c := range []struct {
		name string
		file string
		edit func(t *testing.T, h *historypb.History)
	}{
		{"a deployment recorded failed with another message", "deploy_queue_failed.json", func(t *testing.T, h *historypb.History) {
			setInput(t, scheduled(t, h, ActivityFailDeployment).GetInput(), FailDeploymentInput{DeploymentID: "d-1", Message: "another"})
		}},
		{"a rollout with another heartbeat timeout", "deploy_queue_failed.json", func(t *testing.T, h *historypb.History) {
			scheduled(t, h, ActivityRollout).GetHeartbeatTimeout().Seconds = 60
		}},
		{"a continue-as-new carrying one request less", "deploy_queue_continue_as_new.json", func(t *testing.T, h *historypb.History) {
			p := h.Events[len(h.Events)-1].GetWorkflowExecutionContinuedAsNewEventAttributes().GetInput()
			var in DeployQueueInput
			if err := converter.GetDefaultDataConverter().FromPayloads(p, &in); err != nil {
				t.Fatal(err)
			}
			in.Pending = in.Pending[1:]
			setInput(t, p, in)
		}},
		{"a build with another result", "build_pipeline_auto_deploy.json", func(t *testing.T, h *historypb.History) {
			setInput(t, h.Events[len(h.Events)-1].GetWorkflowExecutionCompletedEventAttributes().GetResult(), BuildPipelineResult{Digest: "sha256:other"})
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			hist := readHistory(t, "testdata/"+c.file)
			c.edit(t, hist)
			if err := replaySame(hist, true); err == nil {
				t.Fatal("the replay passed")
			} else {
				t.Log(err)
			}
		})
	}
}

func readHistory(t *testing.T, path string) *historypb.History {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	h, err := client.HistoryFromJSON(bytes.NewReader(b), client.HistoryJSONOptions{})
	if err != nil {
		t.Fatalf("reading %s: %v", path, err)
	}
	return h
}

// scheduled is the first scheduling of the activity in h.
func scheduled(t *testing.T, h *historypb.History, activity string) *historypb.ActivityTaskScheduledEventAttributes {
	t.Helper()
	for _, e := range h.Events {
		if a := e.GetActivityTaskScheduledEventAttributes(); a.GetActivityType().GetName() == activity {
			return a
		}
	}
	t.Fatalf("no %s in the history", activity)
	return nil
}

// setInput replaces the payloads' value with v.
func setInput(t *testing.T, p *commonpb.Payloads, v any) {
	t.Helper()
	np, err := converter.GetDefaultDataConverter().ToPayloads(v)
	if err != nil {
		t.Fatal(err)
	}
	p.Payloads = np.Payloads
}

// replaySame replays the history and compares what the workflow did in the replay with what the run did.
// current compares the activities' options and inputs too.
func replaySame(hist *historypb.History, current bool) error {
	seen := &replaySeen{}
	r, err := worker.NewWorkflowReplayerWithOptions(worker.WorkflowReplayerOptions{Interceptors: []interceptor.WorkerInterceptor{seen}})
	if err != nil {
		return err
	}
	r.RegisterWorkflow(RotateKeys)
	r.RegisterWorkflow(BuildPipeline)
	r.RegisterWorkflow(DeployQueue)
	r.RegisterWorkflow(Undeploy)
	r.RegisterWorkflow(TaskRun)
	r.RegisterWorkflow(Promotion)
	r.RegisterWorkflow(AutoPromotion)
	r.RegisterWorkflow(Notify)
	// The run's own workflow ID, which TaskRun derives its run's ID from (recorded since the API kept it).
	var orig worker.ReplayWorkflowHistoryOptions
	if len(hist.Events) > 0 {
		orig.OriginalExecution.ID = hist.Events[0].GetWorkflowExecutionStartedEventAttributes().GetWorkflowId()
	}
	if orig.OriginalExecution.ID == "" {
		orig.OriginalExecution.ID = "ReplayId" // the replayer's own default
	}
	if err := r.ReplayWorkflowHistoryWithOptions(nil, hist, orig); err != nil {
		return err
	}
	var events []*historypb.ActivityTaskScheduledEventAttributes
	for _, e := range hist.Events {
		if a := e.GetActivityTaskScheduledEventAttributes(); a != nil {
			events = append(events, a)
		}
	}
	if len(seen.activities) != len(events) {
		return fmt.Errorf("the replay asked for %d activities, the run for %d", len(seen.activities), len(events))
	}
	for i, a := range seen.activities {
		if got := events[i].GetActivityType().GetName(); a.name != got {
			return fmt.Errorf("activity %d: the replay asked for %s, the run scheduled %s", i+1, a.name, got)
		}
		if !current {
			continue
		}
		if err := sameActivity(a, events[i]); err != nil {
			return fmt.Errorf("activity %d (%s): %w", i+1, a.name, err)
		}
	}
	return sameEnd(seen, hist)
}

// sameActivity compares the options and input of an activity the replay asked for with the one the run
// scheduled; the options the workflow left unset are compared with the defaults Temporal filled in.
func sameActivity(a seenActivity, e *historypb.ActivityTaskScheduledEventAttributes) error {
	o := a.options
	// An activity on a data plane's queue ran there; one on the workflow's ran there or on its session's (a
	// worker's own queue, which the options do not name).
	dataPlane := func(q string) bool { return strings.HasPrefix(q, TaskQueue+"-") }
	if q := e.GetTaskQueue().GetName(); o.TaskQueue != q && (dataPlane(o.TaskQueue) || dataPlane(q)) {
		return fmt.Errorf("task queue %q, the run's %q", o.TaskQueue, q)
	}
	if o.StartToCloseTimeout != 0 && o.StartToCloseTimeout != e.GetStartToCloseTimeout().AsDuration() {
		return fmt.Errorf("start-to-close timeout %s, the run's %s", o.StartToCloseTimeout, e.GetStartToCloseTimeout().AsDuration())
	}
	if o.ScheduleToStartTimeout != 0 && o.ScheduleToStartTimeout != e.GetScheduleToStartTimeout().AsDuration() {
		return fmt.Errorf("schedule-to-start timeout %s, the run's %s", o.ScheduleToStartTimeout, e.GetScheduleToStartTimeout().AsDuration())
	}
	if o.HeartbeatTimeout != e.GetHeartbeatTimeout().AsDuration() {
		return fmt.Errorf("heartbeat timeout %s, the run's %s", o.HeartbeatTimeout, e.GetHeartbeatTimeout().AsDuration())
	}
	var rp struct {
		initial, maximum time.Duration
		backoff          float64
		attempts         int32
		nonRetryable     []string
	}
	if p := o.RetryPolicy; p != nil {
		rp.initial, rp.maximum, rp.backoff, rp.attempts, rp.nonRetryable = p.InitialInterval, p.MaximumInterval, p.BackoffCoefficient, p.MaximumAttempts, p.NonRetryableErrorTypes
	}
	rp.initial = cmp.Or(rp.initial, time.Second)
	rp.maximum = cmp.Or(rp.maximum, 100*rp.initial)
	rp.backoff = cmp.Or(rp.backoff, 2)
	ep := e.GetRetryPolicy()
	if rp.initial != ep.GetInitialInterval().AsDuration() || rp.maximum != ep.GetMaximumInterval().AsDuration() ||
		rp.backoff != ep.GetBackoffCoefficient() || rp.attempts != ep.GetMaximumAttempts() || !slices.Equal(rp.nonRetryable, ep.GetNonRetryableErrorTypes()) {
		return fmt.Errorf("retry policy %+v, the run's %v", rp, ep)
	}
	return samePayloads(a.args, e.GetInput())
}

// sameEnd compares how the replayed workflow ended, and in which workflow task, with the run's end.
func sameEnd(seen *replaySeen, hist *historypb.History) error {
	last := hist.Events[len(hist.Events)-1]
	if seen.ended {
		var task int64
		for _, e := range hist.Events {
			if e.GetEventType() == enumspb.EVENT_TYPE_WORKFLOW_TASK_STARTED {
				task = e.GetEventId()
			}
		}
		if int64(seen.endedIn) != task {
			return fmt.Errorf("the replay ended in the workflow task started at event %d, the run in the last one, started at %d", seen.endedIn, task)
		}
	}
	switch last.GetEventType() {
	case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED:
		if !seen.ended || seen.err != nil {
			return fmt.Errorf("the run completed, the replay did not (ended %t, %v)", seen.ended, seen.err)
		}
		var result []any
		if seen.result != nil {
			result = []any{seen.result}
		}
		return samePayloads(result, last.GetWorkflowExecutionCompletedEventAttributes().GetResult())
	case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW:
		var can *workflow.ContinueAsNewError
		if !errors.As(seen.err, &can) {
			return fmt.Errorf("the run continued as new, the replay did not (ended %t, %v)", seen.ended, seen.err)
		}
		a := last.GetWorkflowExecutionContinuedAsNewEventAttributes()
		if can.WorkflowType.Name != a.GetWorkflowType().GetName() {
			return fmt.Errorf("the replay continued as %s, the run as %s", can.WorkflowType.Name, a.GetWorkflowType().GetName())
		}
		if err := sameJSON(can.Input, a.GetInput()); err != nil {
			return fmt.Errorf("continue-as-new input: %w", err)
		}
		return nil
	default:
		if seen.ended {
			return fmt.Errorf("the run was still open after %s, the replay ended (%v)", last.GetEventType(), seen.err)
		}
		return nil
	}
}

// samePayloads compares values the replay passed with the run's payloads.
func samePayloads(values []any, p *commonpb.Payloads) error {
	got, err := converter.GetDefaultDataConverter().ToPayloads(values...)
	if err != nil {
		return err
	}
	return sameJSON(got, p)
}

// sameJSON compares payloads by the JSON values they hold.
func sameJSON(got, want *commonpb.Payloads) error {
	if len(got.GetPayloads()) != len(want.GetPayloads()) {
		return fmt.Errorf("%d values, the run's %d", len(got.GetPayloads()), len(want.GetPayloads()))
	}
	for i, g := range got.GetPayloads() {
		w := want.GetPayloads()[i]
		var gv, wv any
		if err := json.Unmarshal(g.GetData(), &gv); err != nil {
			if proto.Equal(g, w) {
				continue
			}
			return fmt.Errorf("value %d: %w", i+1, err)
		}
		if err := json.Unmarshal(w.GetData(), &wv); err != nil {
			return fmt.Errorf("the run's value %d: %w", i+1, err)
		}
		if !reflect.DeepEqual(gv, wv) {
			return fmt.Errorf("value %d is %s, the run's %s", i+1, g.GetData(), w.GetData())
		}
	}
	return nil
}

// replaySeen is a worker interceptor that records what the replayed workflow does: the activities it asks
// for and how it ends.
type replaySeen struct {
	interceptor.WorkerInterceptorBase
	activities []seenActivity
	ended      bool
	// endedIn is the workflow task the workflow ended in: the ID of its started event.
	endedIn int
	result  any
	err     error
}

// seenActivity is an activity the replayed workflow asked for.
type seenActivity struct {
	name    string
	args    []any
	options workflow.ActivityOptions
}

func (s *replaySeen) InterceptWorkflow(ctx workflow.Context, next interceptor.WorkflowInboundInterceptor) interceptor.WorkflowInboundInterceptor {
	return &replaySeenInbound{WorkflowInboundInterceptorBase: interceptor.WorkflowInboundInterceptorBase{Next: next}, seen: s}
}

type replaySeenInbound struct {
	interceptor.WorkflowInboundInterceptorBase
	seen *replaySeen
}

func (i *replaySeenInbound) Init(out interceptor.WorkflowOutboundInterceptor) error {
	return i.Next.Init(&replaySeenOutbound{WorkflowOutboundInterceptorBase: interceptor.WorkflowOutboundInterceptorBase{Next: out}, seen: i.seen})
}

func (i *replaySeenInbound) ExecuteWorkflow(ctx workflow.Context, in *interceptor.ExecuteWorkflowInput) (any, error) {
	res, err := i.Next.ExecuteWorkflow(ctx, in)
	i.seen.ended, i.seen.endedIn, i.seen.result, i.seen.err = true, workflow.GetInfo(ctx).GetCurrentHistoryLength(), res, err
	return res, err
}

type replaySeenOutbound struct {
	interceptor.WorkflowOutboundInterceptorBase
	seen *replaySeen
}

// ExecuteActivity records the activity unless it was never scheduled: its future is ready at once (it was
// asked for in a session already failed, or with a context already cancelled).
func (o *replaySeenOutbound) ExecuteActivity(ctx workflow.Context, activityType string, args ...any) workflow.Future {
	f := o.Next.ExecuteActivity(ctx, activityType, args...)
	if !f.IsReady() {
		o.seen.activities = append(o.seen.activities, seenActivity{name: activityType, args: args, options: workflow.GetActivityOptions(ctx)})
	}
	return f
}
