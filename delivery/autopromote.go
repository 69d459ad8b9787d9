package delivery

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/slipway-dev/slipway/api"
	"github.com/slipway-dev/slipway/store"
	"github.com/slipway-dev/slipway/workflows"
)

// AutoPromoteActor is the requester of the promotions slipway asks for by itself (an environment's auto policy).
const AutoPromoteActor = "auto-promote"

// Limits of the promotion policy and of verification.
const (
	// MaxSoak bounds PromotionPolicy.SoakSeconds.
	MaxSoak = 30 * 24 * time.Hour
	// DefaultVerificationWindow is how long checks are tried when Verification.WindowSeconds is zero.
	DefaultVerificationWindow = time.Minute
	// MaxVerificationWindow bounds Verification.WindowSeconds.
	MaxVerificationWindow = time.Hour
	// MaxHTTPChecks bounds Verification.HTTP.
	MaxHTTPChecks = 20
	// autoRecheck is how soon a candidate whose verification still runs is looked at again.
	autoRecheck = 15 * time.Second
)

// AutoPromoteStore is the part of the metadata store auto-promotion reads besides a promotion's.
type AutoPromoteStore interface {
	GetComponent(ctx context.Context, project, name string) (store.Component, error)
	ListPromotions(ctx context.Context, project, component, status string, limit int) ([]store.Promotion, error)
	PromotionHold(ctx context.Context, project, component, environment string) (api.Hold, bool, error)
}

// PolicyOf is env's promotion policy: whether builds are promoted into it by themselves, and after how long
// serving verified in the environment before it.
func PolicyOf(env store.Environment) (auto bool, soak time.Duration) {
	p := env.Rules.Promotion
	if p == nil {
		return false, 0
	}
	return p.Policy == api.PromotionAuto, time.Duration(p.SoakSeconds) * time.Second
}

// servingSince is when the deployment's release began to count as serving verified: when its verification
// passed, or when it started serving if nothing was verified; zero while it is not (verifying, failed).
func servingSince(d store.Deployment) time.Time {
	switch {
	case d.Status != api.DeploymentSucceeded:
		return time.Time{}
	case d.Verification == api.VerificationPassed && d.VerifiedAt != nil:
		return *d.VerifiedAt
	case d.Verification == "" && d.EndedAt != nil:
		return *d.EndedAt
	}
	return time.Time{}
}

// Offer offers a deployment that serves verified to the auto-promotion of the environment after its own, when
// that environment's policy is auto: the candidate is promoted once its soak time has passed, unless a newer one
// supersedes it. Anything else (a manual policy, the last environment, a deployment that does not serve) offers
// nothing.
func (s *Promotions) Offer(ctx context.Context, deploymentID string) error {
	d, err := s.Store.GetDeployment(ctx, deploymentID)
	if err != nil {
		return err
	}
	since := servingSince(d)
	if since.IsZero() {
		return nil
	}
	envs, err := s.Store.ListEnvironments(ctx, d.Project)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(envs, func(e store.Environment) bool { return e.Name == d.Environment })
	if i < 0 || i+1 >= len(envs) {
		return nil
	}
	auto, soak := PolicyOf(envs[i+1])
	if !auto {
		return nil
	}
	if s.Deploys == nil || s.Deploys.Temporal == nil {
		return errTemporalUnavailable("Temporal is not configured: builds cannot be promoted by themselves")
	}
	id, opts, in := workflows.AutoPromotionStart(d.Project, d.Component, envs[i+1].Name)
	tctx, cancel := context.WithTimeout(ctx, TemporalTimeout)
	defer cancel()
	_, err = s.Deploys.Temporal.SignalWithStartWorkflow(tctx, id, workflows.SignalCandidate,
		workflows.PromotionCandidate{DeploymentID: d.ID, BuildID: d.BuildID, ReadyAt: since.Add(soak)}, opts, workflows.AutoPromotion, in)
	if err != nil {
		return fmt.Errorf("offering build %s for auto-promotion into %s: %w", d.BuildID, envs[i+1].Name, err)
	}
	return nil
}

// AutoPromote requests the promotion of the candidate deployment's build into target, as AutoPromoteActor under
// target's release rules, if it is still eligible: target's policy is still auto and it still comes right after
// the deployment's environment; the deployment still serves there, verified, for the soak time (else later);
// auto-promotion into target is not held; and the build is neither there already nor asked for. Older requests of
// auto-promotion into target still waiting are cancelled: the newer build supersedes them.
func (s *Promotions) AutoPromote(ctx context.Context, st AutoPromoteStore, deploymentID, target string) (workflows.AutoPromoteResult, error) {
	skip := func(format string, args ...any) (workflows.AutoPromoteResult, error) {
		return workflows.AutoPromoteResult{Outcome: workflows.AutoPromoteSkipped, Message: fmt.Sprintf(format, args...)}, nil
	}
	d, err := s.Store.GetDeployment(ctx, deploymentID)
	if errors.Is(err, store.ErrNotFound) {
		return skip("deployment %s no longer exists", deploymentID)
	}
	if err != nil {
		return workflows.AutoPromoteResult{}, err
	}
	envs, err := s.Store.ListEnvironments(ctx, d.Project)
	if err != nil {
		return workflows.AutoPromoteResult{}, err
	}
	i := slices.IndexFunc(envs, func(e store.Environment) bool { return e.Name == target })
	if i < 1 || envs[i-1].Name != d.Environment {
		return skip("%s no longer comes right after %s", target, d.Environment)
	}
	env := envs[i]
	auto, soak := PolicyOf(env)
	if !auto {
		return skip("the promotion policy of %s is no longer auto", target)
	}
	cur, err := s.Store.CurrentDeployment(ctx, d.Project, d.Component, d.Environment)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return workflows.AutoPromoteResult{}, err
	}
	if cur.ID != d.ID {
		return skip("build %s no longer serves in %s", d.BuildID, d.Environment)
	}
	since := servingSince(d)
	if since.IsZero() {
		if d.Verification == api.VerificationRunning {
			return workflows.AutoPromoteResult{Outcome: workflows.AutoPromoteLater, Message: "its verification still runs",
				RetryAt: s.now().Add(autoRecheck)}, nil
		}
		return skip("build %s is %s in %s (verification %q)", d.BuildID, d.Status, d.Environment, d.Verification)
	}
	if ready := since.Add(soak); s.now().Before(ready) {
		return workflows.AutoPromoteResult{Outcome: workflows.AutoPromoteLater, Message: "soaking until " + ready.Format(time.RFC3339), RetryAt: ready}, nil
	}
	if h, held, err := st.PromotionHold(ctx, d.Project, d.Component, target); err != nil {
		return workflows.AutoPromoteResult{}, err
	} else if held {
		return workflows.AutoPromoteResult{Outcome: workflows.AutoPromoteHeld, Message: holdMessage(target, h)}, nil
	}
	if there, err := s.Store.CurrentDeployment(ctx, d.Project, d.Component, target); err == nil && there.BuildID == d.BuildID {
		return skip("build %s already serves in %s", d.BuildID, target)
	} else if err != nil && !errors.Is(err, store.ErrNotFound) {
		return workflows.AutoPromoteResult{}, err
	}
	reqs, err := st.ListPromotions(ctx, d.Project, d.Component, "", 100)
	if err != nil {
		return workflows.AutoPromoteResult{}, err
	}
	robot := Actor{Name: AutoPromoteActor, Role: RoleAdmin}
	for _, p := range reqs {
		if p.Environment != target || !promotionOpen(p.Status) {
			continue
		}
		if p.BuildID == d.BuildID {
			return workflows.AutoPromoteResult{Outcome: workflows.AutoPromoteSkipped, Message: "already asked for", PromotionID: p.ID}, nil
		}
		if p.Requester == AutoPromoteActor && p.Status != api.PromotionDeploying {
			if _, err := s.Cancel(ctx, p.ID, robot, "superseded by build "+d.BuildID); err != nil && !isRefusal(err, Conflict) {
				return workflows.AutoPromoteResult{}, err
			}
		}
	}
	comp, err := st.GetComponent(ctx, d.Project, d.Component)
	if err != nil {
		return workflows.AutoPromoteResult{}, err
	}
	p, err := s.Request(ctx, comp, env, d.Environment, d.BuildID, robot)
	if err != nil {
		if _, ok := errors.AsType[*Error](err); ok && !Unreachable(err) {
			return skip("refused: %s", err.Error())
		}
		return workflows.AutoPromoteResult{}, err
	}
	return workflows.AutoPromoteResult{Outcome: workflows.AutoPromoteRequested, PromotionID: p.ID, Message: p.Status}, nil
}

// promotionOpen reports whether a request of the status has not ended.
func promotionOpen(status string) bool {
	switch status {
	case api.PromotionPendingApproval, api.PromotionWaitingWindow, api.PromotionQueued, api.PromotionDeploying:
		return true
	}
	return false
}

// isRefusal reports whether err is a refusal of the kind.
func isRefusal(err error, kind Kind) bool {
	e, ok := errors.AsType[*Error](err)
	return ok && e.Kind == kind
}

// holdMessage says auto-promotion into environment is held, by whom and how to release it.
func holdMessage(environment string, h api.Hold) string {
	return fmt.Sprintf("auto-promotion into %s is held: %s (release it with DELETE …/environments/%s/hold)", environment, h.Reason, environment)
}

// HoldIfOlder holds auto-promotion of b's component into env when env's policy is auto and actor deploys b by
// hand while a newer build serves there: the next automatic promotion would undo it. It returns what it says of
// the hold; "" when it set none. A failure to record the hold is logged: the deploy has been queued.
func HoldIfOlder(ctx context.Context, st DeployStore, env store.Environment, b store.Build, actor string) string {
	if auto, _ := PolicyOf(env); !auto || actor == AutoActor || actor == AutoPromoteActor {
		return ""
	}
	cur, err := st.CurrentDeployment(ctx, b.Project, b.Component, env.Name)
	if err != nil || cur.BuildID == b.ID {
		return ""
	}
	serving, err := st.GetBuild(ctx, cur.BuildID)
	if err != nil || !b.CreatedAt.Before(serving.CreatedAt) {
		return ""
	}
	h := api.Hold{Build: b.ID, Actor: actor, Reason: fmt.Sprintf("%s deployed build %s, older than %s, by hand", actor, b.ID, serving.ID)}
	if h, err = st.HoldPromotion(ctx, b.Project, b.Component, env.Name, h); err != nil {
		slog.Default().WarnContext(ctx, "holding auto-promotion", "environment", env.Name, "error", err)
		return ""
	}
	_, _ = st.AppendAudit(ctx, store.AuditEntry{Actor: actor, Action: api.AuditHold, Project: b.Project, Component: b.Component,
		Environment: env.Name, Target: b.ID, Reason: h.Reason, Result: "ok"})
	return holdMessage(env.Name, h)
}
