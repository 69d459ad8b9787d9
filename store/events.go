package store

import (
	"context"
	"fmt"
	"time"

	"github.com/slipway-dev/slipway/api"
)

// The change feed: every write that changes what the API shows appends one Event in its own transaction, so the
// feed holds exactly what was committed, in the order it was committed. Followers (GET /api/v1/events, the web
// console) read it by sequence number and re-read what an event names; an event carries names and IDs only,
// never a value.

// Event kinds: what an Event is about; the API's (see api.Event).
const (
	// EventBuild is a build created or changed; Ref is its ID.
	EventBuild = api.EventBuild
	// EventDeployment is a deployment created or changed; Ref is its ID.
	EventDeployment = api.EventDeployment
	// EventComponent is a component created, changed or deleted.
	EventComponent = api.EventComponent
	// EventConfig is a config value set or deleted; Ref is its key, never its value.
	EventConfig = api.EventConfig
	// EventEnvironment is an environment created or changed; Environment "" means the order changed.
	EventEnvironment = api.EventEnvironment
	// EventProject is a project created, changed or deleted.
	EventProject = api.EventProject
	// EventRun is a task run created or changed; Ref is its ID.
	EventRun = api.EventRun
	// EventPromotion is a promotion request created or changed; Ref is its ID.
	EventPromotion = api.EventPromotion
)

// Event is one committed change, as the feed records it.
type Event struct {
	// Seq numbers events from 1 in commit order, without gaps.
	Seq int64
	// At is when the change was committed (UTC, microseconds); zero on append means now.
	At time.Time
	// Kind is one of the Event* kinds.
	Kind string
	// Project, Component and Environment name what changed; "" means the event is not about one (a build has
	// no environment, a reorder no single environment).
	Project, Component, Environment string
	// Ref is the ID of the build or deployment, or the config key; "" for kinds that have none.
	Ref string
	// State is the status of the build, deployment or promotion request as this change committed it; "" for
	// other kinds.
	State string
}

const (
	// eventsLock is the PostgreSQL advisory lock ("events" in ASCII) that serialises appenders: held from the
	// append to the commit, so seq numbers are taken and committed one transaction at a time.
	eventsLock = 0x6576656e7473
	// pruneEvery is how many appends apart the feed is pruned: when a new seq is a multiple of it.
	pruneEvery = 256
	// eventRetention is how long an event is kept at least. The feed is for following, not for history.
	eventRetention = time.Hour
	// eventBatch is how many events Events returns when its limit is 0 or less.
	eventBatch = 1000
)

const eventColumns = "seq, at, kind, project, component, environment, ref, state"

// Events returns up to limit events with Seq above after, in Seq order (limit <= 0 means 1000). Events older
// than an hour may have been pruned: a follower that fell further behind than that misses them.
func (s *Store) Events(ctx context.Context, after int64, limit int) ([]Event, error) {
	if limit <= 0 {
		limit = eventBatch
	}
	rows, err := s.db().query(ctx, "SELECT "+eventColumns+" FROM events WHERE seq > ? ORDER BY seq LIMIT ?", after, limit)
	if err != nil {
		return nil, fmt.Errorf("reading events after %d: %w", after, err)
	}
	defer rows.Close()
	out := []Event{}
	for rows.Next() {
		var e Event
		var at int64
		if err := rows.Scan(&e.Seq, &at, &e.Kind, &e.Project, &e.Component, &e.Environment, &e.Ref, &e.State); err != nil {
			return nil, fmt.Errorf("reading events after %d: %w", after, err)
		}
		e.At = fromDB(at)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading events after %d: %w", after, err)
	}
	return out, nil
}

// LastEventSeq returns the Seq of the newest event; 0 when none was ever appended. A follower that wants only
// new events starts after it.
func (s *Store) LastEventSeq(ctx context.Context) (int64, error) {
	var seq int64
	if err := s.db().queryRow(ctx, "SELECT COALESCE(MAX(seq), 0) FROM events").Scan(&seq); err != nil {
		return 0, fmt.Errorf("reading the last event: %w", err)
	}
	return seq, nil
}

// appendEvent appends e (its Seq is ignored) in c's transaction, numbered after the newest event. Call it as
// the transaction's last statement: on PostgreSQL it takes eventsLock until commit, and a transaction holding
// it must not wait for a row another appender holds. Every pruneEvery appends, events older than
// eventRetention are deleted, except the one just appended.
func appendEvent(ctx context.Context, c conn, e Event) error {
	if c.d.name == "postgres" {
		// SQLite needs nothing: its write transactions run one at a time.
		if _, err := c.exec(ctx, "SELECT pg_advisory_xact_lock(?)", int64(eventsLock)); err != nil {
			return fmt.Errorf("appending a %s event: locking the feed: %w", e.Kind, err)
		}
	}
	e.At = normalize(e.At)
	if err := c.queryRow(ctx, "SELECT COALESCE(MAX(seq), 0) + 1 FROM events").Scan(&e.Seq); err != nil {
		return fmt.Errorf("appending a %s event: %w", e.Kind, err)
	}
	if _, err := c.exec(ctx, "INSERT INTO events ("+eventColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
		e.Seq, toDB(e.At), e.Kind, e.Project, e.Component, e.Environment, e.Ref, e.State); err != nil {
		return fmt.Errorf("appending a %s event: %w", e.Kind, err)
	}
	if e.Seq%pruneEvery != 0 {
		return nil
	}
	if _, err := c.exec(ctx, "DELETE FROM events WHERE at < ? AND seq < ?",
		toDB(now().Add(-eventRetention)), e.Seq); err != nil {
		return fmt.Errorf("pruning events: %w", err)
	}
	return nil
}

// buildEvent is the event of a change to build b.
func buildEvent(b Build) Event {
	return Event{Kind: EventBuild, Project: b.Project, Component: b.Component, Ref: b.ID, State: b.Status}
}

// deploymentEvent is the event of a change to deployment d.
func deploymentEvent(d Deployment) Event {
	return Event{Kind: EventDeployment, Project: d.Project, Component: d.Component, Environment: d.Environment, Ref: d.ID, State: d.Status}
}

// componentEvent is the event of a change to a component.
func componentEvent(project, component string) Event {
	return Event{Kind: EventComponent, Project: project, Component: component}
}

// configEvent is the event of a change to a config value: its key, never its value.
func configEvent(project, component, env, key string) Event {
	return Event{Kind: EventConfig, Project: project, Component: component, Environment: env, Ref: key}
}

// environmentEvent is the event of a change to an environment; env "" means to the project's environments
// as a whole (their order).
func environmentEvent(project, env string) Event {
	return Event{Kind: EventEnvironment, Project: project, Environment: env}
}

// projectEvent is the event of a change to a project.
func projectEvent(project string) Event { return Event{Kind: EventProject, Project: project} }
