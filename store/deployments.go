package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/slipway-dev/slipway/api"
	"github.com/slipway-dev/slipway/secretbox"
)

// Deployment is one build released to one environment of its component.
type Deployment struct {
	// ID is the deployment's identity; required and unique.
	ID                              string
	Project, Component, Environment string
	BuildID, Digest                 string
	// Status is one of api's Deployment* statuses; zero means api.DeploymentQueued. A deployment is immutable
	// once succeeded or failed.
	Status string
	// URL is the entry address the release is served at; "" until it serves.
	URL string
	// ConfigHash identifies the environment's configs the release got (never the values); "" until applied.
	ConfigHash string
	// Message says how it went: the last readiness check of a failed rollout, say.
	Message string
	// Actor is who asked: an API token's name, or "auto" for a build's auto-deploy.
	Actor string
	// DataPlane is the data plane the release ran on (an Environment's DataPlane), set by the deploy
	// activity when the rollout starts; "" for deployments recorded before there was a choice: docker.
	DataPlane string
	// ReleaseConfig is the exact config the release got — the JSON of its env vars and files, sealed with
	// DeploymentConfigAAD(ID) — written by the deploy activity; nil means not recorded.
	ReleaseConfig *secretbox.Sealed
	// Verification is the release's verification (api.Verification*); "" when nothing is verified. Set with
	// VerifyDeployment.
	Verification string
	// VerifiedAt is when its verification passed; nil until then.
	VerifiedAt *time.Time
	// CreatedAt is set by the store; StartedAt and EndedAt are nil until then.
	CreatedAt          time.Time
	StartedAt, EndedAt *time.Time
}

const deploymentColumns = "id, project, component, environment, build_id, digest, status, url, config_hash, message, " +
	"actor, created_at, started_at, ended_at, release_kek_id, release_wrapped_key, release_ciphertext, data_plane, verification, verified_at"

func deploymentRef(id string) string { return fmt.Sprintf("deployment %q", id) }

func deploymentConfigRef(id string) string { return fmt.Sprintf("release config of deployment %q", id) }

// DeploymentConfigAAD is the associated data a deployment's ReleaseConfig is sealed with: it binds the ciphertext
// to the deployment, so a release config copied to another deployment does not open.
func DeploymentConfigAAD(id string) []byte { return secretbox.AAD("deployment-config", id) }

// releaseConfigArgs returns the column values of a ReleaseConfig (NULLs for nil), or ErrInvalid when it is
// incomplete.
func releaseConfigArgs(id string, rc *secretbox.Sealed) ([]any, error) {
	if rc == nil {
		return []any{nil, nil, nil}, nil
	}
	if incomplete(*rc) {
		return nil, invalid("%s: sealed value is incomplete", deploymentConfigRef(id))
	}
	return []any{rc.KEKID, rc.WrappedKey, rc.Ciphertext}, nil
}

// CreateDeployment stores d, queued, with CreatedAt now. It fails with ErrNotFound when the component,
// environment or build does not exist, ErrExists when the ID is taken and ErrInvalid when the ID or build is empty.
func (s *Store) CreateDeployment(ctx context.Context, d Deployment) (Deployment, error) {
	if d.ID == "" || d.BuildID == "" {
		return Deployment{}, invalid("deployment of component %q needs an ID and a build", d.Component)
	}
	if d.Status == "" {
		d.Status = api.DeploymentQueued
	}
	release, err := releaseConfigArgs(d.ID, d.ReleaseConfig)
	if err != nil {
		return Deployment{}, err
	}
	d.CreatedAt = now()
	err = s.inTx(ctx, func(c conn) error {
		if err := c.requireComponent(ctx, d.Project, d.Component, lockShare); err != nil {
			return err
		}
		if err := c.requireEnvironment(ctx, d.Project, d.Environment, lockShare); err != nil {
			return err
		}
		if _, err := getBuild(ctx, c, d.BuildID, lockShare); err != nil {
			return err
		}
		args := append([]any{d.ID, d.Project, d.Component, d.Environment, d.BuildID, d.Digest, d.Status, d.URL,
			d.ConfigHash, d.Message, d.Actor, toDB(d.CreatedAt), optionalTime(d.StartedAt), optionalTime(d.EndedAt)}, release...)
		_, err := c.exec(ctx, "INSERT INTO deployments ("+deploymentColumns+
			") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", append(args, d.DataPlane, d.Verification, optionalTime(d.VerifiedAt))...)
		if isUniqueViolation(err) {
			return exists(deploymentRef(d.ID))
		}
		if err != nil {
			return fmt.Errorf("creating %s: %w", deploymentRef(d.ID), err)
		}
		return appendEvent(ctx, c, deploymentEvent(d))
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
// update may change only Status, URL, ConfigHash, Message, StartedAt, EndedAt and ReleaseConfig (which must be
// nil or complete). An ended deployment is immutable: updating it fails with ErrInvalid (a succeeded one's
// verification changes with VerifyDeployment).
func (s *Store) UpdateDeployment(ctx context.Context, id string, update func(*Deployment) error) (Deployment, error) {
	var out Deployment
	err := s.inTx(ctx, func(c conn) error {
		d, err := getDeployment(ctx, c, id, lockUpdate)
		if err != nil {
			return err
		}
		if Ended(d.Status) {
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
		release, err := releaseConfigArgs(id, d.ReleaseConfig)
		if err != nil {
			return err
		}
		args := append([]any{d.Status, d.URL, d.ConfigHash, d.Message, optionalTime(d.StartedAt), optionalTime(d.EndedAt)},
			release...)
		if _, err := c.exec(ctx, `UPDATE deployments SET status = ?, url = ?, config_hash = ?, message = ?, started_at = ?,
			ended_at = ?, release_kek_id = ?, release_wrapped_key = ?, release_ciphertext = ?, data_plane = ? WHERE id = ?`,
			append(args, d.DataPlane, id)...); err != nil {
			return fmt.Errorf("updating %s: %w", deploymentRef(id), err)
		}
		out = d
		if err := endPromotionOf(ctx, c, d); err != nil {
			return err
		}
		return appendEvent(ctx, c, deploymentEvent(d))
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
		project, component, environment, api.DeploymentSucceeded))
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
	var started, ended, verified sql.NullInt64
	var releaseKEK sql.NullString
	var release secretbox.Sealed
	if err := row.Scan(&d.ID, &d.Project, &d.Component, &d.Environment, &d.BuildID, &d.Digest, &d.Status, &d.URL,
		&d.ConfigHash, &d.Message, &d.Actor, &created, &started, &ended, &releaseKEK, &release.WrappedKey,
		&release.Ciphertext, &d.DataPlane, &d.Verification, &verified); err != nil {
		return Deployment{}, err
	}
	if verified.Valid {
		t := fromDB(verified.Int64)
		d.VerifiedAt = &t
	}
	if releaseKEK.Valid {
		release.KEKID = releaseKEK.String
		d.ReleaseConfig = &release
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
		api.DeploymentSucceeded)
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
