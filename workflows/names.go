package workflows

import "time"

// TaskQueue is the task queue every slipway worker polls.
const TaskQueue = "slipway"

// DefaultNamespace is the Temporal namespace slipway uses when none is configured.
const DefaultNamespace = "default"

// Search attributes set on pipeline workflows so runs can be found in the Temporal UI and by the API.
// All are of keyword type.
const (
	SearchAttrProject     = "SlipwayProject"
	SearchAttrComponent   = "SlipwayComponent"
	SearchAttrCommit      = "SlipwayCommit"
	SearchAttrEnvironment = "SlipwayEnvironment"
	SearchAttrTrigger     = "SlipwayTrigger"
)

// SearchAttributes lists every custom search attribute slipway registers on its namespace.
func SearchAttributes() []string {
	return []string{SearchAttrProject, SearchAttrComponent, SearchAttrCommit, SearchAttrEnvironment, SearchAttrTrigger}
}

// Data planes an environment's releases run on (store.DataPlaneDocker and store.DataPlaneKubernetes).
const (
	DataPlaneDocker     = "docker"
	DataPlaneKubernetes = "kubernetes"
)

// DataPlanes lists every data plane a worker may serve.
func DataPlanes() []string { return []string{DataPlaneDocker, DataPlaneKubernetes} }

// DataPlaneTaskQueue is the task queue of the activities that must run where a data plane is reachable
// (rollouts, retirements, verifications, task runs and undeploys of the environments on it): only workers
// that serve the plane poll it (`slipway worker --data-plane`). A Docker host's worker alone serves docker,
// since its edge holds the entries; any number of workers may serve kubernetes. "" is docker (environments
// recorded before there was a choice).
func DataPlaneTaskQueue(plane string) string {
	if plane == "" {
		plane = DataPlaneDocker
	}
	return TaskQueue + "-" + plane
}

// versionDataPlaneQueue is the change that runs the data-plane activities on their plane's task queue
// (DataPlaneTaskQueue) rather than on TaskQueue, which every worker polls.
const versionDataPlaneQueue = "data-plane-queue"

// dataPlanePickUp bounds how long a data-plane activity waits for a worker serving its plane to pick it up;
// past it the step fails, saying no worker serves the plane, rather than waiting unseen.
const dataPlanePickUp = 10 * time.Minute
