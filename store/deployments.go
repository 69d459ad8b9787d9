package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Deployment states. A deployment is immutable once succeeded or failed.
const (
	DeploymentQueued    = "queued"
	DeploymentRunning   = "running"
	DeploymentSucceeded = "succeeded"
	DeploymentFailed    = "failed"
)

// Deployment is one build released to one environment of its component.
type Deployment struct {
	// ID is the deployment's identity; required and unique.
	ID                              string
	Project, Component, Environment string
	BuildID, Digest                 string
	// Status is one of the Deployment* states; zero means DeploymentQueued.
	Status string
	// URL is the entry address the release is served at; "" until it serves.
	URL string
	// ConfigHash identifies the environment's configs the release got (never the values); "" until applied.
	ConfigHash string
	// Message says how it went: the last readiness check of a failed rollout, say.
	Message string
	// Actor is who asked: an API token's name, or "auto" for a build's auto-deploy.
	Actor string
	// CreatedAt is set by the store; StartedAt and EndedAt are nil until then.
	CreatedAt          time.Time
	StartedAt, EndedAt *time.Time
}

const deploymentColumns = "id, project, component, environment, build_id, digest, status, url, config_hash, message, " +
	"actor, created_at, started_at, ended_at"

func deploymentRef(id string) string { return fmt.Sprintf("deployment %q", id) }

// CreateDeployment stores d, queued, with CreatedAt now. It fails with ErrNotFound when the component,
// environment or build does not exist, ErrExists when the ID is taken and ErrInvalid when the ID or build is empty.
func (s *Store) CreateDeployment(ctx context.Context, d Deployment) (Deployment, error) {
	if d.ID == "" || d.BuildID == "" {
		return Deployment{}, invalid("deployment of component %q needs an ID and a build", d.Component)
	}
	if d.Status == "" {
		d.Status = DeploymentQueued
	}
	d.CreatedAt = now()
	err := s.inTx(ctx, func(c conn) error {
		if err := c.requireComponent(ctx, d.Project, d.Component, lockShare); err != nil {
			return err
		}
		if err := c.requireEnvironment(ctx, d.Project, d.Environment, lockShare); err != nil {
			return err
		}
		if _, err := getBuild(ctx, c, d.BuildID, lockShare); err != nil {
			return err
		}
		_, err := c.exec(ctx, "INSERT INTO deployments ("+deploymentColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
			d.ID, d.Project, d.Component, d.Environment, d.BuildID, d.Digest, d.Status, d.URL, d.ConfigHash, d.Message,
			d.Actor, toDB(d.CreatedAt), optionalTime(d.StartedAt), optionalTime(d.EndedAt))
		if isUniqueViolation(err) {
			return exists(deploymentRef(d.ID))
		}
		if err != nil {
			return fmt.Errorf("creating %s: %w", deploymentRef(d.ID), err)
		}
		return nil
	})
	if err != nil {
		return Deployment{}, err
	}
	return d, nil
}

// GetDeployment returns the deployment with the given ID, or an error wrapping ErrNotFound.
func (s *Store) GetDeployment(ctx context.Context, id string) (Deployment, error) {
	return getDeployment(ctx, s.db(), id, lockNone)
}

func getDeployment(ctx context.Context, c conn, id string, l lock) (Deployment, error) {
	d, err := scanDeployment(c.queryRow(ctx, "SELECT "+deploymentColumns+" FROM deployments WHERE id = ?"+c.d.suffix(l), id))
	if errors.Is(err, sql.ErrNoRows) {
		return Deployment{}, notFound(deploymentRef(id))
	}
	if err != nil {
		return Deployment{}, fmt.Errorf("getting %s: %w", deploymentRef(id), err)
	}
	return d, nil
}

// UpdateDeployment reads the deployment, lets update change its state and writes it back, in one transaction.
// update may change only Status, URL, ConfigHash, Message, StartedAt and EndedAt. A succeeded or failed
// deployment is immutable: updating it fails with ErrInvalid.
func (s *Store) UpdateDeployment(ctx context.Context, id string, update func(*Deployment) error) (Deployment, error) {
	var out Deployment
	err := s.inTx(ctx, func(c conn) error {
		d, err := getDeployment(ctx, c, id, lockUpdate)
		if err != nil {
			return err
		}
		if d.Status == DeploymentSucceeded || d.Status == DeploymentFailed {
			return invalid("%s is %s and can no longer change", deploymentRef(id), d.Status)
		}
		orig := d
		if err := update(&d); err != nil {
			return err
		}
		if d.ID != orig.ID || d.Project != orig.Project || d.Component != orig.Component || d.Environment != orig.Environment ||
			d.BuildID != orig.BuildID || d.Digest != orig.Digest || d.Actor != orig.Actor || !d.CreatedAt.Equal(orig.CreatedAt) {
			return invalid("update of %s changed its identity", deploymentRef(id))
		}
		if _, err := c.exec(ctx, `UPDATE deployments SET status = ?, url = ?, config_hash = ?, message = ?, started_at = ?,
			ended_at = ? WHERE id = ?`, d.Status, d.URL, d.ConfigHash, d.Message, optionalTime(d.StartedAt),
			optionalTime(d.EndedAt), id); err != nil {
			return fmt.Errorf("updating %s: %w", deploymentRef(id), err)
		}
		out = d
		return nil
	})
	return out, err
}

// ListDeployments returns the deployments of the component in the environment, newest first, at most limit
// (limit <= 0 means 50). It fails with ErrNotFound when the component or environment does not exist.
func (s *Store) ListDeployments(ctx context.Context, project, component, environment string, limit int) ([]Deployment, error) {
	if limit <= 0 {
		limit = 50
	}
	c := s.db()
	if err := c.requireComponent(ctx, project, component, lockNone); err != nil {
		return nil, err
	}
	if err := c.requireEnvironment(ctx, project, environment, lockNone); err != nil {
		return nil, err
	}
	rows, err := c.query(ctx, "SELECT "+deploymentColumns+` FROM deployments WHERE project = ? AND component = ? AND environment = ?
		ORDER BY created_at DESC, id DESC LIMIT ?`, project, component, environment, limit)
	if err != nil {
		return nil, fmt.Errorf("listing deployments of %s to %q: %w", componentRef(project, component), environment, err)
	}
	defer rows.Close()
	out := []Deployment{}
	for rows.Next() {
		d, err := scanDeployment(rows)
		if err != nil {
			return nil, fmt.Errorf("listing deployments: %w", err)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// CurrentDeployment returns the component's latest succeeded deployment to the environment: the release that
// serves there. It fails with ErrNotFound when none has succeeded.
func (s *Store) CurrentDeployment(ctx context.Context, project, component, environment string) (Deployment, error) {
	d, err := scanDeployment(s.db().queryRow(ctx, "SELECT "+deploymentColumns+` FROM deployments
		WHERE project = ? AND component = ? AND environment = ? AND status = ? ORDER BY ended_at DESC, id DESC LIMIT 1`,
		project, component, environment, DeploymentSucceeded))
	if errors.Is(err, sql.ErrNoRows) {
		return Deployment{}, notFound(fmt.Sprintf("current release of %s in %q", componentRef(project, component), environment))
	}
	if err != nil {
		return Deployment{}, fmt.Errorf("getting the current release of %s in %q: %w", componentRef(project, component), environment, err)
	}
	return d, nil
}

func scanDeployment(row interface{ Scan(...any) error }) (Deployment, error) {
	var d Deployment
	var created int64
	var started, ended sql.NullInt64
	if err := row.Scan(&d.ID, &d.Project, &d.Component, &d.Environment, &d.BuildID, &d.Digest, &d.Status, &d.URL,
		&d.ConfigHash, &d.Message, &d.Actor, &created, &started, &ended); err != nil {
		return Deployment{}, err
	}
	d.CreatedAt = fromDB(created)
	if started.Valid {
		t := fromDB(started.Int64)
		d.StartedAt = &t
	}
	if ended.Valid {
		t := fromDB(ended.Int64)
		d.EndedAt = &t
	}
	return d, nil
}

// CurrentDeployments returns the current release (latest succeeded deployment) of every component in every
// environment.
func (s *Store) CurrentDeployments(ctx context.Context) ([]Deployment, error) {
	rows, err := s.db().query(ctx, "SELECT "+deploymentColumns+" FROM deployments WHERE status = ? ORDER BY ended_at DESC, id DESC",
		DeploymentSucceeded)
	if err != nil {
		return nil, fmt.Errorf("listing current releases: %w", err)
	}
	defer rows.Close()
	seen := map[[3]string]bool{}
	out := []Deployment{}
	for rows.Next() {
		d, err := scanDeployment(rows)
		if err != nil {
			return nil, fmt.Errorf("listing current releases: %w", err)
		}
		if k := [3]string{d.Project, d.Component, d.Environment}; !seen[k] {
			seen[k] = true
			out = append(out, d)
		}
	}
	return out, rows.Err()
}
