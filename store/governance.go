package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/slipway-dev/slipway/api"
)

// Stopped lines and quarantined builds: the two switches that refuse every deploy and promotion they cover.

// ProjectLine is the environment name of a stopped line that stops the whole project's.
const ProjectLine = ""

func lineRef(project, environment string) string {
	if environment == ProjectLine {
		return "the line of " + projectRef(project)
	}
	return "the line of " + environmentRef(project, environment)
}

// StopLine stops the line of the project's environment (ProjectLine: of the whole project) for reason by actor,
// replacing the reason of one already stopped. It fails with ErrNotFound when the project or environment does
// not exist and ErrInvalid when reason is empty.
func (s *Store) StopLine(ctx context.Context, project, environment, reason, actor string) (api.Stop, error) {
	if reason == "" {
		return api.Stop{}, invalid("stopping %s: the reason is empty", lineRef(project, environment))
	}
	st := api.Stop{Reason: reason, Actor: actor, At: now()}
	err := s.inTx(ctx, func(c conn) error {
		if err := requireLine(ctx, c, project, environment); err != nil {
			return err
		}
		if _, err := c.exec(ctx, `INSERT INTO line_stops (project, environment, reason, actor, at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (project, environment) DO UPDATE SET reason = excluded.reason, actor = excluded.actor, at = excluded.at`,
			project, environment, reason, actor, toDB(st.At)); err != nil {
			return fmt.Errorf("stopping %s: %w", lineRef(project, environment), err)
		}
		return appendEvent(ctx, c, lineEvent(project, environment))
	})
	return st, err
}

// StartLine lifts the stop of the line of the project's environment (ProjectLine: of the whole project). It
// fails with ErrNotFound when the line is not stopped.
func (s *Store) StartLine(ctx context.Context, project, environment string) error {
	return s.deleteOne(ctx, "the stop of "+lineRef(project, environment), lineEvent(project, environment),
		func(c conn) error { return requireLine(ctx, c, project, environment) },
		"DELETE FROM line_stops WHERE project = ? AND environment = ?", project, environment)
}

// ProjectStop returns the stop of the project's whole line; ok is false when it runs.
func (s *Store) ProjectStop(ctx context.Context, project string) (st api.Stop, ok bool, err error) {
	stops, err := lineStops(ctx, s.db(), project)
	if err != nil {
		return api.Stop{}, false, err
	}
	st, ok = stops[ProjectLine]
	return st, ok, nil
}

func requireLine(ctx context.Context, c conn, project, environment string) error {
	if environment == ProjectLine {
		return c.requireProject(ctx, project, lockShare)
	}
	return c.requireEnvironment(ctx, project, environment, lockShare)
}

func lineEvent(project, environment string) Event {
	if environment == ProjectLine {
		return Event{Kind: EventProject, Project: project}
	}
	return environmentEvent(project, environment)
}

// lineStops returns the project's stopped lines by environment (ProjectLine for the project's own).
func lineStops(ctx context.Context, c conn, project string) (map[string]api.Stop, error) {
	rows, err := c.query(ctx, "SELECT environment, reason, actor, at FROM line_stops WHERE project = ?", project)
	if err != nil {
		return nil, fmt.Errorf("reading the stopped lines of %s: %w", projectRef(project), err)
	}
	defer rows.Close()
	out := map[string]api.Stop{}
	for rows.Next() {
		var env string
		var st api.Stop
		var at int64
		if err := rows.Scan(&env, &st.Reason, &st.Actor, &at); err != nil {
			return nil, fmt.Errorf("reading the stopped lines of %s: %w", projectRef(project), err)
		}
		st.At = fromDB(at)
		out[env] = st
	}
	return out, rows.Err()
}

// QuarantineBuild quarantines the build for reason by actor, replacing the reason of one already quarantined.
// It fails with ErrNotFound when the build does not exist and ErrInvalid when reason is empty.
func (s *Store) QuarantineBuild(ctx context.Context, id, reason, actor string) (api.Quarantine, error) {
	if reason == "" {
		return api.Quarantine{}, invalid("quarantining build %s: the reason is empty", id)
	}
	q := api.Quarantine{Reason: reason, Actor: actor, At: now()}
	err := s.inTx(ctx, func(c conn) error {
		b, err := getBuild(ctx, c, id, lockShare)
		if err != nil {
			return err
		}
		if _, err := c.exec(ctx, `INSERT INTO build_quarantines (build_id, reason, actor, at) VALUES (?, ?, ?, ?)
			ON CONFLICT (build_id) DO UPDATE SET reason = excluded.reason, actor = excluded.actor, at = excluded.at`,
			id, reason, actor, toDB(q.At)); err != nil {
			return fmt.Errorf("quarantining build %s: %w", id, err)
		}
		return appendEvent(ctx, c, Event{Kind: EventBuild, Project: b.Project, Component: b.Component, Ref: id})
	})
	return q, err
}

// UnquarantineBuild lifts the build's quarantine. It fails with ErrNotFound when the build is not quarantined.
func (s *Store) UnquarantineBuild(ctx context.Context, id string) error {
	return s.deleteOne(ctx, "the quarantine of build "+id, Event{Kind: EventBuild, Ref: id},
		func(c conn) error { _, err := getBuild(ctx, c, id, lockShare); return err },
		"DELETE FROM build_quarantines WHERE build_id = ?", id)
}

// Quarantines returns the quarantines of those of the builds that are quarantined, by build ID.
func (s *Store) Quarantines(ctx context.Context, ids ...string) (map[string]api.Quarantine, error) {
	out := map[string]api.Quarantine{}
	for len(ids) > 0 {
		batch := ids[:min(len(ids), 500)]
		ids = ids[len(batch):]
		args := make([]any, len(batch))
		for i, id := range batch {
			args[i] = id
		}
		rows, err := s.db().query(ctx, "SELECT build_id, reason, actor, at FROM build_quarantines WHERE build_id IN ("+
			placeholders(len(batch))+")", args...)
		if err != nil {
			return nil, fmt.Errorf("reading quarantines: %w", err)
		}
		for rows.Next() {
			var id string
			var q api.Quarantine
			var at int64
			if err := rows.Scan(&id, &q.Reason, &q.Actor, &at); err != nil {
				rows.Close()
				return nil, fmt.Errorf("reading quarantines: %w", err)
			}
			q.At = fromDB(at)
			out[id] = q
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("reading quarantines: %w", err)
		}
	}
	return out, nil
}

// placeholders is n comma-separated "?".
func placeholders(n int) string {
	if n == 0 {
		return ""
	}
	b := make([]byte, 0, 2*n)
	for i := range n {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '?')
	}
	return string(b)
}

// AuditEntry is one line of the audit log (api.AuditEntry); ID and At are set by the store.
type AuditEntry = api.AuditEntry

// AppendAudit writes e to the audit log, with a fresh ID and the time now when e.At is zero.
func (s *Store) AppendAudit(ctx context.Context, e AuditEntry) (AuditEntry, error) {
	fillAudit(&e)
	return e, appendAudit(ctx, s.db(), e)
}

func appendAudit(ctx context.Context, c conn, e AuditEntry) error {
	fillAudit(&e)
	if _, err := c.exec(ctx, `INSERT INTO audit_log (id, at, actor, action, project, component, environment, target,
		reason, result) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, e.ID, toDB(e.At), e.Actor, e.Action, e.Project, e.Component,
		e.Environment, e.Target, e.Reason, e.Result); err != nil {
		return fmt.Errorf("writing the audit log: %w", err)
	}
	return nil
}

// fillAudit gives e a fresh ID, the time now and the result "ok" where it has none.
func fillAudit(e *AuditEntry) {
	if e.ID == "" {
		e.ID = "a-" + randomHex(8)
	}
	if e.At.IsZero() {
		e.At = now()
	}
	if e.Result == "" {
		e.Result = "ok"
	}
}

// AuditFilter selects audit entries; a zero field matches every entry.
type AuditFilter struct {
	Project, Component, Environment, Actor, Action, Target string
	// Since and Until bound At (inclusive, exclusive).
	Since, Until time.Time
	// Before is the cursor of the page before: entries older than it only; "" means from the newest.
	Before string
	// Limit bounds the page; zero or less means 100, at most 1000.
	Limit int
}

// AuditLog returns the entries matching f, newest first, and the cursor of the next (older) page, "" when
// there is none. A cursor that does not parse is ErrInvalid.
func (s *Store) AuditLog(ctx context.Context, f AuditFilter) ([]AuditEntry, string, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, 1000)
	q, args := "SELECT id, at, actor, action, project, component, environment, target, reason, result FROM audit_log WHERE 1 = 1", []any{}
	for _, m := range []struct{ col, v string }{{"project", f.Project}, {"component", f.Component},
		{"environment", f.Environment}, {"actor", f.Actor}, {"action", f.Action}, {"target", f.Target}} {
		if m.v != "" {
			q, args = q+" AND "+m.col+" = ?", append(args, m.v)
		}
	}
	if !f.Since.IsZero() {
		q, args = q+" AND at >= ?", append(args, toDB(f.Since))
	}
	if !f.Until.IsZero() {
		q, args = q+" AND at < ?", append(args, toDB(f.Until))
	}
	if f.Before != "" {
		var at int64
		var id string
		if _, err := fmt.Sscanf(f.Before, "%d.%s", &at, &id); err != nil || id == "" {
			return nil, "", invalid("cursor %q is not one the audit log gave", f.Before)
		}
		q, args = q+" AND (at < ? OR (at = ? AND id < ?))", append(args, at, at, id)
	}
	rows, err := s.db().query(ctx, q+fmt.Sprintf(" ORDER BY at DESC, id DESC LIMIT %d", limit+1), args...)
	if err != nil {
		return nil, "", fmt.Errorf("reading the audit log: %w", err)
	}
	defer rows.Close()
	out := []AuditEntry{}
	for rows.Next() {
		var e AuditEntry
		var at int64
		if err := rows.Scan(&e.ID, &at, &e.Actor, &e.Action, &e.Project, &e.Component, &e.Environment, &e.Target,
			&e.Reason, &e.Result); err != nil {
			return nil, "", fmt.Errorf("reading the audit log: %w", err)
		}
		e.At = fromDB(at)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("reading the audit log: %w", err)
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		last := out[limit-1]
		next = fmt.Sprintf("%d.%s", toDB(last.At), last.ID)
	}
	return out, next, nil
}

// randomHex is n random bytes in hex.
func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
