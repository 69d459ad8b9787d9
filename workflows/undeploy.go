package workflows

import (
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
// its configs and secrets. It runs on the worker that holds the data planes.
func Undeploy(ctx workflow.Context, in UndeployInput) (UndeployResult, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 10 * time.Minute,
		HeartbeatTimeout:    time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, MaximumInterval: 30 * time.Second, MaximumAttempts: 10},
	})
	var res UndeployResult
	err := workflow.ExecuteActivity(ctx, ActivityUndeploy, in).Get(ctx, &res)
	return res, err
}
