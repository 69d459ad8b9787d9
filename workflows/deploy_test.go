package workflows

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"
)

// fakeDeployActivities records the deploy activities' calls in order; a rollout takes rolloutTime.
type fakeDeployActivities struct {
	mu       sync.Mutex
	calls    []string
	failed   map[string]string
	missing  map[string]bool // builds whose required configs are missing
	inFlight int
	maxSeen  int
	serving  string // the build the last succeeded rollout put in
	// verdicts are the verifications that fail, by deployment ID (the others pass); before names the
	// release each one's rollback puts back.
	verdicts map[string]string
	before   map[string]string
	// verified are the Verify, RollBack and OfferPromotion calls, apart from calls.
	verified []string
	// plane is the data plane CheckRequired names ("" is docker); queues are the task queues each activity
	// ran on, by name.
	plane  string
	queues map[string][]string
}

// ranOn records the task queue an activity ran on; the caller holds mu.
func (f *fakeDeployActivities) ranOn(ctx context.Context, name string) {
	if f.queues == nil {
		f.queues = map[string][]string{}
	}
	q := activity.GetInfo(ctx).TaskQueue
	if !slices.Contains(f.queues[name], q) {
		f.queues[name] = append(f.queues[name], q)
	}
}

// callsWithout returns the calls but those of kind (e.g. "retired:"), which run beside the queue.
func (f *fakeDeployActivities) callsWithout(kind string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, c := range f.calls {
		if !strings.HasPrefix(c, kind) {
			out = append(out, c)
		}
	}
	return strings.Join(out, " ")
}

func (f *fakeDeployActivities) register(env *testsuite.TestWorkflowEnvironment) {
	env.RegisterActivityWithOptions(func(ctx context.Context, in CheckRequiredInput) (CheckRequiredResult, error) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.ranOn(ctx, ActivityCheckRequired)
		f.calls = append(f.calls, "check:"+in.BuildID)
		if f.missing[in.BuildID] {
			return CheckRequiredResult{}, temporal.NewNonRetryableApplicationError("environment production lacks what build "+in.BuildID+" requires: API_TOKEN (secret)", "MissingConfig", nil)
		}
		return CheckRequiredResult{DataPlane: f.plane}, nil
	}, activityName(ActivityCheckRequired))
	env.RegisterActivityWithOptions(func(ctx context.Context, in RolloutInput) (RolloutResult, error) {
		f.mu.Lock()
		f.ranOn(ctx, ActivityRollout)
		f.inFlight++
		f.maxSeen = max(f.maxSeen, f.inFlight)
		f.calls = append(f.calls, "rollout:"+in.DeploymentID)
		if !in.RetireLater {
			f.calls = append(f.calls, "(retiring inline)")
		}
		f.mu.Unlock()
		time.Sleep(5 * time.Millisecond)
		f.mu.Lock()
		defer f.mu.Unlock()
		f.inFlight--
		res := RolloutResult{Status: "succeeded"}
		if f.serving != "" && in.RetireLater {
			res.Replaced = []string{f.serving}
		}
		f.serving = strings.Replace(in.DeploymentID, "d-", "b-", 1)
		return res, nil
	}, activityName(ActivityRollout))
	env.RegisterActivityWithOptions(func(ctx context.Context, in FailDeploymentInput) error {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.ranOn(ctx, ActivityFailDeployment)
		f.calls = append(f.calls, "fail:"+in.DeploymentID)
		f.failed[in.DeploymentID] = in.Message
		return nil
	}, activityName(ActivityFailDeployment))
	env.RegisterActivityWithOptions(func(ctx context.Context, in RetireReplacedInput) error {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.mu.Unlock()
		time.Sleep(30 * time.Millisecond) // an old container taking its stop grace
		f.mu.Lock()
		f.ranOn(ctx, ActivityRetireReplaced)
		f.calls = append(f.calls, "retired:"+in.DeploymentID+":"+strings.Join(in.Builds, ","))
		return nil
	}, activityName(ActivityRetireReplaced))
	env.RegisterActivityWithOptions(func(ctx context.Context, in VerifyInput) (VerifyResult, error) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.ranOn(ctx, ActivityVerify)
		f.verified = append(f.verified, "verify:"+in.DeploymentID)
		if msg, ok := f.verdicts[in.DeploymentID]; ok {
			return VerifyResult{Status: "failed", Message: msg}, nil
		}
		return VerifyResult{Status: "passed"}, nil
	}, activityName(ActivityVerify))
	env.RegisterActivityWithOptions(func(ctx context.Context, in RollBackInput) (RollBackResult, error) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.ranOn(ctx, ActivityRollBack)
		f.verified = append(f.verified, "rollback:"+in.DeploymentID)
		prev := f.before[in.DeploymentID]
		if prev == "" {
			return RollBackResult{}, nil
		}
		return RollBackResult{Deployment: DeployRequest{DeploymentID: "d-rb-" + in.DeploymentID, BuildID: prev, Rollback: true, RollsBack: in.DeploymentID}}, nil
	}, activityName(ActivityRollBack))
	env.RegisterActivityWithOptions(func(ctx context.Context, in RolledBackInput) error {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.verified = append(f.verified, "rolledback:"+in.DeploymentID)
		return nil
	}, activityName(ActivityRolledBack))
	env.RegisterActivityWithOptions(func(ctx context.Context, in OfferPromotionInput) error {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.ranOn(ctx, ActivityOfferPromotion)
		f.verified = append(f.verified, "offer:"+in.DeploymentID)
		return nil
	}, activityName(ActivityOfferPromotion))
}

func TestDeployQueueRunsDeploymentsOneAtATimeInOrder(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	f := &fakeDeployActivities{failed: map[string]string{}, missing: map[string]bool{"b-2": true}}
	f.register(env)
	// Three deployments queued at once, one more while the queue works.
	env.RegisterDelayedCallback(func() {
		for i, b := range []string{"b-1", "b-2", "b-3"} {
			env.SignalWorkflow(SignalDeploy, DeployRequest{DeploymentID: "d-" + string(rune('1'+i)), BuildID: b})
		}
	}, time.Second)
	env.RegisterDelayedCallback(func() {
		env.SignalWorkflow(SignalDeploy, DeployRequest{DeploymentID: "d-4", BuildID: "b-4"})
	}, time.Minute)
	env.ExecuteWorkflow(DeployQueue, DeployQueueInput{Project: "shop", Component: "api", Environment: "production"})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	want := "check:b-1 rollout:d-1 check:b-2 fail:d-2 check:b-3 rollout:d-3 check:b-4 rollout:d-4"
	if got := f.callsWithout("retired:"); got != want {
		t.Fatalf("calls\n got %s\nwant %s", got, want)
	}
	if f.maxSeen != 1 {
		t.Fatalf("%d rollouts ran at once", f.maxSeen)
	}
	// What each succeeded deployment replaced is retired beside the queue, and all of it before the queue ends.
	for _, r := range []string{"retired:d-3:b-1", "retired:d-4:b-3"} {
		if !slices.Contains(f.calls, r) {
			t.Errorf("calls %v lack %s", f.calls, r)
		}
	}
	if msg := f.failed["d-2"]; !strings.Contains(msg, "MissingConfig") || !strings.Contains(msg, "API_TOKEN (secret)") {
		t.Fatalf("d-2 failed with %q", msg)
	}
}

func TestDeployQueueEndsWhenIdle(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	f := &fakeDeployActivities{failed: map[string]string{}}
	f.register(env)
	env.ExecuteWorkflow(DeployQueue, DeployQueueInput{Project: "shop", Component: "api", Environment: "development",
		Pending: []DeployRequest{{DeploymentID: "d-1", BuildID: "b-1"}}})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(f.calls, " "); got != "check:b-1 rollout:d-1" {
		t.Fatalf("calls %s", got)
	}
}

// A deployment does not wait for the previous one's old release to go, unless it deploys that very build (a
// rollback): then it starts once that build's containers are removed.
func TestDeployQueueRetiresBesideTheQueueButNotUnderARollback(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	f := &fakeDeployActivities{failed: map[string]string{}}
	f.register(env)
	env.ExecuteWorkflow(DeployQueue, DeployQueueInput{Project: "shop", Component: "api", Environment: "development",
		Pending: []DeployRequest{{DeploymentID: "d-1", BuildID: "b-1"}, {DeploymentID: "d-2", BuildID: "b-2"},
			{DeploymentID: "d-3", BuildID: "b-3"}, {DeploymentID: "d-1x", BuildID: "b-2"}}})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	at := func(call string) int { return slices.Index(f.calls, call) }
	// d-3 went ahead while b-1 was still being retired; d-1x (b-2 again) waited for b-2's retirement.
	if at("check:b-3") > at("retired:d-2:b-1") {
		t.Errorf("d-3 waited for d-2's retirement of b-1: %v", f.calls)
	}
	if at("retired:d-3:b-2") < 0 || at("retired:d-3:b-2") > slices.Index(f.calls[at("check:b-3"):], "check:b-2")+at("check:b-3") {
		t.Errorf("the rollback to b-2 started before b-2's old release was retired: %v", f.calls)
	}
}

// After deployQueueContinueAfter deployments the queue continues as new with the requests it has not run,
// in order, once the retirements under way are done.
func TestDeployQueueContinuesAsNewCarryingPending(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	f := &fakeDeployActivities{failed: map[string]string{}}
	f.register(env)
	in := DeployQueueInput{Project: "shop", Component: "api", Environment: "development"}
	for i := range deployQueueContinueAfter + 2 {
		in.Pending = append(in.Pending, DeployRequest{DeploymentID: fmt.Sprintf("d-%d", i), BuildID: fmt.Sprintf("b-%d", i)})
	}
	env.ExecuteWorkflow(DeployQueue, in)
	var can *workflow.ContinueAsNewError
	if err := env.GetWorkflowError(); !errors.As(err, &can) {
		t.Fatalf("the queue ended with %v, want a continue-as-new", err)
	}
	var next DeployQueueInput
	if err := converter.GetDefaultDataConverter().FromPayloads(can.Input, &next); err != nil {
		t.Fatal(err)
	}
	want := DeployQueueInput{Project: "shop", Component: "api", Environment: "development", Pending: in.Pending[deployQueueContinueAfter:]}
	if !reflect.DeepEqual(next, want) {
		t.Fatalf("continued with %+v, want %+v", next, want)
	}
	calls := strings.Join(f.calls, " ")
	if n := strings.Count(calls, "rollout:"); n != deployQueueContinueAfter {
		t.Fatalf("%d rollouts before continuing as new, want %d", n, deployQueueContinueAfter)
	}
	// Every retirement was waited for: the last rollout's too.
	if last := fmt.Sprintf("retired:d-%d:b-%d", deployQueueContinueAfter-1, deployQueueContinueAfter-2); !slices.Contains(f.calls, last) {
		t.Fatalf("calls lack %s before the continue-as-new: %s", last, calls)
	}
}

// A release that fails its verification is rolled back: the release before it is deployed next, ahead of what
// was queued, without a verification or an offer of its own; what the failed release replaced is not retired
// (it is what comes back), and the failed release goes with the rollback's own retirement. A release that passes
// is offered for auto-promotion once what it replaced is being retired.
func TestDeployQueueRollsBackAFailedVerification(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	f := &fakeDeployActivities{failed: map[string]string{}, verdicts: map[string]string{"d-2": `check "/version" failed 3 tries in a row`},
		before: map[string]string{"d-2": "b-1"}}
	f.register(env)
	env.ExecuteWorkflow(DeployQueue, DeployQueueInput{Project: "shop", Component: "api", Environment: "staging",
		Pending: []DeployRequest{{DeploymentID: "d-1", BuildID: "b-1"}, {DeploymentID: "d-2", BuildID: "b-2"}, {DeploymentID: "d-3", BuildID: "b-3"}}})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	want := "check:b-1 rollout:d-1 check:b-2 rollout:d-2 check:b-1 rollout:d-rb-d-2 check:b-3 rollout:d-3"
	if got := f.callsWithout("retired:"); got != want {
		t.Fatalf("calls\n got %s\nwant %s", got, want)
	}
	if got, want := strings.Join(f.verified, " "), "verify:d-1 offer:d-1 verify:d-2 rollback:d-2 rolledback:d-2 verify:d-3 offer:d-3"; got != want {
		t.Fatalf("verifications\n got %s\nwant %s", got, want)
	}
	if slices.Contains(f.calls, "retired:d-2:b-1") {
		t.Fatalf("the release a failed one replaced was retired: %v", f.calls)
	}
	if !slices.Contains(f.calls, "retired:d-rb-d-2:b-2") {
		t.Fatalf("the failed release was not retired after the rollback: %v", f.calls)
	}
}

// The very first release failing its verification has nothing to go back to: nothing more is deployed.
func TestDeployQueueFailedVerificationWithNothingBefore(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	f := &fakeDeployActivities{failed: map[string]string{}, verdicts: map[string]string{"d-1": "status 500, want 2xx"}}
	f.register(env)
	env.ExecuteWorkflow(DeployQueue, DeployQueueInput{Project: "shop", Component: "api", Environment: "staging",
		Pending: []DeployRequest{{DeploymentID: "d-1", BuildID: "b-1"}}})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	if got := f.callsWithout("retired:"); got != "check:b-1 rollout:d-1" {
		t.Fatalf("calls %s", got)
	}
	if got := strings.Join(f.verified, " "); got != "verify:d-1 rollback:d-1" {
		t.Fatalf("verifications %s", got)
	}
}

// With a verification task, a release whose HTTP checks pass is verified by a run of the task (a child TaskRun
// with its own workflow ID per deployment): exit 0 passes it, anything else rolls it back.
func TestDeployQueueVerificationTask(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	f := &fakeDeployActivities{failed: map[string]string{}, before: map[string]string{"d-2": "b-1"}}
	f.register(env)
	env.RegisterActivityWithOptions(func(ctx context.Context, in VerifyInput) (VerifyResult, error) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.verified = append(f.verified, "verify:"+in.DeploymentID)
		return VerifyResult{Status: "verifying", Task: "smoke"}, nil
	}, activityName(ActivityVerify))
	env.RegisterWorkflow(TaskRun)
	exits := map[string]int{}
	env.RegisterActivityWithOptions(func(ctx context.Context, in StartTaskRunInput) (StartTaskRunResult, error) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.verified = append(f.verified, "task:"+in.Task.Component+":"+in.Task.Trigger+":"+in.WorkflowID)
		return StartTaskRunResult{Runnable: true}, nil
	}, activityName(ActivityStartTaskRun))
	env.RegisterActivityWithOptions(func(ctx context.Context, in RunTaskInput) (TaskRunResult, error) {
		f.mu.Lock()
		defer f.mu.Unlock()
		code := 0
		if len(exits) == 1 { // the second release's run
			code = 4
		}
		exits[in.RunID] = code
		if code != 0 {
			return TaskRunResult{Status: "failed", ExitCode: &code, Message: "exited 4"}, nil
		}
		return TaskRunResult{Status: "succeeded", ExitCode: &code}, nil
	}, activityName(ActivityRunTask))
	env.RegisterActivityWithOptions(func(ctx context.Context, in PassVerificationInput) error {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.verified = append(f.verified, "passed:"+in.DeploymentID)
		return nil
	}, activityName(ActivityPassVerification))
	env.RegisterActivityWithOptions(func(ctx context.Context, in RollBackInput) (RollBackResult, error) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.verified = append(f.verified, "rollback:"+in.DeploymentID+":"+in.Message)
		return RollBackResult{}, nil
	}, activityName(ActivityRollBack))
	env.ExecuteWorkflow(DeployQueue, DeployQueueInput{Project: "shop", Component: "api", Environment: "staging",
		Pending: []DeployRequest{{DeploymentID: "d-1", BuildID: "b-1"}, {DeploymentID: "d-2", BuildID: "b-2"}}})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	want := "verify:d-1 task:smoke:verification:taskrun/shop/smoke/staging/verify-d-1 passed:d-1 offer:d-1 " +
		"verify:d-2 task:smoke:verification:taskrun/shop/smoke/staging/verify-d-2 rollback:d-2:verification task smoke failed with exit code 4: exited 4"
	if got := strings.Join(f.verified, " "); got != want {
		t.Fatalf("verifications\n got %s\nwant %s", got, want)
	}
}

// The steps that reach the data plane (rollout, verification, retirement) run on the task queue of the plane the
// check names, which only workers serving it poll; the steps that only read and write the store stay on the one
// every worker polls.
func TestDeployQueueRunsDataPlaneStepsOnTheirPlanesQueue(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.SetStartWorkflowOptions(client.StartWorkflowOptions{TaskQueue: TaskQueue})
	f := &fakeDeployActivities{failed: map[string]string{}, missing: map[string]bool{"b-3": true}, plane: DataPlaneKubernetes,
		verdicts: map[string]string{"d-2": "GET /health answered 500"}, before: map[string]string{"d-2": "b-1"}}
	f.register(env)
	env.ExecuteWorkflow(DeployQueue, DeployQueueInput{Project: "shop", Component: "api", Environment: "staging",
		Pending: []DeployRequest{{DeploymentID: "d-1", BuildID: "b-1"}, {DeploymentID: "d-2", BuildID: "b-2"}, {DeploymentID: "d-3", BuildID: "b-3"}}})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{
		ActivityCheckRequired: {TaskQueue}, ActivityRollBack: {TaskQueue}, ActivityOfferPromotion: {TaskQueue}, ActivityFailDeployment: {TaskQueue},
		ActivityRollout: {"slipway-kubernetes"}, ActivityVerify: {"slipway-kubernetes"}, ActivityRetireReplaced: {"slipway-kubernetes"},
	}
	if !reflect.DeepEqual(f.queues, want) {
		t.Fatalf("task queues by activity\n got %v\nwant %v", f.queues, want)
	}
}

// A data-plane step no worker took names the plane and what to start; other failures read as they did.
func TestDataPlaneRouteSaysWhoIsMissing(t *testing.T) {
	r := dataPlaneRoute{routed: true}
	got := r.failure(temporal.NewTimeoutError(enumspb.TIMEOUT_TYPE_SCHEDULE_TO_START, nil))
	for _, want := range []string{"no worker serving the docker data plane", "task queue slipway-docker", "slipway worker --data-plane docker"} {
		if !strings.Contains(got, want) {
			t.Errorf("failure %q lacks %q", got, want)
		}
	}
	if got := r.failure(temporal.NewApplicationError("refused", "NoDataPlane")); got != "NoDataPlane: refused" {
		t.Errorf("other failure %q", got)
	}
	if DataPlaneTaskQueue("") != DataPlaneTaskQueue(DataPlaneDocker) {
		t.Errorf(`"" is not docker's queue`)
	}
}
