package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/slipway-dev/slipway/api"
)

// TaskSchedule is when a scheduled task runs in one environment.
type TaskSchedule struct {
	Project, Component, Environment string
	// Cron is the cron expression (five fields or a descriptor); required.
	Cron string
	// TimeZone is the IANA zone Cron is read in; "" is stored as "UTC".
	TimeZone string
	// Overlap is one of api's Overlap* policies; "" is stored as api.OverlapSkip.
	Overlap string
	// Paused stops runs from starting.
	Paused bool
	// UpdatedAt is set by the store.
	UpdatedAt time.Time
}

func taskScheduleRef(project, component, environment string) string {
	return fmt.Sprintf("schedule of %s in %q", componentRef(project, component), environment)
}

const taskScheduleColumns = "project, component, environment, cron, time_zone, overlap, paused, updated_at"

// PutTaskSchedule creates or replaces the schedule of the component in the environment and returns it as stored.
// It fails with ErrNotFound when the component, the environment or the project does not exist and ErrInvalid
// when Cron is empty.
func (s *Store) PutTaskSchedule(ctx context.Context, ts TaskSchedule) (TaskSchedule, error) {
	if ts.Cron == "" {
		return TaskSchedule{}, invalid("%s: the cron expression is empty", taskScheduleRef(ts.Project, ts.Component, ts.Environment))
	}
	if ts.TimeZone == "" {
		ts.TimeZone = "UTC"
	}
	if ts.Overlap == "" {
		ts.Overlap = api.OverlapSkip
	}
	ts.UpdatedAt = now()
	err := s.inTx(ctx, func(c conn) error {
		if err := c.requireConfigParents(ctx, ts.Project, ts.Component, ts.Environment, lockShare); err != nil {
			return err
		}
		if _, err := c.exec(ctx, "INSERT INTO task_schedules ("+taskScheduleColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (project, component, environment) DO UPDATE SET cron = excluded.cron, time_zone = excluded.time_zone,
				overlap = excluded.overlap, paused = excluded.paused, updated_at = excluded.updated_at`,
			ts.Project, ts.Component, ts.Environment, ts.Cron, ts.TimeZone, ts.Overlap, ts.Paused, toDB(ts.UpdatedAt)); err != nil {
			return fmt.Errorf("storing the %s: %w", taskScheduleRef(ts.Project, ts.Component, ts.Environment), err)
		}
		return appendEvent(ctx, c, componentEvent(ts.Project, ts.Component))
	})
	if err != nil {
		return TaskSchedule{}, err
	}
	return ts, nil
}

// GetTaskSchedule returns the schedule of the component in the environment, or an error wrapping ErrNotFound.
func (s *Store) GetTaskSchedule(ctx context.Context, project, component, environment string) (TaskSchedule, error) {
	c := s.db()
	ts, err := scanTaskSchedule(c.queryRow(ctx, "SELECT "+taskScheduleColumns+
		" FROM task_schedules WHERE project = ? AND component = ? AND environment = ?", project, component, environment))
	if errors.Is(err, sql.ErrNoRows) {
		if err := c.requireConfigParents(ctx, project, component, environment, lockNone); err != nil {
			return TaskSchedule{}, err
		}
		return TaskSchedule{}, notFound(taskScheduleRef(project, component, environment))
	}
	if err != nil {
		return TaskSchedule{}, fmt.Errorf("getting the %s: %w", taskScheduleRef(project, component, environment), err)
	}
	return ts, nil
}

// ListTaskSchedules returns the schedules of the component, by environment name; component "" lists those of
// every component of every project (by project, component, environment).
func (s *Store) ListTaskSchedules(ctx context.Context, project, component string) ([]TaskSchedule, error) {
	query, args := "SELECT "+taskScheduleColumns+" FROM task_schedules", []any{}
	if component != "" {
		query, args = query+" WHERE project = ? AND component = ?", []any{project, component}
	}
	rows, err := s.db().query(ctx, query+" ORDER BY project, component, environment", args...)
	if err != nil {
		return nil, fmt.Errorf("listing task schedules: %w", err)
	}
	defer rows.Close()
	out := []TaskSchedule{}
	for rows.Next() {
		ts, err := scanTaskSchedule(rows)
		if err != nil {
			return nil, fmt.Errorf("listing task schedules: %w", err)
		}
		out = append(out, ts)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing task schedules: %w", err)
	}
	return out, nil
}

// DeleteTaskSchedule deletes the schedule of the component in the environment. It fails with ErrNotFound when
// there is none.
func (s *Store) DeleteTaskSchedule(ctx context.Context, project, component, environment string) error {
	return s.deleteOne(ctx, taskScheduleRef(project, component, environment), componentEvent(project, component),
		func(c conn) error { return c.requireConfigParents(ctx, project, component, environment, lockNone) },
		"DELETE FROM task_schedules WHERE project = ? AND component = ? AND environment = ?", project, component, environment)
}

func scanTaskSchedule(row interface{ Scan(...any) error }) (TaskSchedule, error) {
	var ts TaskSchedule
	var updated int64
	if err := row.Scan(&ts.Project, &ts.Component, &ts.Environment, &ts.Cron, &ts.TimeZone, &ts.Overlap, &ts.Paused, &updated); err != nil {
		return TaskSchedule{}, err
	}
	ts.UpdatedAt = fromDB(updated)
	return ts, nil
}

// TaskRun is one run of a task's release in an environment.
type TaskRun struct {
	// ID names the run; required and unique.
	ID                              string
	Project, Component, Environment string
	// BuildID and DeploymentID are the release run; "" until the run started.
	BuildID, DeploymentID string
	// Trigger is api.RunTriggerSchedule or api.RunTriggerManual; Actor the token's name of a manual run.
	Trigger, Actor string
	// Status is one of api's Run* statuses; zero means api.RunQueued. A run is immutable once succeeded or failed.
	Status string
	// ExitCode is the container's exit status; nil until it ended.
	ExitCode *int
	// Message says why a run failed; "" when nothing.
	Message string
	// WorkflowID names the Temporal workflow that runs it.
	WorkflowID string
	// CreatedAt is set by the store; StartedAt and EndedAt are nil until then.
	CreatedAt          time.Time
	StartedAt, EndedAt *time.Time
}

const taskRunColumns = "id, project, component, environment, build_id, deployment_id, trigger_kind, actor, status, exit_code, " +
	"message, workflow_id, created_at, started_at, ended_at"

func taskRunRef(id string) string { return fmt.Sprintf("task run %q", id) }

// CreateTaskRun stores r with CreatedAt set to now and returns it as stored. It fails with ErrExists when the ID
// is taken (a retried start: the caller reads it), ErrNotFound when the component or environment does not exist
// and ErrInvalid when the ID is empty.
func (s *Store) CreateTaskRun(ctx context.Context, r TaskRun) (TaskRun, error) {
	if r.ID == "" {
		return TaskRun{}, invalid("task run of %s needs an ID", componentRef(r.Project, r.Component))
	}
	if r.Status == "" {
		r.Status = api.RunQueued
	}
	r.CreatedAt = now()
	err := s.inTx(ctx, func(c conn) error {
		if err := c.requireConfigParents(ctx, r.Project, r.Component, r.Environment, lockShare); err != nil {
			return err
		}
		_, err := c.exec(ctx, "INSERT INTO task_runs ("+taskRunColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
			r.ID, r.Project, r.Component, r.Environment, r.BuildID, r.DeploymentID, r.Trigger, r.Actor, r.Status,
			optionalInt(r.ExitCode), r.Message, r.WorkflowID, toDB(r.CreatedAt), optionalTime(r.StartedAt), optionalTime(r.EndedAt))
		if isUniqueViolation(err) {
			return exists(taskRunRef(r.ID))
		}
		if err != nil {
			return fmt.Errorf("creating %s: %w", taskRunRef(r.ID), err)
		}
		return appendEvent(ctx, c, taskRunEvent(r))
	})
	if err != nil {
		return TaskRun{}, err
	}
	return r, nil
}

// GetTaskRun returns the run with the given ID, or an error wrapping ErrNotFound.
func (s *Store) GetTaskRun(ctx context.Context, id string) (TaskRun, error) {
	return getTaskRun(ctx, s.db(), id, lockNone)
}

func getTaskRun(ctx context.Context, c conn, id string, l lock) (TaskRun, error) {
	r, err := scanTaskRun(c.queryRow(ctx, "SELECT "+taskRunColumns+" FROM task_runs WHERE id = ?"+c.d.suffix(l), id))
	if errors.Is(err, sql.ErrNoRows) {
		return TaskRun{}, notFound(taskRunRef(id))
	}
	if err != nil {
		return TaskRun{}, fmt.Errorf("getting %s: %w", taskRunRef(id), err)
	}
	return r, nil
}

// ListTaskRuns returns the component's runs newest first — of one environment unless environment is "" — at most
// limit (limit <= 0 means 50), starting after the run with ID after ("" means from the newest). It fails with
// ErrNotFound when the component does not exist.
func (s *Store) ListTaskRuns(ctx context.Context, project, component, environment, after string, limit int) ([]TaskRun, error) {
	if limit <= 0 {
		limit = 50
	}
	c := s.db()
	if err := c.requireComponent(ctx, project, component, lockNone); err != nil {
		return nil, err
	}
	query := "SELECT " + taskRunColumns + " FROM task_runs WHERE project = ? AND component = ?"
	args := []any{project, component}
	if environment != "" {
		query += " AND environment = ?"
		args = append(args, environment)
	}
	if after != "" {
		cursor, err := getTaskRun(ctx, c, after, lockNone)
		if err != nil {
			return nil, fmt.Errorf("listing task runs after %q: %w", after, err)
		}
		query += " AND (created_at < ? OR (created_at = ? AND id < ?))"
		args = append(args, toDB(cursor.CreatedAt), toDB(cursor.CreatedAt), cursor.ID)
	}
	rows, err := c.query(ctx, query+" ORDER BY created_at DESC, id DESC LIMIT ?", append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("listing the runs of %s: %w", componentRef(project, component), err)
	}
	defer rows.Close()
	out := []TaskRun{}
	for rows.Next() {
		r, err := scanTaskRun(rows)
		if err != nil {
			return nil, fmt.Errorf("listing the runs of %s: %w", componentRef(project, component), err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing the runs of %s: %w", componentRef(project, component), err)
	}
	return out, nil
}

// UpdateTaskRun reads the run, lets update change it and writes it back, in one transaction. update must not
// change its identity (ID, project, component, environment, trigger, actor, CreatedAt). A finished run
// (succeeded, failed) is immutable: updating it fails with ErrInvalid.
func (s *Store) UpdateTaskRun(ctx context.Context, id string, update func(*TaskRun) error) (TaskRun, error) {
	var out TaskRun
	err := s.inTx(ctx, func(c conn) error {
		r, err := getTaskRun(ctx, c, id, lockUpdate)
		if err != nil {
			return err
		}
		if r.Status == api.RunSucceeded || r.Status == api.RunFailed {
			return invalid("%s is %s and can no longer change", taskRunRef(id), r.Status)
		}
		orig := r
		if err := update(&r); err != nil {
			return err
		}
		if r.ID != orig.ID || r.Project != orig.Project || r.Component != orig.Component || r.Environment != orig.Environment ||
			r.Trigger != orig.Trigger || r.Actor != orig.Actor || !r.CreatedAt.Equal(orig.CreatedAt) {
			return invalid("update of %s changed its identity", taskRunRef(id))
		}
		for _, t := range []**time.Time{&r.StartedAt, &r.EndedAt} {
			if *t != nil {
				n := normalize(**t)
				*t = &n
			}
		}
		if _, err := c.exec(ctx, `UPDATE task_runs SET build_id = ?, deployment_id = ?, status = ?, exit_code = ?, message = ?,
			workflow_id = ?, started_at = ?, ended_at = ? WHERE id = ?`,
			r.BuildID, r.DeploymentID, r.Status, optionalInt(r.ExitCode), r.Message, r.WorkflowID,
			optionalTime(r.StartedAt), optionalTime(r.EndedAt), id); err != nil {
			return fmt.Errorf("updating %s: %w", taskRunRef(id), err)
		}
		out = r
		return appendEvent(ctx, c, taskRunEvent(r))
	})
	return out, err
}

// AppendTaskRunLog appends lines to the run's log, as AppendBuildLog does to a build's. It fails with ErrNotFound
// when the run does not exist.
func (s *Store) AppendTaskRunLog(ctx context.Context, id string, texts ...string) error {
	return s.appendLog(ctx, taskRunLog, id, texts, func(c conn) error {
		_, err := getTaskRun(ctx, c, id, lockUpdate)
		return err
	})
}

// TaskRunLog returns up to limit lines of the run's log after line number after, as BuildLog does.
func (s *Store) TaskRunLog(ctx context.Context, id string, after int64, limit int) ([]LogLine, error) {
	c := s.db()
	if _, err := getTaskRun(ctx, c, id, lockNone); err != nil {
		return nil, err
	}
	return readLog(ctx, c, taskRunLog, id, after, limit)
}

func scanTaskRun(row interface{ Scan(...any) error }) (TaskRun, error) {
	var r TaskRun
	var created int64
	var started, ended, exit sql.NullInt64
	if err := row.Scan(&r.ID, &r.Project, &r.Component, &r.Environment, &r.BuildID, &r.DeploymentID, &r.Trigger, &r.Actor,
		&r.Status, &exit, &r.Message, &r.WorkflowID, &created, &started, &ended); err != nil {
		return TaskRun{}, err
	}
	if exit.Valid {
		code := int(exit.Int64)
		r.ExitCode = &code
	}
	r.CreatedAt = fromDB(created)
	if started.Valid {
		t := fromDB(started.Int64)
		r.StartedAt = &t
	}
	if ended.Valid {
		t := fromDB(ended.Int64)
		r.EndedAt = &t
	}
	return r, nil
}

// optionalInt is the column value of an optional integer: NULL for nil.
func optionalInt(i *int) any {
	if i == nil {
		return nil
	}
	return int64(*i)
}

// taskRunEvent is the event of a change to run r.
func taskRunEvent(r TaskRun) Event {
	return Event{Kind: EventRun, Project: r.Project, Component: r.Component, Environment: r.Environment, Ref: r.ID}
}
