package api

import "time"

// Component types: what a component is, which decides how its releases run.
const (
	// ComponentService is a long-running process serving its endpoints (the default).
	ComponentService = "service"
	// ComponentWebApp is a long-running process serving one HTTP endpoint, at its entry.
	ComponentWebApp = "web-app"
	// ComponentScheduledTask runs to completion on a schedule (a cron expression per environment).
	ComponentScheduledTask = "scheduled-task"
	// ComponentManualTask runs to completion when asked (POST …/environments/{e}/runs).
	ComponentManualTask = "manual-task"
)

// ComponentTypes are the component types, the default first.
var ComponentTypes = []string{ComponentService, ComponentWebApp, ComponentScheduledTask, ComponentManualTask}

// IsTask says whether components of type t run to completion (a task) rather than serve.
func IsTask(t string) bool { return t == ComponentScheduledTask || t == ComponentManualTask }

// ComponentFields is the body of POST /api/v1/projects/{p}/components and of PATCH …/components/{c} (a JSON merge
// patch): a nil (absent) field is not given. In a PATCH, null resets a field: the string fields to their
// defaults, the others to false or none.
type ComponentFields struct {
	// Name is the component's name, unique in the project; required on POST, and cannot change.
	Name *string `json:"name"`
	// Repo is the Git repository URL; required.
	Repo *string `json:"repo"`
	// Branch is the deployment track; "" means "main".
	Branch *string `json:"branch"`
	// Dockerfile is the Dockerfile's path in the repository; "" means "Dockerfile".
	Dockerfile *string `json:"dockerfile"`
	// Context is the build context directory in the repository; "" means ".".
	Context *string `json:"context"`
	// AutoBuild builds every new commit pushed to Branch (through the repository's webhook).
	AutoBuild *bool `json:"autoBuild"`
	// AutoDeploy deploys every successful build to the project's first environment.
	AutoDeploy *bool `json:"autoDeploy"`
	// Paths filters auto-builds: a push builds only when a changed file matches one; [] means every push does.
	Paths *[]string `json:"paths"`
	// Type is what the component is: ComponentService (the default), ComponentWebApp, ComponentScheduledTask or
	// ComponentManualTask.
	Type *string `json:"type"`
}

// Component is a component as the API shows it.
type Component struct {
	// Project names the project the component belongs to.
	Project string `json:"project"`
	// Name is unique within the project.
	Name string `json:"name"`
	// Repo is the Git repository URL.
	Repo string `json:"repo"`
	// Branch is the deployment track.
	Branch string `json:"branch"`
	// Dockerfile is the path of the Dockerfile in the repository.
	Dockerfile string `json:"dockerfile"`
	// Context is the build context directory in the repository.
	Context string `json:"context"`
	// AutoBuild builds every new commit on Branch; false means builds are triggered by hand.
	AutoBuild bool `json:"autoBuild"`
	// AutoDeploy deploys every successful build to the first environment; false means deploys are by hand.
	AutoDeploy bool `json:"autoDeploy"`
	// Paths filters auto-builds (path.Match patterns, or directories ending in "/"); [] means every push builds.
	Paths []string `json:"paths"`
	// Type is what the component is: a service, a web app, a scheduled task or a manual task (Component*).
	Type string `json:"type"`
	// CreatedAt is when the component was created (UTC).
	CreatedAt time.Time `json:"createdAt"`
	// UpdatedAt is when the component last changed (UTC).
	UpdatedAt time.Time `json:"updatedAt"`
}

// ComponentResponse is the answer of POST and PATCH …/components[/{c}]: the component and, when its auto-build is
// on, its repository's webhook.
type ComponentResponse struct {
	Component
	// Webhook is how the repository's pushes reach slipway; nil (and absent) when auto-build is off.
	Webhook *Webhook `json:"webhook,omitempty"`
}

// Webhook tells how a repository's push deliveries reach slipway.
type Webhook struct {
	// URL is where the Git host delivers pushes.
	URL string `json:"url"`
	// Registered says slipway registered the webhook on the Git host itself; false means it is to be added
	// by hand, with Secret.
	Registered bool `json:"registered"`
	// Secret signs the deliveries; shown only when the webhook was just made and must be added by hand, never
	// again. "" (and absent) otherwise.
	Secret string `json:"secret,omitempty"`
	// Note says what to do, if anything; "" (and absent) when nothing.
	Note string `json:"note,omitempty"`
}
