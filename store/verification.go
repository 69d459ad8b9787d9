package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/slipway-dev/slipway/api"
)

// Ended reports whether a deployment of the status has ended: succeeded, failed or rolled back.
func Ended(status string) bool {
	return status == api.DeploymentSucceeded || status == api.DeploymentFailed || status == api.DeploymentRolledBack
}

// VerifyDeployment records the verification of a succeeded deployment's release: api.VerificationRunning while
// its checks run, api.VerificationPassed (VerifiedAt now, once) or api.VerificationFailed, with msg as its
// message (the release still serves until RollBackDeployment says the one before it serves again). Repeating
// what is recorded changes nothing. It fails with ErrInvalid for a deployment that did not succeed or whose
// verification has ended otherwise, and ErrNotFound for one that does not exist.
func (s *Store) VerifyDeployment(ctx context.Context, id, state, msg string) (Deployment, error) {
	var out Deployment
	err := s.inTx(ctx, func(c conn) error {
		d, err := getDeployment(ctx, c, id, lockUpdate)
		if err != nil {
			return err
		}
		out = d
		if d.Verification == state {
			return nil
		}
		if d.Status != api.DeploymentSucceeded || d.Verification == api.VerificationPassed || d.Verification == api.VerificationFailed {
			return invalid("%s is %s (verification %q): its verification can no longer be %s", deploymentRef(id), d.Status, d.Verification, state)
		}
		switch state {
		case api.VerificationRunning:
		case api.VerificationPassed:
			t := now()
			d.VerifiedAt = &t
		case api.VerificationFailed:
			d.Message = msg
		default:
			return invalid("%s: %q is not a verification state", deploymentRef(id), state)
		}
		d.Verification = state
		if _, err := c.exec(ctx, "UPDATE deployments SET message = ?, verification = ?, verified_at = ? WHERE id = ?",
			d.Message, d.Verification, optionalTime(d.VerifiedAt), id); err != nil {
			return fmt.Errorf("recording the verification of %s: %w", deploymentRef(id), err)
		}
		out = d
		return appendEvent(ctx, c, deploymentEvent(d))
	})
	return out, err
}

// RollBackDeployment records a succeeded deployment whose verification failed rolled back — the release before
// it serves again — with msg, and an audit entry, in one transaction. Repeating it changes nothing. It fails with
// ErrInvalid for a deployment that did not succeed or did not fail its verification.
func (s *Store) RollBackDeployment(ctx context.Context, id, msg string) (Deployment, error) {
	var out Deployment
	err := s.inTx(ctx, func(c conn) error {
		d, err := getDeployment(ctx, c, id, lockUpdate)
		if err != nil {
			return err
		}
		out = d
		if d.Status == api.DeploymentRolledBack {
			return nil
		}
		if d.Status != api.DeploymentSucceeded || d.Verification != api.VerificationFailed {
			return invalid("%s is %s (verification %q): only a release that failed its verification is rolled back", deploymentRef(id), d.Status, d.Verification)
		}
		d.Status, d.Message = api.DeploymentRolledBack, msg
		if _, err := c.exec(ctx, "UPDATE deployments SET status = ?, message = ? WHERE id = ?", d.Status, d.Message, id); err != nil {
			return fmt.Errorf("rolling back %s: %w", deploymentRef(id), err)
		}
		if err := appendAudit(ctx, c, AuditEntry{Actor: "slipway", Action: api.AuditRollBack, Project: d.Project,
			Component: d.Component, Environment: d.Environment, Target: id, Reason: msg, Result: "ok"}); err != nil {
			return err
		}
		out = d
		return appendEvent(ctx, c, deploymentEvent(d))
	})
	return out, err
}

// FailedVerification reports whether one of the build's deployments to the environment failed its
// verification there (and was rolled back, when something served before it).
func (s *Store) FailedVerification(ctx context.Context, project, component, environment, buildID string) (bool, error) {
	var n int
	err := s.db().queryRow(ctx, `SELECT COUNT(*) FROM deployments WHERE project = ? AND component = ? AND environment = ?
		AND build_id = ? AND verification = ?`, project, component, environment, buildID, api.VerificationFailed).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("reading the rollbacks of build %s in %q: %w", buildID, environment, err)
	}
	return n > 0, nil
}

func holdRef(project, component, environment string) string {
	return fmt.Sprintf("the auto-promotion hold of %s in %q", componentRef(project, component), environment)
}

// HoldPromotion holds auto-promotion of the component into the environment (replacing a hold there). It fails
// with ErrNotFound when the component or environment does not exist.
func (s *Store) HoldPromotion(ctx context.Context, project, component, environment string, h api.Hold) (api.Hold, error) {
	if h.At.IsZero() {
		h.At = now()
	}
	err := s.inTx(ctx, func(c conn) error {
		if err := c.requireComponent(ctx, project, component, lockShare); err != nil {
			return err
		}
		if err := c.requireEnvironment(ctx, project, environment, lockShare); err != nil {
			return err
		}
		if _, err := c.exec(ctx, `INSERT INTO promotion_holds (project, component, environment, build_id, actor, reason, at)
			VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (project, component, environment) DO UPDATE SET build_id = excluded.build_id,
			actor = excluded.actor, reason = excluded.reason, at = excluded.at`,
			project, component, environment, h.Build, h.Actor, h.Reason, toDB(h.At)); err != nil {
			return fmt.Errorf("recording %s: %w", holdRef(project, component, environment), err)
		}
		return appendEvent(ctx, c, Event{Kind: EventEnvironment, Project: project, Component: component, Environment: environment})
	})
	return h, err
}

// ReleaseHold lifts the hold on auto-promotion of the component into the environment. It fails with
// ErrNotFound when there is none.
func (s *Store) ReleaseHold(ctx context.Context, project, component, environment string) error {
	return s.deleteOne(ctx, holdRef(project, component, environment),
		Event{Kind: EventEnvironment, Project: project, Component: component, Environment: environment},
		func(conn) error { return nil },
		"DELETE FROM promotion_holds WHERE project = ? AND component = ? AND environment = ?", project, component, environment)
}

// PromotionHold returns the hold on auto-promotion of the component into the environment; ok is false when
// there is none.
func (s *Store) PromotionHold(ctx context.Context, project, component, environment string) (h api.Hold, ok bool, err error) {
	var at int64
	err = s.db().queryRow(ctx, `SELECT build_id, actor, reason, at FROM promotion_holds WHERE project = ? AND component = ?
		AND environment = ?`, project, component, environment).Scan(&h.Build, &h.Actor, &h.Reason, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return api.Hold{}, false, nil
	}
	if err != nil {
		return api.Hold{}, false, fmt.Errorf("reading %s: %w", holdRef(project, component, environment), err)
	}
	h.At = fromDB(at)
	return h, true, nil
}
