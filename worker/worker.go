package worker

import (
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"

	"github.com/slipway-dev/slipway/activities"
	"github.com/slipway-dev/slipway/workflows"
)

// Deps are the clients the activities use.
type Deps struct {
	Store   activities.SealedStore
	Keyring activities.Keyring
}

// New returns a worker polling workflows.TaskQueue with every slipway workflow and activity
// registered. The caller starts and stops it.
func New(c client.Client, d Deps) sdkworker.Worker {
	w := sdkworker.New(c, workflows.TaskQueue, sdkworker.Options{})
	Register(w, d)
	return w
}

// Register registers every slipway workflow and activity on r under their shared names.
func Register(r sdkworker.Registry, d Deps) {
	r.RegisterWorkflow(workflows.RotateKeys)
	keys := &activities.Keys{Store: d.Store, Keyring: d.Keyring}
	r.RegisterActivityWithOptions(keys.RewrapDataKeys, activity.RegisterOptions{Name: workflows.ActivityRewrapDataKeys})
}
