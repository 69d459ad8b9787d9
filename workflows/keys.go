package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// ActivityRewrapDataKeys is the registered name of the activity that re-wraps every stored data key
// with the active key-encryption key.
const ActivityRewrapDataKeys = "RewrapDataKeys"

// RotateKeysWorkflowID names the rotation to a given KEK, so asking twice for the same rotation
// runs it once.
func RotateKeysWorkflowID(kekID string) string { return "keys/rotate/" + kekID }

// RotateKeysInput names the key-encryption key every data key must end up wrapped by.
type RotateKeysInput struct {
	KEKID string `json:"kekId"`
}

// RotateKeysResult reports how many stored values had their data key re-wrapped.
type RotateKeysResult struct {
	KEKID     string `json:"kekId"`
	Rewrapped int    `json:"rewrapped"`
}

// RewrapDataKeysInput is the input of the ActivityRewrapDataKeys activity.
type RewrapDataKeysInput struct {
	KEKID string `json:"kekId"`
}

// RewrapDataKeysResult is the result of the ActivityRewrapDataKeys activity.
type RewrapDataKeysResult struct {
	Rewrapped int `json:"rewrapped"`
}

// RotateKeys re-wraps every stored data key with the key-encryption key named in the input. The
// values' ciphertexts are never decrypted; the activity is idempotent, so a retry after a crash
// re-wraps only what is left.
func RotateKeys(ctx workflow.Context, in RotateKeysInput) (RotateKeysResult, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Minute,
		HeartbeatTimeout:    time.Minute,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    time.Second,
			BackoffCoefficient: 2,
			MaximumInterval:    time.Minute,
			MaximumAttempts:    10,
		},
	})
	var res RewrapDataKeysResult
	if err := workflow.ExecuteActivity(ctx, ActivityRewrapDataKeys, RewrapDataKeysInput(in)).Get(ctx, &res); err != nil {
		return RotateKeysResult{}, err
	}
	return RotateKeysResult{KEKID: in.KEKID, Rewrapped: res.Rewrapped}, nil
}
