package workflows

import (
	"errors"
	"testing"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
)

func TestRotateKeysReportsRewrapped(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	var got RewrapDataKeysInput
	env.RegisterActivityWithOptions(func(in RewrapDataKeysInput) (RewrapDataKeysResult, error) {
		got = in
		return RewrapDataKeysResult{Rewrapped: 7}, nil
	}, activityName(ActivityRewrapDataKeys))
	env.ExecuteWorkflow(RotateKeys, RotateKeysInput{KEKID: "kek-new"})
	if !env.IsWorkflowCompleted() {
		t.Fatal("workflow did not complete")
	}
	if err := env.GetWorkflowError(); err != nil {
		t.Fatalf("workflow error: %v", err)
	}
	var res RotateKeysResult
	if err := env.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	if res != (RotateKeysResult{KEKID: "kek-new", Rewrapped: 7}) {
		t.Fatalf("result = %+v", res)
	}
	if got.KEKID != "kek-new" {
		t.Fatalf("activity got KEK %q, want kek-new", got.KEKID)
	}
}

func TestRotateKeysFailsOnNonRetryableMismatch(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	calls := 0
	env.RegisterActivityWithOptions(func(in RewrapDataKeysInput) (RewrapDataKeysResult, error) {
		calls++
		return RewrapDataKeysResult{}, temporal.NewNonRetryableApplicationError("wrong KEK", "KeyMismatch", nil)
	}, activityName(ActivityRewrapDataKeys))
	env.ExecuteWorkflow(RotateKeys, RotateKeysInput{KEKID: "kek-x"})
	err := env.GetWorkflowError()
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) || appErr.Type() != "KeyMismatch" {
		t.Fatalf("workflow error = %v, want a KeyMismatch application error", err)
	}
	if calls != 1 {
		t.Fatalf("non-retryable activity ran %d times, want 1", calls)
	}
}
