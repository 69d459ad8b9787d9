package workflows

import (
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// ActivityUndeploy is the name of the activity that removes what a component runs.
const ActivityUndeploy = "Undeploy"

// UndeployInput names what to stop running: every component of Project, or only Component.
type UndeployInput struct {
	Project string `json:"project"`
	// Component is the one component to undeploy; "" means every component of the project.
	Component string `json:"component,omitempty"`
	// DataPlanes are the data planes the workflow undeploys from, each in an activity on its task queue; nil
	// (runs started before it was added) means one activity on TaskQueue for every plane.
	DataPlanes []string `json:"dataPlanes,omitempty"`
	// DataPlane limits the activity to the releases of environments on this data plane; "" means every one.
	DataPlane string `json:"dataPlane,omitempty"`
}

// UndeployResult says how many releases were removed.
type UndeployResult struct {
	Removed int `json:"removed"`
}

// UndeployWorkflowID is the ID of the Undeploy of a project's component ("" for the whole project).
func UndeployWorkflowID(project, component string) string {
	if component == "" {
		return "undeploy/" + project
	}
	return "undeploy/" + project + "/" + component
}

// Undeploy removes every release the project's component (or every component) runs, in every
// environment, from its data plane and its entry, so that deleting it leaves nothing running with
// its configs and secrets. The part on each data plane runs on a worker serving it.
func Undeploy(ctx workflow.Context, in UndeployInput) (UndeployResult, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 10 * time.Minute,
		HeartbeatTimeout:    time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, MaximumInterval: 30 * time.Second, MaximumAttempts: 10},
	})
	var res UndeployResult
	if len(in.DataPlanes) == 0 || workflow.GetVersion(ctx, versionDataPlaneQueue, workflow.DefaultVersion, 1) < 1 {
		err := workflow.ExecuteActivity(ctx, ActivityUndeploy, in).Get(ctx, &res)
		return res, err
	}
	futures := make([]workflow.Future, len(in.DataPlanes))
	for i, plane := range in.DataPlanes {
		one := UndeployInput{Project: in.Project, Component: in.Component, DataPlane: plane}
		futures[i] = workflow.ExecuteActivity(dataPlaneRoute{routed: true, plane: plane}.on(ctx), ActivityUndeploy, one)
	}
	var errs []error
	for i, f := range futures {
		var one UndeployResult
		if err := f.Get(ctx, &one); err != nil {
			errs = append(errs, fmt.Errorf("%s: %s", in.DataPlanes[i], dataPlaneRoute{routed: true, plane: in.DataPlanes[i]}.failure(err)))
		}
		res.Removed += one.Removed
	}
	return res, errors.Join(errs...)
}
