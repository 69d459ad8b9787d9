package workflows

import (
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// Names of the auto-promotion activity and of the signal that offers a candidate.
const (
	ActivityAutoPromote      = "AutoPromote"
	SignalCandidate          = "candidate"
	autoPromotionIdle        = 10 * time.Minute
	autoPromotionContinueAft = 100
)

// Outcomes of an AutoPromote step (AutoPromoteResult.Outcome).
const (
	// AutoPromoteRequested: a promotion request was made (PromotionID), which runs under the target's rules.
	AutoPromoteRequested = "requested"
	// AutoPromoteHeld: auto-promotion into the target is held (a manual deploy of an older build there).
	AutoPromoteHeld = "held"
	// AutoPromoteSkipped: the candidate is no longer eligible (replaced, rolled back, the policy changed, or it
	// is already there or asked for).
	AutoPromoteSkipped = "skipped"
	// AutoPromoteLater: not yet — its verification still runs or the soak time was lengthened (RetryAt).
	AutoPromoteLater = "later"
)

// AutoPromotionWorkflowID names the one auto-promotion of a component into an environment.
func AutoPromotionWorkflowID(project, component, environment string) string {
	return "autopromote/" + project + "/" + component + "/" + environment
}

// AutoPromotionStart is how a candidate is offered: signal SignalCandidate with it to the workflow ID, starting
// AutoPromotion with these options and input when it does not run (client.SignalWithStartWorkflow).
func AutoPromotionStart(project, component, environment string) (string, client.StartWorkflowOptions, AutoPromotionInput) {
	id := AutoPromotionWorkflowID(project, component, environment)
	return id, client.StartWorkflowOptions{
		ID: id, TaskQueue: TaskQueue,
		TypedSearchAttributes: temporal.NewSearchAttributes(
			temporal.NewSearchAttributeKeyKeyword(SearchAttrProject).ValueSet(project),
			temporal.NewSearchAttributeKeyKeyword(SearchAttrComponent).ValueSet(component),
			temporal.NewSearchAttributeKeyKeyword(SearchAttrEnvironment).ValueSet(environment),
		),
	}, AutoPromotionInput{Project: project, Component: component, Environment: environment}
}

// AutoPromotionInput names the target environment; Candidate carries the one waiting over a continue-as-new.
type AutoPromotionInput struct {
	Project     string              `json:"project"`
	Component   string              `json:"component"`
	Environment string              `json:"environment"`
	Candidate   *PromotionCandidate `json:"candidate,omitempty"`
}

// PromotionCandidate is a release serving, verified, in the environment before the target: it is promoted
// once ReadyAt (its soak time) has passed, unless a newer candidate supersedes it first.
type PromotionCandidate struct {
	DeploymentID string    `json:"deploymentId"`
	BuildID      string    `json:"buildId"`
	ReadyAt      time.Time `json:"readyAt"`
}

// AutoPromoteInput asks to promote the candidate deployment's build into Environment, if it is still eligible.
type AutoPromoteInput struct {
	DeploymentID string `json:"deploymentId"`
	Environment  string `json:"environment"`
}

// AutoPromoteResult is what an AutoPromote step did: one of the AutoPromote* outcomes, why, the request it
// made and, for AutoPromoteLater, when to try again.
type AutoPromoteResult struct {
	Outcome     string    `json:"outcome"`
	Message     string    `json:"message,omitempty"`
	PromotionID string    `json:"promotionId,omitempty"`
	RetryAt     time.Time `json:"retryAt,omitzero"`
}

// AutoPromotion promotes, into one environment, the newest build serving verified in the environment before
// it once that build's soak time has passed: each candidate offered replaces the one waiting (superseded, never
// promoted). The promotion is a request under the target's release rules. It ends after a quiet while; the next
// offer starts a new run.
func AutoPromotion(ctx workflow.Context, in AutoPromotionInput) error {
	a := &autoPromotion{in: in, signals: workflow.GetSignalChannel(ctx, SignalCandidate), candidate: in.Candidate}
	opts := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, MaximumInterval: 30 * time.Second, MaximumAttempts: 10},
	})
	for done := 0; ; {
		a.receive(ctx)
		if a.candidate == nil {
			if !a.wait(ctx, autoPromotionIdle) {
				return nil
			}
			continue
		}
		if d := a.candidate.ReadyAt.Sub(workflow.Now(ctx)); d > 0 {
			a.wait(ctx, d) // a new candidate or the soak's end: the loop sees which
			continue
		}
		c := *a.candidate
		var res AutoPromoteResult
		err := workflow.ExecuteActivity(opts, ActivityAutoPromote, AutoPromoteInput{DeploymentID: c.DeploymentID, Environment: in.Environment}).Get(ctx, &res)
		if err != nil {
			workflow.GetLogger(ctx).Warn("auto-promotion failed", "build", c.BuildID, "error", err)
		}
		if err == nil && res.Outcome == AutoPromoteLater && res.RetryAt.After(c.ReadyAt) {
			a.candidate.ReadyAt = res.RetryAt
			continue
		}
		workflow.GetLogger(ctx).Info("auto-promotion", "build", c.BuildID, "outcome", res.Outcome, "message", res.Message, "promotion", res.PromotionID)
		a.candidate = nil
		if done++; done >= autoPromotionContinueAft {
			a.receive(ctx)
			next := in
			next.Candidate = a.candidate
			return workflow.NewContinueAsNewError(ctx, AutoPromotion, next)
		}
	}
}

// autoPromotion is the state of one run of AutoPromotion.
type autoPromotion struct {
	in      AutoPromotionInput
	signals workflow.ReceiveChannel
	// candidate is the newest release offered and not yet promoted; nil when none waits.
	candidate *PromotionCandidate
}

// receive takes every candidate offered so far, each superseding the one before.
func (a *autoPromotion) receive(ctx workflow.Context) {
	for {
		var c PromotionCandidate
		if !a.signals.ReceiveAsync(&c) {
			return
		}
		if a.candidate != nil && a.candidate.BuildID != c.BuildID {
			workflow.GetLogger(ctx).Info("superseded", "build", a.candidate.BuildID, "by", c.BuildID)
		}
		a.candidate = &c
	}
}

// wait waits for a candidate or for d to pass; it reports whether a candidate was offered.
func (a *autoPromotion) wait(ctx workflow.Context, d time.Duration) bool {
	tctx, cancel := workflow.WithCancel(ctx)
	defer cancel()
	offered := false
	sel := workflow.NewSelector(ctx)
	sel.AddReceive(a.signals, func(workflow.ReceiveChannel, bool) { offered = true })
	sel.AddFuture(workflow.NewTimer(tctx, d), func(workflow.Future) {})
	sel.Select(ctx)
	return offered
}
