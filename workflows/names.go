package workflows

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
