package api

import "time"

// Event kinds: what an Event is about. They are also the SSE event names of GET /api/v1/events, which the web
// console listens for.
const (
	// EventBuild: a build was created or changed (status, steps, digest, scan, spec); Ref is its ID.
	EventBuild = "build"
	// EventDeployment: a deployment was created or changed; Ref is its ID.
	EventDeployment = "deployment"
	// EventComponent: a component was created, changed (auto build, auto deploy, repo credential …) or deleted.
	EventComponent = "component"
	// EventConfig: a config value was set or deleted; Ref is its key. A value is never in an event.
	EventConfig = "config"
	// EventEnvironment: an environment was created or changed (settings, kubeconfig), or the project's
	// environments were reordered (Environment is "" then).
	EventEnvironment = "environment"
	// EventProject: a project was created, changed (scan policy) or deleted.
	EventProject = "project"
	// EventRun: a task run was created or changed (status, exit code); Ref is its ID.
	EventRun = "run"
	// EventPromotion: a promotion request was created or changed (status, a decision); Ref is its ID.
	EventPromotion = "promotion"
)

// Event is one committed change in slipway's change feed: the data of one server-sent event of
// GET /api/v1/events and an entry of its JSON answer. It names what changed; read that to see how.
type Event struct {
	// Seq numbers events from 1 in commit order, without gaps; it is also the SSE event's id.
	Seq int64 `json:"seq"`
	// At is when the change was committed (UTC).
	At time.Time `json:"at"`
	// Kind is one of the Event* kinds.
	Kind string `json:"kind"`
	// Project, Component and Environment name what changed; "" (and absent) when the event is not about one.
	Project     string `json:"project,omitempty"`
	Component   string `json:"component,omitempty"`
	Environment string `json:"environment,omitempty"`
	// Ref is the ID of the build or deployment, or the config key; "" (and absent) for kinds that have none.
	Ref string `json:"ref,omitempty"`
}

// EventList is the JSON answer of GET /api/v1/events?follow=false (or with Accept: application/json): the
// events after the request's cursor that match its filters, oldest first.
type EventList struct {
	// Events are the matching events in Seq order; never null, [] when there are none.
	Events []Event `json:"events"`
	// Last is the Seq to pass as after for the next page: that of the last event read, matched or not (the
	// request's own after when there was none). Events older than an hour may have been pruned.
	Last int64 `json:"last"`
	// More says the page is full: more events may follow Last right away.
	More bool `json:"more,omitempty"`
}
