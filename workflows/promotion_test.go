package workflows

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/slipway-dev/slipway/api"
)

// promotionStub stands in for the store behind the promotion activities: decisions are recorded by the test
// (as the API would) before it signals; check answers CheckPromotion in turn (the last one repeats).
type promotionStub struct {
	mu       sync.Mutex
	state    PromotionState
	checks   []PromotionCheck
	checked  int
	rescan   error
	queued   int
	ended    []EndPromotionInput
	rescans  int
	stateRds int
}

func (s *promotionStub) set(f func(*PromotionState)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(&s.state)
}

func promotionEnv(t *testing.T, stub *promotionStub) *testsuite.TestWorkflowEnvironment {
	t.Helper()
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: PromotionWorkflowID("pr-1")})
	env.RegisterActivityWithOptions(func(_ context.Context, in PromotionStateInput) (PromotionState, error) {
		stub.mu.Lock()
		defer stub.mu.Unlock()
		stub.stateRds++
		st := stub.state
		st.Approvals = append([]string{}, st.Approvals...)
		return st, nil
	}, activityName(ActivityPromotionState))
	env.RegisterActivityWithOptions(func(_ context.Context, in CheckPromotionInput) (PromotionCheck, error) {
		stub.mu.Lock()
		defer stub.mu.Unlock()
		if len(stub.checks) == 0 {
			return PromotionCheck{}, nil
		}
		c := stub.checks[min(stub.checked, len(stub.checks)-1)]
		stub.checked++
		if stub.state.BreakGlass {
			return PromotionCheck{}, nil
		}
		return c, nil
	}, activityName(ActivityCheckPromotion))
	env.RegisterActivityWithOptions(func(_ context.Context, in RescanPromotionInput) error {
		stub.mu.Lock()
		defer stub.mu.Unlock()
		stub.rescans++
		return stub.rescan
	}, activityName(ActivityRescanPromotion))
	env.RegisterActivityWithOptions(func(_ context.Context, in QueuePromotionInput) error {
		stub.mu.Lock()
		defer stub.mu.Unlock()
		stub.queued++
		return nil
	}, activityName(ActivityQueuePromotion))
	env.RegisterActivityWithOptions(func(_ context.Context, in EndPromotionInput) error {
		stub.mu.Lock()
		defer stub.mu.Unlock()
		stub.ended = append(stub.ended, in)
		return nil
	}, activityName(ActivityEndPromotion))
	return env
}

// decide records a decision after d (as the API does) and signals the workflow.
func decide(env *testsuite.TestWorkflowEnvironment, stub *promotionStub, d time.Duration, kind, actor string, record func(*PromotionState)) {
	env.RegisterDelayedCallback(func() {
		stub.set(record)
		env.SignalWorkflow(SignalPromotion, PromotionSignal{Kind: kind, Actor: actor})
	}, d)
}

func promotionResult(t *testing.T, env *testsuite.TestWorkflowEnvironment) string {
	t.Helper()
	if !env.IsWorkflowCompleted() {
		t.Fatal("the promotion did not end")
	}
	var status string
	if err := env.GetWorkflowResult(&status); err != nil {
		t.Fatalf("promotion failed: %v", err)
	}
	return status
}

func TestPromotionWaitsForTwoDistinctApprovals(t *testing.T) {
	stub := &promotionStub{}
	env := promotionEnv(t, stub)
	decide(env, stub, time.Hour, "approve", "ops", func(s *PromotionState) { s.Approvals = []string{"ops"} })
	// The same approver's decision again wakes it, and it still waits.
	decide(env, stub, 2*time.Hour, "approve", "ops", func(s *PromotionState) {})
	env.RegisterDelayedCallback(func() {
		if stub.queued != 0 {
			t.Error("queued with one approval")
		}
	}, 3*time.Hour)
	decide(env, stub, 4*time.Hour, "approve", "ops2", func(s *PromotionState) { s.Approvals = append(s.Approvals, "ops2") })
	env.ExecuteWorkflow(Promotion, PromotionInput{ID: "pr-1", MinApprovals: 2, ExpiresAt: env.Now().Add(7 * 24 * time.Hour), Rescan: true})
	if status := promotionResult(t, env); status != api.PromotionDeploying || stub.queued != 1 || stub.rescans != 1 || len(stub.ended) != 0 {
		t.Fatalf("status %s, queued %d, rescans %d, ended %+v", status, stub.queued, stub.rescans, stub.ended)
	}
}

func TestPromotionApprovedBeforeItRanGoesOn(t *testing.T) {
	// Approvals recorded while no worker ran the workflow are read when it runs: no signal is needed.
	stub := &promotionStub{state: PromotionState{Approvals: []string{"ops", "ops2"}}}
	env := promotionEnv(t, stub)
	env.ExecuteWorkflow(Promotion, PromotionInput{ID: "pr-1", MinApprovals: 2, ExpiresAt: env.Now().Add(time.Hour)})
	if status := promotionResult(t, env); status != api.PromotionDeploying || stub.queued != 1 || stub.rescans != 0 {
		t.Fatalf("status %s, queued %d, rescans %d", status, stub.queued, stub.rescans)
	}
}

func TestPromotionOneRejectionEndsIt(t *testing.T) {
	stub := &promotionStub{}
	env := promotionEnv(t, stub)
	decide(env, stub, time.Minute, "approve", "ops", func(s *PromotionState) { s.Approvals = []string{"ops"} })
	decide(env, stub, 2*time.Minute, "reject", "ops2", func(s *PromotionState) { s.RejectedBy = "ops2" })
	env.ExecuteWorkflow(Promotion, PromotionInput{ID: "pr-1", MinApprovals: 2, ExpiresAt: env.Now().Add(time.Hour)})
	if status := promotionResult(t, env); status != api.PromotionRejected || stub.queued != 0 || len(stub.ended) != 1 ||
		stub.ended[0].Message != "rejected by ops2" {
		t.Fatalf("status %s, queued %d, ended %+v", status, stub.queued, stub.ended)
	}
}

func TestPromotionExpires(t *testing.T) {
	stub := &promotionStub{}
	env := promotionEnv(t, stub)
	expires := env.Now().Add(48 * time.Hour)
	decide(env, stub, time.Hour, "approve", "ops", func(s *PromotionState) { s.Approvals = []string{"ops"} })
	env.ExecuteWorkflow(Promotion, PromotionInput{ID: "pr-1", MinApprovals: 2, ExpiresAt: expires})
	if status := promotionResult(t, env); status != api.PromotionExpired || stub.queued != 0 || len(stub.ended) != 1 ||
		!strings.HasPrefix(stub.ended[0].Message, "not approved before ") {
		t.Fatalf("status %s, queued %d, ended %+v", status, stub.queued, stub.ended)
	}
	if got := env.Now(); got.Before(expires) {
		t.Fatalf("expired at %s, before %s", got, expires)
	}
}

func TestPromotionCancelled(t *testing.T) {
	stub := &promotionStub{}
	env := promotionEnv(t, stub)
	decide(env, stub, time.Minute, "cancel", "dev", func(s *PromotionState) { s.Cancelled = true })
	env.ExecuteWorkflow(Promotion, PromotionInput{ID: "pr-1", MinApprovals: 1, ExpiresAt: env.Now().Add(time.Hour)})
	if status := promotionResult(t, env); status != api.PromotionCancelled || stub.queued != 0 {
		t.Fatalf("status %s, queued %d", status, stub.queued)
	}
}

func TestPromotionWaitsOutAFreezeWindow(t *testing.T) {
	stub := &promotionStub{}
	env := promotionEnv(t, stub)
	until := env.Now().Add(3 * time.Hour)
	stub.checks = []PromotionCheck{{Wait: true, Until: until}, {}}
	env.ExecuteWorkflow(Promotion, PromotionInput{ID: "pr-1"})
	if status := promotionResult(t, env); status != api.PromotionDeploying || stub.queued != 1 || stub.checked != 2 {
		t.Fatalf("status %s, queued %d, checked %d", status, stub.queued, stub.checked)
	}
	if env.Now().Before(until) {
		t.Fatalf("queued at %s, inside the window that ends %s", env.Now(), until)
	}
}

func TestPromotionWaitsForAStoppedLineUntilWokenOrBrokenGlass(t *testing.T) {
	stub := &promotionStub{checks: []PromotionCheck{{Wait: true}}}
	env := promotionEnv(t, stub)
	start := env.Now()
	decide(env, stub, 90*time.Minute, "break_glass", "root", func(s *PromotionState) { s.BreakGlass = true })
	env.ExecuteWorkflow(Promotion, PromotionInput{ID: "pr-1"})
	if status := promotionResult(t, env); status != api.PromotionDeploying || stub.queued != 1 {
		t.Fatalf("status %s, queued %d", status, stub.queued)
	}
	// It looked again every promotionStopRecheck while stopped, and went on when glass was broken.
	if waited := env.Now().Sub(start); waited < 90*time.Minute || waited > 91*time.Minute || stub.checked < int(90*time.Minute/promotionStopRecheck) {
		t.Fatalf("waited %s, checked %d times", waited, stub.checked)
	}
}

func TestPromotionRefusedByACheckOrARescan(t *testing.T) {
	stub := &promotionStub{checks: []PromotionCheck{{Refusal: "build b-1 is quarantined by root: CVE-2026-1"}}}
	env := promotionEnv(t, stub)
	env.ExecuteWorkflow(Promotion, PromotionInput{ID: "pr-1", Rescan: true})
	if status := promotionResult(t, env); status != api.PromotionFailed || stub.queued != 0 || stub.rescans != 0 ||
		stub.ended[0].Message != "build b-1 is quarantined by root: CVE-2026-1" {
		t.Fatalf("status %s, queued %d, rescans %d, ended %+v", status, stub.queued, stub.rescans, stub.ended)
	}

	stub = &promotionStub{rescan: temporal.NewNonRetryableApplicationError("the scan policy blocks this image: CRITICAL CVE-2026-2 in libbar", "ScanPolicyViolation", nil)}
	env = promotionEnv(t, stub)
	env.ExecuteWorkflow(Promotion, PromotionInput{ID: "pr-1", Rescan: true})
	if status := promotionResult(t, env); status != api.PromotionFailed || stub.queued != 0 || !strings.Contains(stub.ended[0].Message, "CVE-2026-2") {
		t.Fatalf("status %s, queued %d, ended %+v", status, stub.queued, stub.ended)
	}
}
