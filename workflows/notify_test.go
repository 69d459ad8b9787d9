package workflows

import (
	"context"
	"errors"
	"strings"
	"testing"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
)

// A delivery is retried while the hook fails, with backoff, and recorded failed when given up or refused.
func TestNotifyRetriesThenGivesUp(t *testing.T) {
	for _, tc := range []struct {
		name     string
		answer   func(attempt int) error
		attempts int
		failed   string
	}{
		{"delivered on the third try", func(n int) error {
			if n < 3 {
				return errors.New("answered 502 Bad Gateway")
			}
			return nil
		}, 3, ""},
		{"refused", func(int) error {
			return temporal.NewNonRetryableApplicationError("hook nh-1 refused with 404 Not Found", "NotificationRefused", nil)
		}, 1, "refused with 404"},
		{"never answers", func(int) error { return errors.New("no answer: connection refused") }, notifyAttempts, "connection refused"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var s testsuite.WorkflowTestSuite
			env := s.NewTestWorkflowEnvironment()
			attempts, failed := 0, ""
			env.RegisterActivityWithOptions(func(ctx context.Context, in DeliverNotificationInput) error {
				attempts++
				return tc.answer(attempts)
			}, activityName(ActivityDeliverNotification))
			env.RegisterActivityWithOptions(func(ctx context.Context, in FailNotificationInput) error {
				failed = in.Message
				return nil
			}, activityName(ActivityFailNotification))
			env.ExecuteWorkflow(Notify, NotifyInput{DeliveryID: "nd-1"})
			if err := env.GetWorkflowError(); err != nil {
				t.Fatal(err)
			}
			if attempts != tc.attempts || (tc.failed == "") != (failed == "") || !strings.Contains(failed, tc.failed) {
				t.Fatalf("%d attempts, failed %q; want %d, %q", attempts, failed, tc.attempts, tc.failed)
			}
		})
	}
}
