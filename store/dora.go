package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/slipway-dev/slipway/api"
)

// EndedDeployment is a deployment that ended, with what the DORA figures need of its build: one row of
// EndedDeployments.
type EndedDeployment struct {
	// ID, Component, Environment and BuildID name the deployment, what it deployed and where.
	ID, Component, Environment, BuildID string
	// Status is api.DeploymentSucceeded, api.DeploymentFailed or api.DeploymentRolledBack.
	Status string
	// EndedAt is when the deployment ended: when its release started serving (also for a rolled back one) or
	// when it failed.
	EndedAt time.Time
	// Commit is the full SHA of the deployed build's commit.
	Commit string
	// CommittedAt is the commit's committer time (Build.CommittedAt); nil when the build has none.
	CommittedAt *time.Time
	// BuildCreatedAt is when the deployed build was stored.
	BuildCreatedAt time.Time
	// FirstServedAt is the earliest end of a succeeded deployment of the same commit (any build of it) of the
	// component in the environment, at any time: equal to EndedAt when this deployment first served the commit
	// there. Nil when none succeeded (every deployment of the commit there failed or was rolled back).
	FirstServedAt *time.Time
}

// EndedDeployments returns the project's deployments (only the component's, unless component is "") that ended
// succeeded, failed or rolled back at or after since and before until, oldest first (by end, then ID). It fails
// with ErrNotFound when the project, or the component, does not exist.
func (s *Store) EndedDeployments(ctx context.Context, project, component string, since, until time.Time) ([]EndedDeployment, error) {
	c := s.db()
	what := projectRef(project)
	if component == "" {
		if err := c.requireProject(ctx, project, lockNone); err != nil {
			return nil, err
		}
	} else {
		what = componentRef(project, component)
		if err := c.requireComponent(ctx, project, component, lockNone); err != nil {
			return nil, err
		}
	}
	query := `SELECT d.id, d.component, d.environment, d.build_id, d.status, d.ended_at, b.commit_sha, b.committed_at,
		b.created_at,
		(SELECT MIN(p.ended_at) FROM deployments p JOIN builds pb ON pb.id = p.build_id
			WHERE p.project = d.project AND p.component = d.component AND p.environment = d.environment
			AND p.status = ? AND pb.commit_sha = b.commit_sha)
		FROM deployments d JOIN builds b ON b.id = d.build_id
		WHERE d.project = ? AND d.status IN (?, ?, ?) AND d.ended_at >= ? AND d.ended_at < ?`
	args := []any{api.DeploymentSucceeded, project, api.DeploymentSucceeded, api.DeploymentFailed, api.DeploymentRolledBack,
		toDB(since), toDB(until)}
	if component != "" {
		query += " AND d.component = ?"
		args = append(args, component)
	}
	query += " ORDER BY d.ended_at, d.id"
	rows, err := c.query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("listing the ended deployments of %s: %w", what, err)
	}
	defer rows.Close()
	out := []EndedDeployment{}
	for rows.Next() {
		var d EndedDeployment
		var ended, created int64
		var committed, first sql.NullInt64
		if err := rows.Scan(&d.ID, &d.Component, &d.Environment, &d.BuildID, &d.Status, &ended, &d.Commit, &committed,
			&created, &first); err != nil {
			return nil, fmt.Errorf("listing the ended deployments of %s: %w", what, err)
		}
		d.EndedAt, d.BuildCreatedAt = fromDB(ended), fromDB(created)
		if committed.Valid {
			t := fromDB(committed.Int64)
			d.CommittedAt = &t
		}
		if first.Valid {
			t := fromDB(first.Int64)
			d.FirstServedAt = &t
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing the ended deployments of %s: %w", what, err)
	}
	return out, nil
}
