package delivery

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/slipway-dev/slipway/api"
	"github.com/slipway-dev/slipway/store"
	"github.com/slipway-dev/slipway/workflows"
)

// Role names of API tokens (store.Token.Role), as the server knows them.
const (
	RoleAdmin     = "admin"
	RoleDeveloper = "developer"
	RoleViewer    = "viewer"
)

// DryRun is the status of a promotion request previewed, not made.
const DryRun = "dry_run"

// SlipwayActor is the audit log's actor of what slipway does by itself.
const SlipwayActor = "slipway"

// Refusal codes of promotion requests.
const (
	// CodeQuarantined: the build is quarantined, so it is never deployed or promoted.
	CodeQuarantined = "quarantined"
	// CodeFrozen: a freeze window or a stopped line holds the environment and it refuses requests.
	CodeFrozen = "frozen"
)

// Actor is who calls a use case: an API token's name and role.
type Actor struct {
	Name, Role string
}

// Admin reports whether the actor has the admin role.
func (a Actor) Admin() bool { return a.Role == RoleAdmin }

// PromotionStore is the part of the metadata store promotion requests use.
type PromotionStore interface {
	DeployStore
	CreatePromotion(ctx context.Context, p store.Promotion) (store.Promotion, error)
	GetPromotion(ctx context.Context, id string) (store.Promotion, error)
	UpdatePromotion(ctx context.Context, id string, update func(*store.Promotion) error) (store.Promotion, error)
	AddPromotionVote(ctx context.Context, id string, v api.PromotionVote, check func(store.Promotion) error) (store.Promotion, error)
	ProjectStop(ctx context.Context, project string) (api.Stop, bool, error)
	AppendAudit(ctx context.Context, e store.AuditEntry) (store.AuditEntry, error)
	FailedVerification(ctx context.Context, project, component, environment, buildID string) (bool, error)
}

// PromotionClient starts and wakes Promotion workflows (client.Client).
type PromotionClient interface {
	ExecuteWorkflow(ctx context.Context, options client.StartWorkflowOptions, workflow any, args ...any) (client.WorkflowRun, error)
	SignalWorkflow(ctx context.Context, workflowID, runID, signalName string, arg any) error
}

// Promotions runs promotion requests: a promotion (or a deploy into an environment with release rules) is a
// request that waits for its approvals, freeze windows and stopped lines in a Promotion workflow, then queues
// the deployment of the same digest; one with nothing to wait for is queued at once. Every step is audited.
// The zero Promotions is not usable: Store and Deploys are required.
type Promotions struct {
	Store   PromotionStore
	Deploys *Deploys
	// Temporal runs the Promotion workflows; nil refuses every request that must wait as Unavailable.
	Temporal PromotionClient
	// Diff reads what a promotion changes; nil records none.
	Diff func(ctx context.Context, comp store.Component, sourceEnv, targetEnv string, from *store.Build, to store.Build) api.PromotionDiff
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Log receives what a use case does not return; nil means slog.Default().
	Log *slog.Logger
}

func (s *Promotions) now() time.Time {
	if s.Now == nil {
		return time.Now().UTC()
	}
	return s.Now().UTC()
}

func (s *Promotions) log() *slog.Logger {
	if s.Log == nil {
		return slog.Default()
	}
	return s.Log
}

// Promote requests the promotion p of comp (PromotionTarget picks the target and the build): see Request.
func (s *Promotions) Promote(ctx context.Context, comp store.Component, p Promotion, actor Actor) (store.Promotion, error) {
	envs, err := s.Store.ListEnvironments(ctx, comp.Project)
	if err != nil {
		return store.Promotion{}, err
	}
	current := make([]string, len(envs)) // the build serving in each environment, "" for none
	for i, e := range envs {
		d, err := s.Store.CurrentDeployment(ctx, comp.Project, comp.Name, e.Name)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return store.Promotion{}, err
		}
		current[i] = d.BuildID
	}
	target, build, err := PromotionTarget(comp, envs, current, p, actor.Admin())
	if err != nil {
		return store.Promotion{}, err
	}
	if p.DryRun {
		return s.preview(ctx, comp, envs[target], envs[target-1].Name, build, actor)
	}
	return s.Request(ctx, comp, envs[target], envs[target-1].Name, build, actor)
}

// Governed reports whether a deploy into env goes through a promotion request rather than straight to its
// queue: env needs approvals, is production (its digest is re-scanned), or has freeze windows or a stopped line.
func Governed(env store.Environment, projectStopped bool) bool {
	return ApprovalOf(env).Required || env.Production || len(env.Rules.FreezeWindows) > 0 || env.Rules.Stopped != nil || projectStopped
}

// Request records a request to deploy the build into env, promoted from source ("" for a deploy), and starts
// it: with nothing to wait for it is queued at once (status deploying), else a Promotion workflow runs it.
// Refusals name why: a caller that is not an admin into a production environment without approvals
// (Forbidden), a build that is not deployable or quarantined or lacks configs, an environment that is frozen
// and refuses (CodeFrozen, naming until when). Nothing is recorded when it is refused.
func (s *Promotions) Request(ctx context.Context, comp store.Component, env store.Environment, source, buildID string, actor Actor) (store.Promotion, error) {
	return s.request(ctx, comp, env, source, buildID, actor, false)
}

// preview is the request Request would make, with its diff and what it would wait for, without recording or
// starting anything: status "dry_run", no ID.
func (s *Promotions) preview(ctx context.Context, comp store.Component, env store.Environment, source, buildID string, actor Actor) (store.Promotion, error) {
	return s.request(ctx, comp, env, source, buildID, actor, true)
}

func (s *Promotions) request(ctx context.Context, comp store.Component, env store.Environment, source, buildID string, actor Actor, dry bool) (out store.Promotion, err error) {
	refused := func(ctx context.Context, actor Actor, comp store.Component, env, target string, err error) error {
		if dry { // a preview changes nothing, so its refusal is no deed to audit
			return err
		}
		return s.refused(ctx, actor, comp, env, target, err)
	}
	rule := ApprovalOf(env)
	if err := MayRequest(env, actor.Admin(), "deploying"); err != nil {
		return store.Promotion{}, refused(ctx, actor, comp, env.Name, buildID, err)
	}
	b, err := s.buildOf(ctx, comp, buildID)
	if err != nil {
		return store.Promotion{}, refused(ctx, actor, comp, env.Name, buildID, err)
	}
	if err := s.verifiedIn(ctx, b, source); err != nil {
		return store.Promotion{}, refused(ctx, actor, comp, env.Name, buildID, err)
	}
	if err := s.Deploys.CheckConfigs(ctx, b, env.Name); err != nil {
		return store.Promotion{}, refused(ctx, actor, comp, env.Name, buildID, err)
	}
	freeze, frozen, stopped, err := s.freezeOf(ctx, env)
	if err != nil {
		return store.Promotion{}, err
	}
	if frozen && env.Rules.FreezeMode == api.FreezeRefuse {
		return store.Promotion{}, refused(ctx, actor, comp, env.Name, buildID, frozenRefusal(env, freeze))
	}
	id := newPromotionID()
	p := store.Promotion{ID: id, Project: comp.Project, Component: comp.Name, Environment: env.Name, From: source,
		BuildID: b.ID, Digest: b.Digest, Requester: actor.Name}
	if s.Diff != nil {
		var from *store.Build
		if cur, err := s.Store.CurrentDeployment(ctx, comp.Project, comp.Name, env.Name); err == nil {
			if fb, err := s.Store.GetBuild(ctx, cur.BuildID); err == nil {
				from = &fb
			}
		}
		d := s.Diff(ctx, comp, source, env.Name, from, b)
		p.Diff = &d
	}
	if dry {
		p.ID, p.Status = "", DryRun
		if rule.Required {
			p.MinApprovals = rule.MinApprovals
			p.Message = fmt.Sprintf("would wait for %d approval(s) from %s", rule.MinApprovals, strings.Join(rule.Approvers, ", "))
		}
		if frozen {
			p.Message = strings.TrimPrefix(p.Message+"; ", "; ") + "would wait: " + freeze.Reason
		}
		return p, nil
	}
	action := api.AuditPromote
	if source == "" {
		action = api.AuditDeploy
	}
	if source == "" {
		// A deploy by hand of a build older than the one serving holds auto-promotion into env; the answer says so.
		defer func() {
			if err != nil {
				return
			}
			if msg := HoldIfOlder(ctx, s.Store, env, b, actor.Name); msg != "" {
				out.Message = strings.TrimPrefix(out.Message+"; "+msg, "; ")
			}
		}()
	}
	if !Governed(env, stopped) {
		return s.queueNow(ctx, p, b, action, actor)
	}
	if s.Temporal == nil {
		return store.Promotion{}, errTemporalUnavailable("Temporal is not configured: promotion requests cannot run")
	}
	in := workflows.PromotionInput{ID: id, Rescan: env.Production}
	p.Status, p.WorkflowID = api.PromotionQueued, workflows.PromotionWorkflowID(id)
	if rule.Required {
		in.MinApprovals, in.ExpiresAt = rule.MinApprovals, s.now().Add(rule.Expiry)
		p.Status, p.MinApprovals, p.ExpiresAt = api.PromotionPendingApproval, rule.MinApprovals, &in.ExpiresAt
		p.Message = fmt.Sprintf("waiting for %d approval(s) from %s", rule.MinApprovals, strings.Join(rule.Approvers, ", "))
	}
	if p, err = s.Store.CreatePromotion(ctx, p); err != nil {
		return store.Promotion{}, err
	}
	tctx, cancel := context.WithTimeout(ctx, TemporalTimeout)
	defer cancel()
	if _, err := s.Temporal.ExecuteWorkflow(tctx, workflows.PromotionStart(in), workflows.Promotion, in); err != nil {
		s.endOrLog(ctx, id, api.PromotionFailed, "could not be started: "+WithoutHostDetail(err.Error()))
		e := errTemporalUnavailable("promotion request %s could not be started: Temporal did not answer", id)
		e.Err = err
		return store.Promotion{}, e
	}
	s.audit(ctx, store.AuditEntry{Actor: actor.Name, Action: action, Project: p.Project, Component: p.Component,
		Environment: p.Environment, Target: id, Result: p.Status})
	return p, nil
}

// queueNow records a request with nothing to wait for and queues its deployment at once.
func (s *Promotions) queueNow(ctx context.Context, p store.Promotion, b store.Build, action string, actor Actor) (store.Promotion, error) {
	p.Status, p.DeploymentID = api.PromotionDeploying, deploymentIDOf(p.ID)
	p, err := s.Store.CreatePromotion(ctx, p)
	if err != nil {
		return store.Promotion{}, err
	}
	if _, err := s.Deploys.deployAs(ctx, p.DeploymentID, b, p.Environment, actor.Name); err != nil {
		s.Deploys.failUnqueued(ctx, p.DeploymentID, err)
		s.endOrLog(ctx, p.ID, api.PromotionFailed, "could not be queued: "+WithoutHostDetail(err.Error()))
		s.audit(ctx, store.AuditEntry{Actor: actor.Name, Action: action, Project: p.Project, Component: p.Component,
			Environment: p.Environment, Target: p.ID, Result: "failed: " + err.Error()})
		return store.Promotion{}, err
	}
	s.audit(ctx, store.AuditEntry{Actor: actor.Name, Action: action, Project: p.Project, Component: p.Component,
		Environment: p.Environment, Target: p.ID, Result: "queued " + p.DeploymentID})
	return p, nil
}

// verifiedIn refuses (CodeFailedVerification, a Conflict) to promote from source a build that failed its
// verification there; source "" (a deploy) refuses nothing.
func (s *Promotions) verifiedIn(ctx context.Context, b store.Build, source string) error {
	if source == "" {
		return nil
	}
	failed, err := s.Store.FailedVerification(ctx, b.Project, b.Component, source, b.ID)
	if err != nil || !failed {
		return err
	}
	return refuse(Conflict, CodeFailedVerification, "build", "build %s failed its verification in %s and was rolled back there: it is not promoted from it", b.ID, source)
}

// buildOf reads the build of comp that may be deployed: it exists, succeeded and is not quarantined.
func (s *Promotions) buildOf(ctx context.Context, comp store.Component, buildID string) (store.Build, error) {
	b, err := s.Store.GetBuild(ctx, buildID)
	if errors.Is(err, store.ErrNotFound) || err == nil && (b.Project != comp.Project || b.Component != comp.Name) {
		return store.Build{}, refuse(Invalid, "invalid", "build", "build %s is not a build of %s", buildID, comp.Name)
	}
	if err != nil {
		return store.Build{}, err
	}
	if err := Deployable(b); err != nil {
		return store.Build{}, err
	}
	return b, s.Deploys.notQuarantined(ctx, b.ID)
}

// freezeOf reads env's project's stopped line and says what holds deploys into env now (FrozenAt);
// projectStopped reports that the project's own line is stopped.
func (s *Promotions) freezeOf(ctx context.Context, env store.Environment) (f Freeze, frozen, projectStopped bool, err error) {
	stop, projectStopped, err := s.Store.ProjectStop(ctx, env.Project)
	if err != nil {
		return Freeze{}, false, false, err
	}
	var projectStop *api.Stop
	if projectStopped {
		projectStop = &stop
	}
	f, frozen = FrozenAt(env, projectStop, s.now())
	return f, frozen, projectStopped, nil
}

func frozenRefusal(env store.Environment, f Freeze) *Error {
	msg := f.Reason
	if !f.Until.IsZero() {
		msg += " until " + f.Until.UTC().Format(time.RFC3339)
	}
	return refuse(Conflict, CodeFrozen, "environment", "%s refuses deploys now: %s", env.Name, msg)
}

// Decide records actor's decision (api.DecisionApprove or api.DecisionReject, with comment) on the request and
// wakes its workflow. The refusals: an ended request or one that no longer waits for approvals (Conflict
// "not_pending"), the requester deciding on their own (Forbidden "self_approval"), an actor who is not one
// of the environment's approvers (Forbidden), a rejection without a comment (Invalid, field comment), a
// second, different decision by the same approver (Conflict "already_decided"). Repeating the same decision
// only wakes the workflow again.
func (s *Promotions) Decide(ctx context.Context, id string, actor Actor, decision, comment string) (store.Promotion, error) {
	if decision == api.DecisionReject && strings.TrimSpace(comment) == "" {
		return store.Promotion{}, refuse(Invalid, "invalid", "comment", "a rejection needs a comment saying why")
	}
	p, err := s.Store.GetPromotion(ctx, id)
	if err != nil {
		return store.Promotion{}, err
	}
	env, err := Environment(ctx, s.Store, p.Project, p.Environment)
	if err != nil {
		return store.Promotion{}, err
	}
	action := api.AuditApprove
	if decision == api.DecisionReject {
		action = api.AuditReject
	}
	check := func(p store.Promotion) error {
		if p.Status != api.PromotionPendingApproval {
			return refuse(Conflict, "not_pending", "", "promotion request %s is %s: it does not wait for approvals", p.ID, p.Status)
		}
		if p.Requester == actor.Name {
			return refuse(Forbidden, "self_approval", "", "%s requested promotion %s and cannot %s it: another approver must", actor.Name, p.ID, decision)
		}
		if rule := ApprovalOf(env); !rule.MayApprove(actor) {
			return refuse(Forbidden, "forbidden", "", "%s (%s) is not an approver of %s: its approvers are %s",
				actor.Name, actor.Role, env.Name, strings.Join(rule.Approvers, ", "))
		}
		return nil
	}
	out, err := s.Store.AddPromotionVote(ctx, id, api.PromotionVote{Actor: actor.Name, Decision: decision, Comment: comment}, check)
	if errors.Is(err, store.ErrExists) {
		if i := slices.IndexFunc(p.Votes, func(v api.PromotionVote) bool { return v.Actor == actor.Name }); i >= 0 && p.Votes[i].Decision != decision {
			return store.Promotion{}, refuse(Conflict, "already_decided", "", "%s already chose to %s promotion %s", actor.Name, p.Votes[i].Decision, id)
		}
		out, err = p, nil
	}
	if err != nil {
		return store.Promotion{}, s.refused(ctx, actor, store.Component{Project: p.Project, Name: p.Component}, p.Environment, id, err, action)
	}
	s.audit(ctx, store.AuditEntry{Actor: actor.Name, Action: action, Project: p.Project, Component: p.Component,
		Environment: p.Environment, Target: id, Reason: comment})
	return out, s.wake(ctx, out, decision, actor)
}

// Cancel cancels a request that has not been queued yet; only its requester or an admin may (Forbidden), and
// a request already deploying or ended cannot be (Conflict "not_cancellable").
func (s *Promotions) Cancel(ctx context.Context, id string, actor Actor, comment string) (store.Promotion, error) {
	out, err := s.Store.UpdatePromotion(ctx, id, func(p *store.Promotion) error {
		if p.Requester != actor.Name && !actor.Admin() {
			return refuse(Forbidden, "forbidden", "", "only %s, who requested promotion %s, or an admin may cancel it", p.Requester, p.ID)
		}
		if p.Status != api.PromotionPendingApproval && p.Status != api.PromotionWaitingWindow && p.Status != api.PromotionQueued {
			return refuse(Conflict, "not_cancellable", "", "promotion request %s is %s and can no longer be cancelled", p.ID, p.Status)
		}
		p.Status, p.Message, p.WaitingUntil = api.PromotionCancelled, "cancelled by "+actor.Name, nil
		if comment != "" {
			p.Message += ": " + comment
		}
		return nil
	})
	if err != nil {
		return store.Promotion{}, err
	}
	s.audit(ctx, store.AuditEntry{Actor: actor.Name, Action: api.AuditCancel, Project: out.Project, Component: out.Component,
		Environment: out.Environment, Target: id, Reason: comment})
	return out, s.wake(ctx, out, "cancel", actor)
}

// BreakGlass lets a request through the freeze windows and stopped lines in its way, for reason; admin only
// (Forbidden), with a reason (Invalid, field comment), on a request that has not been queued yet (Conflict).
// It does not approve it.
func (s *Promotions) BreakGlass(ctx context.Context, id string, actor Actor, reason string) (store.Promotion, error) {
	if !actor.Admin() {
		return store.Promotion{}, refuse(Forbidden, "forbidden", "", "only an admin may break glass")
	}
	if strings.TrimSpace(reason) == "" {
		return store.Promotion{}, refuse(Invalid, "invalid", "comment", "breaking glass needs a comment saying why")
	}
	out, err := s.Store.UpdatePromotion(ctx, id, func(p *store.Promotion) error {
		if api.PromotionEnded(p.Status) || p.Status == api.PromotionDeploying {
			return refuse(Conflict, "not_pending", "", "promotion request %s is %s: there is no glass to break", p.ID, p.Status)
		}
		p.BreakGlass = actor.Name + ": " + reason
		return nil
	})
	if err != nil {
		return store.Promotion{}, err
	}
	s.audit(ctx, store.AuditEntry{Actor: actor.Name, Action: api.AuditBreakGlass, Project: out.Project, Component: out.Component,
		Environment: out.Environment, Target: id, Reason: reason})
	return out, s.wake(ctx, out, "break_glass", actor)
}

// Recheck wakes the Promotion workflows of the project's requests that wait for a window or a stopped line, so
// they look again at once (after a line was started or rules changed).
func (s *Promotions) Recheck(ctx context.Context, waiting []store.Promotion) {
	for _, p := range waiting {
		if p.Status == api.PromotionWaitingWindow {
			if err := s.wake(ctx, p, "recheck", Actor{Name: SlipwayActor}); err != nil {
				s.log().WarnContext(ctx, "waking a waiting promotion", "promotion", p.ID, "error", err)
			}
		}
	}
}

// wake signals the request's workflow; a request without one (queued at once) needs none.
func (s *Promotions) wake(ctx context.Context, p store.Promotion, kind string, actor Actor) error {
	if p.WorkflowID == "" || s.Temporal == nil {
		return nil
	}
	tctx, cancel := context.WithTimeout(ctx, TemporalTimeout)
	defer cancel()
	err := s.Temporal.SignalWorkflow(tctx, p.WorkflowID, "", workflows.SignalPromotion, workflows.PromotionSignal{Kind: kind, Actor: actor.Name})
	if err != nil && !isNotFound(err) {
		e := errTemporalUnavailable("the decision on %s is recorded but its workflow could not be woken: repeat it to try again", p.ID)
		e.Err = err
		return e
	}
	return nil
}

// State is the request's decisions as recorded: the Promotion workflow's view of them.
func (s *Promotions) State(ctx context.Context, id string) (workflows.PromotionState, error) {
	p, err := s.Store.GetPromotion(ctx, id)
	if err != nil {
		return workflows.PromotionState{}, err
	}
	st := workflows.PromotionState{Approvals: []string{}, Cancelled: p.Status == api.PromotionCancelled, BreakGlass: p.BreakGlass != ""}
	for _, v := range p.Votes {
		switch v.Decision {
		case api.DecisionApprove:
			st.Approvals = append(st.Approvals, v.Actor)
		case api.DecisionReject:
			if st.RejectedBy == "" {
				st.RejectedBy = v.Actor
			}
		}
	}
	return st, nil
}

// Check says whether the request may be queued now (workflows.PromotionCheck): a quarantined or undeployable
// build refuses it; a freeze window or stopped line makes it wait (recorded waiting_window, with why and until
// when) or refuses it in an environment that refuses, unless an admin broke glass.
func (s *Promotions) Check(ctx context.Context, id string) (workflows.PromotionCheck, error) {
	p, err := s.Store.GetPromotion(ctx, id)
	if err != nil {
		return workflows.PromotionCheck{}, err
	}
	if api.PromotionEnded(p.Status) {
		return workflows.PromotionCheck{Refusal: "promotion request " + id + " is " + p.Status}, nil
	}
	comp := store.Component{Project: p.Project, Name: p.Component}
	if _, err := s.buildOf(ctx, comp, p.BuildID); err != nil {
		if e, ok := errors.AsType[*Error](err); ok {
			return workflows.PromotionCheck{Refusal: e.Message}, nil
		}
		return workflows.PromotionCheck{}, err
	}
	env, err := Environment(ctx, s.Store, p.Project, p.Environment)
	if err != nil {
		return workflows.PromotionCheck{}, err
	}
	f, frozen, _, err := s.freezeOf(ctx, env)
	if err != nil {
		return workflows.PromotionCheck{}, err
	}
	if !frozen || p.BreakGlass != "" {
		return workflows.PromotionCheck{}, nil
	}
	if env.Rules.FreezeMode == api.FreezeRefuse {
		return workflows.PromotionCheck{Refusal: frozenRefusal(env, f).Message}, nil
	}
	msg := "waiting: " + f.Reason
	var until *time.Time
	if !f.Until.IsZero() {
		msg += " until " + f.Until.UTC().Format(time.RFC3339)
		until = &f.Until
	}
	if _, err := s.Store.UpdatePromotion(ctx, id, func(p *store.Promotion) error {
		p.Status, p.Message, p.WaitingUntil = api.PromotionWaitingWindow, msg, until
		return nil
	}); err != nil {
		return workflows.PromotionCheck{}, err
	}
	return workflows.PromotionCheck{Wait: true, Until: f.Until}, nil
}

// Queue queues the request's deployment (once: its ID comes from the request's) after checking the build may
// still go there, and records the request deploying. A refusal is returned as *Error.
func (s *Promotions) Queue(ctx context.Context, id string) error {
	p, err := s.Store.GetPromotion(ctx, id)
	if err != nil {
		return err
	}
	if p.Status == api.PromotionDeploying || api.PromotionEnded(p.Status) {
		return nil
	}
	b, err := s.buildOf(ctx, store.Component{Project: p.Project, Name: p.Component}, p.BuildID)
	if err != nil {
		return err
	}
	if err := s.Deploys.CheckConfigs(ctx, b, p.Environment); err != nil {
		return err
	}
	dep := deploymentIDOf(id)
	if _, err := s.Store.UpdatePromotion(ctx, id, func(p *store.Promotion) error {
		p.Status, p.DeploymentID, p.Message, p.WaitingUntil = api.PromotionDeploying, dep, "deploying "+dep, nil
		return nil
	}); err != nil {
		return err
	}
	if _, err := s.Deploys.deployAs(ctx, dep, b, p.Environment, p.Requester); err != nil {
		return err
	}
	s.audit(ctx, store.AuditEntry{Actor: SlipwayActor, Action: api.AuditDeploy, Project: p.Project, Component: p.Component,
		Environment: p.Environment, Target: dep, Reason: "promotion request " + id, Result: "queued"})
	return nil
}

// End records the request ended with status and msg, unless it has ended already, and audits it.
func (s *Promotions) End(ctx context.Context, id, status, msg string) error {
	var ended bool
	p, err := s.Store.UpdatePromotion(ctx, id, func(p *store.Promotion) error {
		if api.PromotionEnded(p.Status) {
			return nil
		}
		ended = true
		p.Status, p.Message, p.WaitingUntil = status, msg, nil
		return nil
	})
	if err != nil {
		return err
	}
	if ended {
		s.audit(ctx, store.AuditEntry{Actor: SlipwayActor, Action: api.AuditPromotionEnd, Project: p.Project, Component: p.Component,
			Environment: p.Environment, Target: id, Result: status + ": " + msg})
	}
	return nil
}

// endOrLog ends the request, logging what keeps it from being recorded: the caller is answering an error
// already.
func (s *Promotions) endOrLog(ctx context.Context, id, status, msg string) {
	if err := s.End(context.WithoutCancel(ctx), id, status, msg); err != nil {
		s.log().ErrorContext(ctx, "recording a promotion request ended", "promotion", id, "error", err)
	}
}

// refused audits a refused request (Forbidden and Conflict refusals; a request that does not parse is not
// worth a line) and returns err.
func (s *Promotions) refused(ctx context.Context, actor Actor, comp store.Component, env, target string, err error, action ...string) error {
	e, ok := errors.AsType[*Error](err)
	if !ok || e.Kind != Forbidden && e.Kind != Conflict {
		return err
	}
	a := api.AuditPromote
	if len(action) > 0 {
		a = action[0]
	}
	s.audit(ctx, store.AuditEntry{Actor: actor.Name, Action: a, Project: comp.Project, Component: comp.Name,
		Environment: env, Target: target, Result: e.Code + ": " + e.Message})
	return err
}

// audit writes e, logging a failure: the audit log must not turn a done deed into an error.
func (s *Promotions) audit(ctx context.Context, e store.AuditEntry) {
	if _, err := s.Store.AppendAudit(context.WithoutCancel(ctx), e); err != nil {
		s.log().ErrorContext(ctx, "writing the audit log", "action", e.Action, "target", e.Target, "error", err)
	}
}

func newPromotionID() string {
	b := make([]byte, 8)
	rand.Read(b)
	return "pr-" + hex.EncodeToString(b)
}

// deploymentIDOf is the ID of the deployment promotion request id queues: one per request, however often
// queued.
func deploymentIDOf(id string) string { return "d-" + strings.TrimPrefix(id, "pr-") }
