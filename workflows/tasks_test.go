package workflows

import (
	"context"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/slipway-dev/slipway/api"
)

// taskEnv is a test environment for TaskRun with stand-in activities: start says whether there is something to
// run, run is RunTask; failed collects what FailTaskRun recorded.
func taskEnv(t *testing.T, runnable bool, run func(context.Context, RunTaskInput) (TaskRunResult, error)) (*testsuite.TestWorkflowEnvironment, *[]FailTaskRunInput) {
	t.Helper()
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: "taskrun/shop/nightly/development-2026-12-03T10:00:00Z"})
	var failed []FailTaskRunInput
	env.RegisterActivityWithOptions(func(_ context.Context, in StartTaskRunInput) (StartTaskRunResult, error) {
		if in.RunID != TaskRunID(in.WorkflowID) || in.Task.Environment != "development" {
			t.Errorf("StartTaskRun input %+v", in)
		}
		return StartTaskRunResult{Runnable: runnable}, nil
	}, activityName(ActivityStartTaskRun))
	env.RegisterActivityWithOptions(run, activityName(ActivityRunTask))
	env.RegisterActivityWithOptions(func(_ context.Context, in FailTaskRunInput) error {
		failed = append(failed, in)
		return nil
	}, activityName(ActivityFailTaskRun))
	return env, &failed
}

var nightly = TaskRunInput{Project: "shop", Component: "nightly", Environment: "development", Trigger: api.RunTriggerSchedule}

func TestTaskRunRunsTheReleaseToAnEnd(t *testing.T) {
	code := 0
	env, failed := taskEnv(t, true, func(_ context.Context, in RunTaskInput) (TaskRunResult, error) {
		return TaskRunResult{Status: api.RunSucceeded, ExitCode: &code}, nil
	})
	env.ExecuteWorkflow(TaskRun, nightly)
	var res TaskRunResult
	if err := env.GetWorkflowResult(&res); err != nil || res.Status != api.RunSucceeded || len(*failed) != 0 {
		t.Fatalf("result %+v, %v, failures %v; want succeeded", res, err, *failed)
	}
}

func TestTaskRunWithNothingDeployedEnds(t *testing.T) {
	env, _ := taskEnv(t, false, func(context.Context, RunTaskInput) (TaskRunResult, error) {
		t.Error("RunTask called with nothing to run")
		return TaskRunResult{}, nil
	})
	env.ExecuteWorkflow(TaskRun, nightly)
	var res TaskRunResult
	if err := env.GetWorkflowResult(&res); err != nil || res.Status != api.RunFailed {
		t.Fatalf("result %+v, %v; want failed", res, err)
	}
}

func TestTaskRunRecordsARefusedRun(t *testing.T) {
	env, failed := taskEnv(t, true, func(context.Context, RunTaskInput) (TaskRunResult, error) {
		return TaskRunResult{}, temporal.NewNonRetryableApplicationError("the image is gone", "DataPlaneRefused", nil)
	})
	env.ExecuteWorkflow(TaskRun, nightly)
	var res TaskRunResult
	if err := env.GetWorkflowResult(&res); err != nil || res.Status != api.RunFailed || len(*failed) != 1 ||
		(*failed)[0].Message != "DataPlaneRefused: the image is gone" {
		t.Fatalf("result %+v, %v, failures %+v; want the refusal recorded", res, err, *failed)
	}
}

func TestTaskRunCancelledIsRecorded(t *testing.T) {
	env, failed := taskEnv(t, true, func(ctx context.Context, _ RunTaskInput) (TaskRunResult, error) {
		for { // a run that goes on until it is cancelled
			activity.RecordHeartbeat(ctx)
			select {
			case <-ctx.Done():
				return TaskRunResult{}, ctx.Err()
			case <-time.After(10 * time.Millisecond):
			}
		}
	})
	env.RegisterDelayedCallback(env.CancelWorkflow, 100*time.Millisecond)
	env.ExecuteWorkflow(TaskRun, nightly)
	var res TaskRunResult
	if err := env.GetWorkflowResult(&res); err != nil || len(*failed) != 1 || (*failed)[0].Message != "cancelled" {
		t.Fatalf("result %+v, %v, failures %+v; want the run recorded cancelled", res, err, *failed)
	}
}
