package stack

import (
	"context"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"
)

func TestPushProgressHeartbeatsInsideAnActivity(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	push := func(ctx context.Context) error {
		heartbeatPushProgress(ctx, 42, 100)
		return nil
	}
	env.RegisterActivityWithOptions(push, activity.RegisterOptions{Name: "push"})
	var beats []int64
	env.SetOnActivityHeartbeatListener(func(_ *activity.Info, details converter.EncodedValues) {
		var done int64
		if err := details.Get(&done); err != nil {
			t.Errorf("heartbeat details: %v", err)
		}
		beats = append(beats, done)
	})
	env.ExecuteWorkflow(func(ctx workflow.Context) error {
		ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Minute})
		return workflow.ExecuteActivity(ctx, "push").Get(ctx, nil)
	})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	if len(beats) != 1 || beats[0] != 42 {
		t.Fatalf("heartbeats %v, want [42] (the bytes done)", beats)
	}
}

func TestPushProgressOutsideAnActivityDoesNothing(t *testing.T) {
	// activity.RecordHeartbeat panics without an activity context; a Pusher used directly must not.
	heartbeatPushProgress(context.Background(), 1, 2)
}
