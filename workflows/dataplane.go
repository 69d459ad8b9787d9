package workflows

import (
	"errors"
	"fmt"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// dataPlaneRoute moves the steps that must run where a data plane is reachable onto the plane's task queue
// (DataPlaneTaskQueue), waiting at most dataPlanePickUp for a worker serving it. The zero route (runs recorded
// before versionDataPlaneQueue) leaves them on TaskQueue.
type dataPlaneRoute struct {
	routed bool
	// plane is the data plane; "" is docker.
	plane string
}

// on returns ctx with its activity options moved onto the plane's task queue.
func (r dataPlaneRoute) on(ctx workflow.Context) workflow.Context {
	if !r.routed {
		return ctx
	}
	o := workflow.GetActivityOptions(ctx)
	o.TaskQueue = DataPlaneTaskQueue(r.plane)
	o.ScheduleToStartTimeout = dataPlanePickUp
	return workflow.WithActivityOptions(ctx, o)
}

// failure is failureMessage of a data-plane step's error, saying what to start when no worker serving the
// plane took the step.
func (r dataPlaneRoute) failure(err error) string {
	var te *temporal.TimeoutError
	if errors.As(err, &te) && te.TimeoutType() == enumspb.TIMEOUT_TYPE_SCHEDULE_TO_START {
		plane := r.plane
		if plane == "" {
			plane = DataPlaneDocker
		}
		return fmt.Sprintf("no worker serving the %s data plane took this step within %s (task queue %s): start one with `slipway worker --data-plane %s`",
			plane, dataPlanePickUp, DataPlaneTaskQueue(plane), plane)
	}
	return failureMessage(err)
}
