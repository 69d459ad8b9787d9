package api

import "time"

// Task run statuses.
const (
	// RunQueued is a run stored but not yet started on the data plane.
	RunQueued = "queued"
	// RunRunning is a run whose container runs.
	RunRunning = "running"
	// RunSucceeded is a run whose container exited 0.
	RunSucceeded = "succeeded"
	// RunFailed is a run whose container exited non-zero, or that could not start (Message says why).
	RunFailed = "failed"
)

// Run triggers: what started a task run.
const (
	// RunTriggerSchedule is a run its environment's schedule started.
	RunTriggerSchedule = "schedule"
	// RunTriggerManual is a run asked for through the API (the CLI, the console).
	RunTriggerManual = "manual"
	// RunTriggerVerification is a run that verifies a release of another component (its environment's
	// Verification.Task); a non-zero exit rolls that release back.
	RunTriggerVerification = "verification"
)

// Overlap policies: what a scheduled run due while the last one still runs does (Temporal's overlap policies).
const (
	// OverlapSkip does not start it (the default).
	OverlapSkip = "skip"
	// OverlapBufferOne starts it once the running one ends; one at most waits.
	OverlapBufferOne = "buffer-one"
	// OverlapAllow starts it beside the running one.
	OverlapAllow = "allow"
	// OverlapCancelOther cancels the running one, then starts it.
	OverlapCancelOther = "cancel-other"
)

// OverlapPolicies are the overlap policies, the default first.
var OverlapPolicies = []string{OverlapSkip, OverlapBufferOne, OverlapAllow, OverlapCancelOther}

// TaskRun is one run of a task's release in one environment, to completion.
type TaskRun struct {
	// ID names the run.
	ID          string `json:"id"`
	Project     string `json:"project"`
	Component   string `json:"component"`
	Environment string `json:"environment"`
	// Build and Deployment are the release run: the build deployed to Environment when the run started, and
	// that deployment (its configs and secrets); "" until the run started.
	Build      string `json:"build,omitempty"`
	Deployment string `json:"deployment,omitempty"`
	// Trigger is RunTriggerSchedule, RunTriggerManual or RunTriggerVerification; Actor the token's name of a manual run ("" otherwise).
	Trigger string `json:"trigger"`
	Actor   string `json:"actor,omitempty"`
	// Status is one of the Run* statuses.
	Status string `json:"status"`
	// ExitCode is the container's exit status; nil (and absent) until it ended, or when it never started.
	ExitCode *int `json:"exitCode,omitempty"`
	// DurationSeconds is how long the container ran; 0 until it ended.
	DurationSeconds float64 `json:"durationSeconds,omitempty"`
	// Message says why a run failed or what it is waiting for; "" when nothing.
	Message string `json:"message,omitempty"`
	// WorkflowID names the run's Temporal workflow (a scheduled run's ends in the time it was due).
	WorkflowID string     `json:"workflowId"`
	CreatedAt  time.Time  `json:"createdAt"`
	StartedAt  *time.Time `json:"startedAt,omitempty"`
	EndedAt    *time.Time `json:"endedAt,omitempty"`
}

// TaskScheduleFields is the body of PUT /api/v1/projects/{p}/components/{c}/environments/{e}/schedule.
type TaskScheduleFields struct {
	// Cron is when runs start: five fields (minute hour day-of-month month day-of-week) or a descriptor such as
	// "@hourly"; required.
	Cron string `json:"cron"`
	// TimeZone is the IANA time zone Cron is read in; "" means UTC.
	TimeZone string `json:"timeZone"`
	// Overlap is what a run due while the last one still runs does: one of OverlapPolicies; "" means OverlapSkip.
	Overlap string `json:"overlap"`
	// Paused stops starting runs until it is false again.
	Paused bool `json:"paused"`
}

// TaskSchedule is a scheduled task's schedule in one environment.
type TaskSchedule struct {
	Environment string `json:"environment"`
	Cron        string `json:"cron"`
	TimeZone    string `json:"timeZone"`
	Overlap     string `json:"overlap"`
	Paused      bool   `json:"paused"`
	// Next are the next times runs are due (UTC), at most 3; [] when paused.
	Next      []time.Time `json:"next"`
	UpdatedAt time.Time   `json:"updatedAt"`
}
