package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/slipway-dev/slipway/api"
	"github.com/slipway-dev/slipway/descriptor"
	"github.com/slipway-dev/slipway/scan"
)

// Trigger says what started a build.
type Trigger struct {
	// Kind is "manual" or "webhook".
	Kind string `json:"kind"`
	// Actor is the API token's name for a manual build, the pusher for a webhook; "" when unknown.
	Actor string `json:"actor,omitempty"`
	// Provider, DeliveryID and Message describe a webhook delivery; zero for manual builds.
	Provider   string `json:"provider,omitempty"`
	DeliveryID string `json:"deliveryId,omitempty"`
	Message    string `json:"message,omitempty"`
}

// Step is one pipeline stage of a build with its state and times; nil times mean not yet. The steps column
// holds them as api.Step's JSON.
type Step = api.Step

// Build is one commit of one component going through the pipeline.
type Build struct {
	// ID is the build's identity in the API; required and unique.
	ID                 string
	Project, Component string
	// Commit is the full SHA built.
	Commit  string
	Trigger Trigger
	// Status is one of api's Build* statuses; zero means api.BuildQueued. A build is immutable once succeeded,
	// failed or cancelled.
	Status string
	// Digest is the pushed image's manifest digest; "" until pushed.
	Digest string
	// ImageSize is the image's size in bytes (config, layers and manifest); 0 until pushed.
	ImageSize int64
	// Steps are the stages in pipeline order; nil means none has started.
	Steps []Step
	// Scan summarises the build's scan report; nil until the image was scanned. Set by PutBuildScan only.
	Scan *scan.Summary
	// Descriptor is the component descriptor read at the build's commit (or made from the image);
	// nil until the spec step ran. Set by PutBuildSpec only.
	Descriptor *descriptor.Descriptor
	// Source is how a build from source was built; nil for a build of the repository's Dockerfile (or before its
	// build step). Set by PutBuildSource only.
	Source *api.SourceBuild
	// CommittedAt is the committer time of the commit built, read from the commit object at checkout; nil for
	// builds checked out before it was recorded and for builds whose commit was never checked out (image imports).
	// Set by CreateBuild or PutBuildCommitTime only.
	CommittedAt *time.Time
	// Error says why a failed build failed; "" otherwise.
	Error string
	// WorkflowID and RunID name the Temporal run of the pipeline.
	WorkflowID, RunID string
	// CreatedAt is set by the store; StartedAt and EndedAt are nil until then.
	CreatedAt          time.Time
	StartedAt, EndedAt *time.Time
}

// LogLine is one line of a build's log.
type LogLine struct {
	// Seq numbers the build's lines from 1 in the order they were appended.
	Seq  int64     `json:"seq"`
	At   time.Time `json:"at"`
	Text string    `json:"text"`
}

const buildColumns = "id, project, component, commit_sha, trigger_kind, trigger_detail, status, digest, image_size, " +
	"steps, error, workflow_id, run_id, created_at, started_at, ended_at, scan, descriptor, source, committed_at"

func buildRef(id string) string { return fmt.Sprintf("build %q", id) }

// CreateBuild stores b with CreatedAt set to now and returns it as stored. It fails with ErrNotFound when the
// component does not exist, ErrExists when the ID is taken (the caller then reads the existing build) and
// ErrInvalid when the ID or commit is empty.
func (s *Store) CreateBuild(ctx context.Context, b Build) (Build, error) {
	if b.ID == "" || b.Commit == "" {
		return Build{}, invalid("build of component %q in project %q needs an ID and a commit", b.Component, b.Project)
	}
	if b.Status == "" {
		b.Status = api.BuildQueued
	}
	b.CreatedAt = now()
	if b.CommittedAt != nil {
		t := normalize(*b.CommittedAt)
		b.CommittedAt = &t
	}
	err := s.inTx(ctx, func(c conn) error {
		if err := c.requireComponent(ctx, b.Project, b.Component, lockShare); err != nil {
			return err
		}
		args, err := buildArgs(b)
		if err != nil {
			return err
		}
		_, err = c.exec(ctx, "INSERT INTO builds ("+buildColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", args...)
		if isUniqueViolation(err) {
			return exists(buildRef(b.ID))
		}
		if err != nil {
			return fmt.Errorf("creating %s: %w", buildRef(b.ID), err)
		}
		return appendEvent(ctx, c, buildEvent(b))
	})
	if err != nil {
		return Build{}, err
	}
	return b, nil
}

// GetBuild returns the build with the given ID, or an error wrapping ErrNotFound.
func (s *Store) GetBuild(ctx context.Context, id string) (Build, error) {
	return getBuild(ctx, s.db(), id, lockNone)
}

func getBuild(ctx context.Context, c conn, id string, l lock) (Build, error) {
	b, err := scanBuild(c.queryRow(ctx, "SELECT "+buildColumns+" FROM builds WHERE id = ?"+c.d.suffix(l), id))
	if errors.Is(err, sql.ErrNoRows) {
		return Build{}, notFound(buildRef(id))
	}
	if err != nil {
		return Build{}, fmt.Errorf("getting %s: %w", buildRef(id), err)
	}
	return b, nil
}

// ListBuilds returns the component's builds newest first, at most limit (limit <= 0 means 50), starting after
// the build with ID after ("" means from the newest). It fails with ErrNotFound when the component does not exist.
func (s *Store) ListBuilds(ctx context.Context, project, component, after string, limit int) ([]Build, error) {
	if limit <= 0 {
		limit = 50
	}
	c := s.db()
	if err := c.requireComponent(ctx, project, component, lockNone); err != nil {
		return nil, err
	}
	query := "SELECT " + buildColumns + " FROM builds WHERE project = ? AND component = ?"
	args := []any{project, component}
	if after != "" {
		cursor, err := getBuild(ctx, c, after, lockNone)
		if err != nil {
			return nil, fmt.Errorf("listing builds after %q: %w", after, err)
		}
		query += " AND (created_at < ? OR (created_at = ? AND id < ?))"
		args = append(args, toDB(cursor.CreatedAt), toDB(cursor.CreatedAt), cursor.ID)
	}
	query += " ORDER BY created_at DESC, id DESC LIMIT ?"
	args = append(args, limit)
	return queryBuilds(ctx, c, "listing builds of "+componentRef(project, component), query, args...)
}

// BuildsOfCommits returns the component's builds of the given commits (full SHAs), newest first: every run of
// each, rebuilds before the runs they replaced. No commit given returns none.
func (s *Store) BuildsOfCommits(ctx context.Context, project, component string, commits ...string) ([]Build, error) {
	if len(commits) == 0 {
		return []Build{}, nil
	}
	query := "SELECT " + buildColumns + " FROM builds WHERE project = ? AND component = ? AND commit_sha IN (" +
		placeholders(len(commits)) + ") ORDER BY created_at DESC, id DESC"
	args := []any{project, component}
	for _, c := range commits {
		args = append(args, c)
	}
	return queryBuilds(ctx, s.db(), "listing builds of commits of "+componentRef(project, component), query, args...)
}

// queryBuilds returns the builds query selects (buildColumns), in its order; doing names the work in errors.
func queryBuilds(ctx context.Context, c conn, doing, query string, args ...any) ([]Build, error) {
	rows, err := c.query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", doing, err)
	}
	defer rows.Close()
	out := []Build{}
	for rows.Next() {
		b, err := scanBuild(rows)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", doing, err)
		}
		out = append(out, b)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", doing, err)
	}
	return out, nil
}

// UpdateBuild reads the build, lets update change it and writes it back, in one transaction. update must not
// change ID, Project, Component, Commit or CreatedAt. A finished build (succeeded, failed, cancelled) is
// immutable: updating it fails with ErrInvalid.
func (s *Store) UpdateBuild(ctx context.Context, id string, update func(*Build) error) (Build, error) {
	var out Build
	err := s.inTx(ctx, func(c conn) error {
		b, err := changeableBuild(ctx, c, id)
		if err != nil {
			return err
		}
		orig := b
		if err := update(&b); err != nil {
			return err
		}
		if b.ID != orig.ID || b.Project != orig.Project || b.Component != orig.Component || b.Commit != orig.Commit ||
			!b.CreatedAt.Equal(orig.CreatedAt) {
			return invalid("update of %s changed its identity", buildRef(id))
		}
		detail, steps, err := buildJSON(b)
		if err != nil {
			return err
		}
		if _, err := c.exec(ctx, `UPDATE builds SET trigger_kind = ?, trigger_detail = ?, status = ?, digest = ?,
			image_size = ?, steps = ?, error = ?, workflow_id = ?, run_id = ?, started_at = ?, ended_at = ?
			WHERE id = ?`, b.Trigger.Kind, detail, b.Status, b.Digest, b.ImageSize, steps, b.Error, b.WorkflowID,
			b.RunID, optionalTime(b.StartedAt), optionalTime(b.EndedAt), id); err != nil {
			return fmt.Errorf("updating %s: %w", buildRef(id), err)
		}
		out = b
		return appendEvent(ctx, c, buildEvent(b))
	})
	return out, err
}

// changeableBuild reads the build for update in c's transaction, failing with ErrNotFound when there is none and
// with ErrInvalid when it has finished (a finished build is immutable).
func changeableBuild(ctx context.Context, c conn, id string) (Build, error) {
	b, err := getBuild(ctx, c, id, lockUpdate)
	if err != nil {
		return Build{}, err
	}
	if finished(b.Status) {
		return Build{}, invalid("%s is %s and can no longer change", buildRef(id), b.Status)
	}
	return b, nil
}

func finished(status string) bool {
	return status == api.BuildSucceeded || status == api.BuildFailed || status == api.BuildCancelled
}

// AppendBuildLog appends lines to the build's log, numbering them after the last line stored; a text
// holding newlines is stored as one line per line, so line numbers match what readers count. It fails with
// ErrNotFound when the build does not exist.
func (s *Store) AppendBuildLog(ctx context.Context, id string, texts ...string) error {
	return s.appendLog(ctx, buildLog, id, texts, func(c conn) error {
		_, err := getBuild(ctx, c, id, lockUpdate)
		return err
	})
}

// BuildLog returns up to limit lines of the build's log after line number after (0 = from the start; limit <= 0
// means 1000). It fails with ErrNotFound when the build does not exist.
func (s *Store) BuildLog(ctx context.Context, id string, after int64, limit int) ([]LogLine, error) {
	c := s.db()
	if _, err := getBuild(ctx, c, id, lockNone); err != nil {
		return nil, err
	}
	return readLog(ctx, c, buildLog, id, after, limit)
}

// buildArgs returns b's values in buildColumns order.
func buildArgs(b Build) ([]any, error) {
	detail, steps, err := buildJSON(b)
	if err != nil {
		return nil, err
	}
	return []any{b.ID, b.Project, b.Component, b.Commit, b.Trigger.Kind, detail, b.Status, b.Digest,
		b.ImageSize, steps, b.Error, b.WorkflowID, b.RunID, toDB(b.CreatedAt),
		optionalTime(b.StartedAt), optionalTime(b.EndedAt), "{}", "", "", optionalTime(b.CommittedAt)}, nil
}

// buildJSON encodes the build's JSON columns: the trigger and the steps (never null).
func buildJSON(b Build) (trigger, steps string, err error) {
	t, err := json.Marshal(b.Trigger)
	if err != nil {
		return "", "", fmt.Errorf("encoding trigger of %s: %w", buildRef(b.ID), err)
	}
	ss := b.Steps
	if ss == nil {
		ss = []Step{}
	}
	st, err := json.Marshal(ss)
	if err != nil {
		return "", "", fmt.Errorf("encoding steps of %s: %w", buildRef(b.ID), err)
	}
	return string(t), string(st), nil
}

func optionalTime(t *time.Time) any {
	if t == nil {
		return nil
	}
	return toDB(*t)
}

func scanBuild(row interface{ Scan(...any) error }) (Build, error) {
	var b Build
	var kind, detail, steps, summary, desc, source string
	var created int64
	var started, ended, committed sql.NullInt64
	if err := row.Scan(&b.ID, &b.Project, &b.Component, &b.Commit, &kind, &detail, &b.Status, &b.Digest,
		&b.ImageSize, &steps, &b.Error, &b.WorkflowID, &b.RunID, &created, &started, &ended, &summary, &desc, &source,
		&committed); err != nil {
		return Build{}, err
	}
	if committed.Valid {
		t := fromDB(committed.Int64)
		b.CommittedAt = &t
	}
	if source != "" {
		b.Source = new(api.SourceBuild)
		if err := json.Unmarshal([]byte(source), b.Source); err != nil {
			return Build{}, fmt.Errorf("decoding the source build of %s: %w", buildRef(b.ID), err)
		}
	}
	if desc != "" {
		b.Descriptor = new(descriptor.Descriptor)
		if err := json.Unmarshal([]byte(desc), b.Descriptor); err != nil {
			return Build{}, fmt.Errorf("decoding descriptor of %s: %w", buildRef(b.ID), err)
		}
	}
	if summary != "{}" {
		b.Scan = new(scan.Summary)
		if err := json.Unmarshal([]byte(summary), b.Scan); err != nil {
			return Build{}, fmt.Errorf("decoding scan summary of %s: %w", buildRef(b.ID), err)
		}
	}
	if err := json.Unmarshal([]byte(detail), &b.Trigger); err != nil {
		return Build{}, fmt.Errorf("decoding trigger of %s: %w", buildRef(b.ID), err)
	}
	b.Trigger.Kind = kind
	if err := json.Unmarshal([]byte(steps), &b.Steps); err != nil {
		return Build{}, fmt.Errorf("decoding steps of %s: %w", buildRef(b.ID), err)
	}
	b.CreatedAt = fromDB(created)
	if started.Valid {
		t := fromDB(started.Int64)
		b.StartedAt = &t
	}
	if ended.Valid {
		t := fromDB(ended.Int64)
		b.EndedAt = &t
	}
	return b, nil
}
