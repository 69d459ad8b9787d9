package workflows

import (
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/slipway-dev/slipway/api"
)

// Names of the promotion activities and of the signal that wakes a Promotion workflow.
const (
	ActivityPromotionState  = "PromotionState"
	ActivityCheckPromotion  = "CheckPromotion"
	ActivityRescanPromotion = "RescanPromotion"
	ActivityQueuePromotion  = "QueuePromotion"
	ActivityEndPromotion    = "EndPromotion"
	// SignalPromotion wakes a Promotion workflow after a decision (approve, reject, cancel, break glass) was
	// recorded in the store, or after a stopped line was started: it carries nothing the workflow trusts,
	// which re-reads the request's state (ActivityPromotionState).
	SignalPromotion = "promotion"
)

// PromotionWorkflowID is the workflow ID of the Promotion workflow of a request.
func PromotionWorkflowID(id string) string { return "promotion/" + id }

// PromotionStart is what starts the Promotion workflow of request id.
func PromotionStart(in PromotionInput) client.StartWorkflowOptions {
	return client.StartWorkflowOptions{ID: PromotionWorkflowID(in.ID), TaskQueue: TaskQueue}
}

// PromotionInput names the request and what it waits for; nothing in it is secret.
type PromotionInput struct {
	// ID is the promotion request's ID.
	ID string `json:"id"`
	// MinApprovals is how many distinct approvals it waits for; zero means none.
	MinApprovals int `json:"minApprovals,omitempty"`
	// ExpiresAt is when a request still waiting for approvals expires; zero when it waits for none.
	ExpiresAt time.Time `json:"expiresAt,omitzero"`
	// Rescan re-scans the digest against the current vulnerability database before it is queued (a
	// production target).
	Rescan bool `json:"rescan,omitempty"`
}

// PromotionSignal is the payload of SignalPromotion: what was recorded, for the history's reader only.
type PromotionSignal struct {
	Kind  string `json:"kind"`
	Actor string `json:"actor,omitempty"`
}

// PromotionState is a request's decisions as the store holds them.
type PromotionState struct {
	// Approvals are the distinct approvers so far.
	Approvals []string `json:"approvals"`
	// RejectedBy names the approver who rejected it; "" when none did.
	RejectedBy string `json:"rejectedBy,omitempty"`
	// Cancelled says its requester or an admin cancelled it.
	Cancelled bool `json:"cancelled,omitempty"`
	// BreakGlass says an admin let it through freeze windows and stopped lines.
	BreakGlass bool `json:"breakGlass,omitempty"`
}

// PromotionCheck is whether a request may be queued now: Refusal non-empty fails it with that message; Wait
// says it must wait (a freeze window until Until, or a stopped line when Until is zero). The activity has
// recorded the request waiting, with the reason, when it says Wait.
type PromotionCheck struct {
	Refusal string    `json:"refusal,omitempty"`
	Wait    bool      `json:"wait,omitempty"`
	Until   time.Time `json:"until,omitzero"`
}

// EndPromotionInput records a request ended with Status (api.Promotion*) and why.
type EndPromotionInput struct {
	ID      string `json:"id"`
	Status  string `json:"status"`
	Message string `json:"message"`
}

// PromotionStateInput names the request whose decisions PromotionState reads.
type PromotionStateInput struct {
	ID string `json:"id"`
}

// CheckPromotionInput names the request CheckPromotion checks.
type CheckPromotionInput struct {
	ID string `json:"id"`
}

// RescanPromotionInput names the request whose digest RescanPromotion re-scans.
type RescanPromotionInput struct {
	ID string `json:"id"`
}

// QueuePromotionInput names the request whose deployment QueuePromotion queues.
type QueuePromotionInput struct {
	ID string `json:"id"`
}

// promotionStopRecheck is how often a request waiting for a stopped line looks again without being woken.
const promotionStopRecheck = 5 * time.Minute

// Promotion runs one promotion request through the environment's release rules: it waits for MinApprovals
// distinct approvals (one rejection ends it; it expires at ExpiresAt), then for every freeze window and stopped
// line in its way to pass (unless an admin broke glass), re-scans a production target's digest, and queues the
// deployment of the same digest; the deployment's end ends the request. Decisions are recorded in the store
// by the API and the workflow is only woken (SignalPromotion), so one given while no worker runs is not lost:
// the workflow reads them when it next runs. It returns the request's status when it leaves it.
func Promotion(ctx workflow.Context, in PromotionInput) (string, error) {
	p := &promotion{in: in, wake: workflow.GetSignalChannel(ctx, SignalPromotion)}
	short := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, MaximumInterval: 30 * time.Second},
	})
	state, err := p.state(short)
	if err != nil {
		return "", err
	}
	if status, msg, ended := p.awaitApprovals(ctx, short, &state); ended {
		return p.end(short, status, msg)
	}
	for {
		if state.Cancelled {
			return p.end(short, api.PromotionCancelled, "cancelled")
		}
		var check PromotionCheck
		if err := workflow.ExecuteActivity(short, ActivityCheckPromotion, CheckPromotionInput{ID: in.ID}).Get(ctx, &check); err != nil {
			return "", err
		}
		if check.Refusal != "" {
			return p.end(short, api.PromotionFailed, check.Refusal)
		}
		if !check.Wait {
			break
		}
		wait := promotionStopRecheck
		if !check.Until.IsZero() {
			wait = max(check.Until.Sub(workflow.Now(ctx)), time.Second)
		}
		p.sleepOrWake(ctx, wait)
		if state, err = p.state(short); err != nil {
			return "", err
		}
	}
	if in.Rescan {
		long := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
			StartToCloseTimeout: 30 * time.Minute,
			HeartbeatTimeout:    time.Minute,
			RetryPolicy:         &temporal.RetryPolicy{InitialInterval: 2 * time.Second, MaximumInterval: time.Minute, MaximumAttempts: 5},
		})
		if err := workflow.ExecuteActivity(long, ActivityRescanPromotion, RescanPromotionInput{ID: in.ID}).Get(ctx, nil); err != nil {
			return p.end(short, api.PromotionFailed, "re-scan: "+failureMessage(err))
		}
	}
	// The short activities retry until they succeed; an error here is a refusal (the build became undeployable).
	if err := workflow.ExecuteActivity(short, ActivityQueuePromotion, QueuePromotionInput{ID: in.ID}).Get(ctx, nil); err != nil {
		return p.end(short, api.PromotionFailed, failureMessage(err))
	}
	return api.PromotionDeploying, nil
}

// promotion is the state of one run of Promotion.
type promotion struct {
	in   PromotionInput
	wake workflow.ReceiveChannel
}

func (p *promotion) state(ctx workflow.Context) (PromotionState, error) {
	var s PromotionState
	err := workflow.ExecuteActivity(ctx, ActivityPromotionState, PromotionStateInput{ID: p.in.ID}).Get(ctx, &s)
	return s, err
}

// awaitApprovals waits until the request has MinApprovals approvals; ended reports it ended instead, with
// the status and message to record.
func (p *promotion) awaitApprovals(ctx, short workflow.Context, state *PromotionState) (status, msg string, ended bool) {
	if p.in.MinApprovals == 0 {
		return "", "", false
	}
	expiry := workflow.NewTimer(ctx, max(p.in.ExpiresAt.Sub(workflow.Now(ctx)), 0))
	expired := false
	for {
		switch {
		case state.Cancelled:
			return api.PromotionCancelled, "cancelled", true
		case state.RejectedBy != "":
			return api.PromotionRejected, "rejected by " + state.RejectedBy, true
		case len(state.Approvals) >= p.in.MinApprovals:
			return "", "", false
		case expired:
			return api.PromotionExpired, "not approved before " + p.in.ExpiresAt.UTC().Format(time.RFC3339), true
		}
		sel := workflow.NewSelector(ctx)
		sel.AddReceive(p.wake, func(c workflow.ReceiveChannel, _ bool) { p.drain() })
		sel.AddFuture(expiry, func(workflow.Future) { expired = true })
		sel.Select(ctx)
		s, err := p.state(short)
		if err != nil {
			return api.PromotionFailed, "reading its approvals: " + failureMessage(err), true
		}
		*state = s
	}
}

// sleepOrWake waits for d to pass or for a signal, whichever comes first.
func (p *promotion) sleepOrWake(ctx workflow.Context, d time.Duration) {
	tctx, cancel := workflow.WithCancel(ctx)
	defer cancel()
	sel := workflow.NewSelector(ctx)
	sel.AddReceive(p.wake, func(workflow.ReceiveChannel, bool) { p.drain() })
	sel.AddFuture(workflow.NewTimer(tctx, d), func(workflow.Future) {})
	sel.Select(ctx)
}

// drain takes every signal waiting: one re-read of the state answers them all.
func (p *promotion) drain() {
	for {
		var s PromotionSignal
		if !p.wake.ReceiveAsync(&s) {
			return
		}
	}
}

func (p *promotion) end(ctx workflow.Context, status, msg string) (string, error) {
	if err := workflow.ExecuteActivity(ctx, ActivityEndPromotion, EndPromotionInput{ID: p.in.ID, Status: status, Message: msg}).Get(ctx, nil); err != nil {
		return "", err
	}
	return status, nil
}
