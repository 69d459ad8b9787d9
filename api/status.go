package api

import "time"

// Build statuses (Build.Status): a build is queued, then running, then ends succeeded, failed or cancelled, and
// never changes again once ended.
const (
	// BuildQueued is a build stored but not yet picked up by a worker.
	BuildQueued = "queued"
	// BuildRunning is a build whose pipeline has started.
	BuildRunning = "running"
	// BuildSucceeded is a build whose pipeline ended without error: its image is pushed (Build.Digest).
	BuildSucceeded = "succeeded"
	// BuildFailed is a build that stopped on an error (Build.Error says which) or whose workflow never started.
	BuildFailed = "failed"
	// BuildCancelled is a build stopped by a cancel request.
	BuildCancelled = "cancelled"
)

// Step statuses (Step.Status): a step is pending until it starts, running, then ends succeeded, failed or
// cancelled. A step still running when its build ends takes the build's final status.
const (
	// StepPending is a step that has not started.
	StepPending = "pending"
	// StepRunning is a step under way.
	StepRunning = "running"
	// StepSucceeded is a step that did its work.
	StepSucceeded = "succeeded"
	// StepFailed is a step that stopped on an error.
	StepFailed = "failed"
	// StepCancelled is a step stopped because its build was cancelled.
	StepCancelled = "cancelled"
)

// Deployment statuses (Deployment.Status): a deployment is queued, then running, then ends succeeded or failed,
// and never changes again once ended — except that a succeeded deployment whose verification fails is
// rolled_back, once, when the previous release is deployed again in its place.
const (
	// DeploymentQueued is a deployment waiting on its environment's deploy workflow.
	DeploymentQueued = "queued"
	// DeploymentRunning is a deployment whose release is being rolled out.
	DeploymentRunning = "running"
	// DeploymentSucceeded is a deployment whose release serves (Deployment.URL says where).
	DeploymentSucceeded = "succeeded"
	// DeploymentFailed is a deployment that did not get its release serving (Deployment.Message says why).
	DeploymentFailed = "failed"
	// DeploymentRolledBack is a deployment whose release served but failed its environment's verification, so
	// the previous release was deployed again in its place (Deployment.Message says "rolled_back: verification
	// failed: …"). A build rolled back from an environment is not promoted from it.
	DeploymentRolledBack = "rolled_back"
)

// Step is one pipeline stage of a build with its state and times. The store keeps a build's steps in this form
// and the build workflow's steps query answers with it.
type Step struct {
	// Name is the stage, e.g. "checkout", "build", "scan", "push", "spec" or "deploy".
	Name string `json:"name"`
	// Status is one of the Step* statuses.
	Status string `json:"status"`
	// StartedAt is when the step started; nil means it has not.
	StartedAt *time.Time `json:"startedAt,omitempty"`
	// EndedAt is when the step ended; nil means it has not.
	EndedAt *time.Time `json:"endedAt,omitempty"`
}
