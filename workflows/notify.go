package workflows

import (
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// Names of the notification activities.
const (
	ActivityDeliverNotification = "DeliverNotification"
	ActivityFailNotification    = "FailNotification"
	// notifyAttempts bounds the tries of one delivery: with a backoff from 2 s doubling up to 5 min, about
	// 20 minutes of trying.
	notifyAttempts = 9
)

// NotifyWorkflowID names the workflow of one delivery: it runs once per delivery.
func NotifyWorkflowID(deliveryID string) string { return "notify/" + deliveryID }

// NotifyStart is what starts the Notify workflow of a delivery; a second start of the same delivery, even after it
// ended, is refused by Temporal (WorkflowExecutionAlreadyStarted).
func NotifyStart(deliveryID string) client.StartWorkflowOptions {
	return client.StartWorkflowOptions{ID: NotifyWorkflowID(deliveryID), TaskQueue: TaskQueue,
		WorkflowIDReusePolicy: enums.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE}
}

// NotifyInput names the delivery; the activity reads the hook, its secret and what happened from the store.
type NotifyInput struct {
	DeliveryID string `json:"deliveryId"`
}

// DeliverNotificationInput POSTs the delivery once.
type DeliverNotificationInput struct {
	DeliveryID string `json:"deliveryId"`
}

// FailNotificationInput records a delivery given up, and why.
type FailNotificationInput struct {
	DeliveryID string `json:"deliveryId"`
	Message    string `json:"message"`
}

// Notify delivers one notification to one hook: the activity POSTs it, signed, and is retried with backoff while
// the hook does not take it (a refusal with a 4xx other than 408 and 429 is final); given up, it is recorded
// failed.
func Notify(ctx workflow.Context, in NotifyInput) error {
	deliver := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: 2 * time.Second, BackoffCoefficient: 2, MaximumInterval: 5 * time.Minute,
			MaximumAttempts: notifyAttempts},
	})
	err := workflow.ExecuteActivity(deliver, ActivityDeliverNotification, DeliverNotificationInput{DeliveryID: in.DeliveryID}).Get(ctx, nil)
	if err == nil {
		return nil
	}
	short := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, MaximumInterval: 30 * time.Second, MaximumAttempts: 10},
	})
	return workflow.ExecuteActivity(short, ActivityFailNotification, FailNotificationInput{DeliveryID: in.DeliveryID, Message: failureMessage(err)}).Get(ctx, nil)
}
