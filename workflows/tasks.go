package workflows

import (
	"crypto/sha256"
	"encoding/hex"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/slipway-dev/slipway/api"
)

// Names of the task activities.
const (
	ActivityStartTaskRun = "StartTaskRun"
	ActivityRunTask      = "RunTask"
	ActivityFailTaskRun  = "FailTaskRun"
)

// TaskScheduleID names the Temporal Schedule that starts the runs of a scheduled task in an environment.
func TaskScheduleID(project, component, environment string) string {
	return "schedule/" + project + "/" + component + "/" + environment
}

// TaskRunWorkflowID is the workflow ID of a task's runs in an environment: a schedule's runs are this ID with
// the time each was due appended by Temporal; a manual run appends "/" and a random suffix.
func TaskRunWorkflowID(project, component, environment string) string {
	return "taskrun/" + project + "/" + component + "/" + environment
}

// TaskRunID is the ID of the run the TaskRun workflow with this ID runs: the same workflow, the same run, so a
// start repeated by Temporal or a retried activity records one run.
func TaskRunID(workflowID string) string {
	sum := sha256.Sum256([]byte(workflowID))
	return "run-" + hex.EncodeToString(sum[:])[:16]
}

// TaskRunInput names the task and environment whose current release runs; Trigger is api.RunTriggerSchedule or
// api.RunTriggerManual and Actor the token's name of a manual run. The run's ID is TaskRunID of the workflow's.
type TaskRunInput struct {
	Project     string `json:"project"`
	Component   string `json:"component"`
	Environment string `json:"environment"`
	Trigger     string `json:"trigger"`
	Actor       string `json:"actor,omitempty"`
	// Verifies is the deployment a verification run verifies (api.RunTriggerVerification); "" otherwise.
	Verifies string `json:"verifies,omitempty"`
}

// StartTaskRunInput records a run (once) and picks the release it runs: the environment's current one.
type StartTaskRunInput struct {
	RunID      string       `json:"runId"`
	WorkflowID string       `json:"workflowId"`
	Task       TaskRunInput `json:"task"`
}

// StartTaskRunResult says whether there is a release to run; when not, the run was recorded failed, saying why.
type StartTaskRunResult struct {
	Runnable bool `json:"runnable"`
	// DataPlane is the data plane of the environment the run is in, whose task queue RunTask goes to; "" is
	// docker.
	DataPlane string `json:"dataPlane,omitempty"`
}

// RunTaskInput runs the recorded run's release to completion.
type RunTaskInput struct {
	RunID string `json:"runId"`
	// Verifies is the deployment a verification run verifies: the run is told where its release is reached
	// (SLIPWAY_VERIFY_ADDRESS, SLIPWAY_VERIFY_URL, SLIPWAY_VERIFY_BUILD); "" for other runs.
	Verifies string `json:"verifies,omitempty"`
}

// TaskRunResult is how a run ended: api.RunSucceeded or api.RunFailed, with the container's exit code.
type TaskRunResult struct {
	Status   string `json:"status"`
	ExitCode *int   `json:"exitCode,omitempty"`
	Message  string `json:"message,omitempty"`
}

// FailTaskRunInput records a run that could not run to an end.
type FailTaskRunInput struct {
	RunID   string `json:"runId"`
	Message string `json:"message"`
}

// taskRunMaxDuration bounds one run; a run longer than this is failed (and its container removed).
const taskRunMaxDuration = 6 * time.Hour

// TaskRun runs one task's current release in one environment to completion: it records the run and picks the
// release, runs its container until it exits (the activity heartbeats; its output is kept with the run), and
// records the exit code. A run that cannot start or end (nothing deployed, the data plane refused) is recorded
// failed with why; the workflow itself fails only when even that cannot be recorded.
func TaskRun(ctx workflow.Context, in TaskRunInput) (TaskRunResult, error) {
	wid := workflow.GetInfo(ctx).WorkflowExecution.ID
	runID := TaskRunID(wid)
	short := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, MaximumInterval: 30 * time.Second, MaximumAttempts: 10},
	})
	var start StartTaskRunResult
	if err := workflow.ExecuteActivity(short, ActivityStartTaskRun, StartTaskRunInput{RunID: runID, WorkflowID: wid, Task: in}).Get(ctx, &start); err != nil {
		return TaskRunResult{}, err
	}
	if !start.Runnable {
		return TaskRunResult{Status: api.RunFailed, Message: "nothing to run"}, nil
	}
	route := dataPlaneRoute{routed: workflow.GetVersion(ctx, versionDataPlaneQueue, workflow.DefaultVersion, 1) >= 1, plane: start.DataPlane}
	long := route.on(workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: taskRunMaxDuration,
		HeartbeatTimeout:    30 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: 2 * time.Second, MaximumInterval: time.Minute, MaximumAttempts: 5},
		WaitForCancellation: true,
	}))
	var res TaskRunResult
	err := workflow.ExecuteActivity(long, ActivityRunTask, RunTaskInput{RunID: runID, Verifies: in.Verifies}).Get(ctx, &res)
	if err == nil {
		return res, nil
	}
	msg := route.failure(err)
	if temporal.IsCanceledError(err) {
		msg = "cancelled"
	}
	// A cancelled run (an overlapping one replaced it) is still recorded: on a context that is not cancelled.
	dctx, _ := workflow.NewDisconnectedContext(short)
	if ferr := workflow.ExecuteActivity(dctx, ActivityFailTaskRun, FailTaskRunInput{RunID: runID, Message: msg}).Get(dctx, nil); ferr != nil {
		return TaskRunResult{}, ferr
	}
	return TaskRunResult{Status: api.RunFailed, Message: msg}, nil
}
