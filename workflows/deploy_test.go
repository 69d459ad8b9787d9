package workflows

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
)

// fakeDeployActivities records the deploy activities' calls in order; a rollout takes rolloutTime.
type fakeDeployActivities struct {
	mu       sync.Mutex
	calls    []string
	failed   map[string]string
	missing  map[string]bool // builds whose required configs are missing
	inFlight int
	maxSeen  int
}

func (f *fakeDeployActivities) register(env *testsuite.TestWorkflowEnvironment) {
	env.RegisterActivityWithOptions(func(ctx context.Context, in CheckRequiredInput) error {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.calls = append(f.calls, "check:"+in.BuildID)
		if f.missing[in.BuildID] {
			return temporal.NewNonRetryableApplicationError("environment production lacks what build "+in.BuildID+" requires: API_TOKEN (secret)", "MissingConfig", nil)
		}
		return nil
	}, activityName(ActivityCheckRequired))
	env.RegisterActivityWithOptions(func(ctx context.Context, in RolloutInput) (RolloutResult, error) {
		f.mu.Lock()
		f.inFlight++
		f.maxSeen = max(f.maxSeen, f.inFlight)
		f.calls = append(f.calls, "rollout:"+in.DeploymentID)
		if !in.RetireLater {
			f.calls = append(f.calls, "(retiring inline)")
		}
		f.mu.Unlock()
		time.Sleep(5 * time.Millisecond)
		f.mu.Lock()
		f.inFlight--
		f.mu.Unlock()
		return RolloutResult{Status: "succeeded"}, nil
	}, activityName(ActivityRollout))
	env.RegisterActivityWithOptions(func(ctx context.Context, in FailDeploymentInput) error {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.calls = append(f.calls, "fail:"+in.DeploymentID)
		f.failed[in.DeploymentID] = in.Message
		return nil
	}, activityName(ActivityFailDeployment))
	env.RegisterActivityWithOptions(func(ctx context.Context, in RetireReplacedInput) error {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.calls = append(f.calls, "retire:"+in.DeploymentID)
		return nil
	}, activityName(ActivityRetireReplaced))
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
	// Each deployment is recorded by its rollout as soon as it serves; what it replaced is retired after it.
	want := "check:b-1 rollout:d-1 retire:d-1 check:b-2 fail:d-2 check:b-3 rollout:d-3 retire:d-3 check:b-4 rollout:d-4 retire:d-4"
	if got := strings.Join(f.calls, " "); got != want {
		t.Fatalf("calls\n got %s\nwant %s", got, want)
	}
	if f.maxSeen != 1 {
		t.Fatalf("%d rollouts ran at once", f.maxSeen)
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
	if got := strings.Join(f.calls, " "); got != "check:b-1 rollout:d-1 retire:d-1" {
		t.Fatalf("calls %s", got)
	}
}
