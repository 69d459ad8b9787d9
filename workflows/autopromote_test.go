package workflows

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/testsuite"
)

// fakeAutoPromote records the AutoPromote calls with the workflow clock at each, answering from answers in
// turn (then "requested").
type fakeAutoPromote struct {
	mu      sync.Mutex
	env     *testsuite.TestWorkflowEnvironment
	start   time.Time
	calls   []string
	answers []AutoPromoteResult
}

func (f *fakeAutoPromote) register(env *testsuite.TestWorkflowEnvironment) {
	f.env, f.start = env, env.Now()
	env.RegisterActivityWithOptions(func(ctx context.Context, in AutoPromoteInput) (AutoPromoteResult, error) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.calls = append(f.calls, in.DeploymentID+"@"+f.env.Now().Sub(f.start).Round(time.Minute).String())
		if len(f.answers) == 0 {
			return AutoPromoteResult{Outcome: AutoPromoteRequested, PromotionID: "pr-1"}, nil
		}
		res := f.answers[0]
		f.answers = f.answers[1:]
		return res, nil
	}, activityName(ActivityAutoPromote))
}

func (f *fakeAutoPromote) got() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return strings.Join(f.calls, " ")
}

// A candidate is promoted once its soak time has passed, not before.
func TestAutoPromotionWaitsForTheSoak(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	f := &fakeAutoPromote{}
	f.register(env)
	env.ExecuteWorkflow(AutoPromotion, AutoPromotionInput{Project: "shop", Component: "api", Environment: "staging",
		Candidate: &PromotionCandidate{DeploymentID: "d-1", BuildID: "b-1", ReadyAt: f.start.Add(time.Hour)}})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	if got := f.got(); got != "d-1@1h0m0s" {
		t.Fatalf("AutoPromote calls %q, want d-1 once after its hour of soak", got)
	}
}

// A newer candidate offered while one soaks supersedes it: only the newest is promoted, after its own soak.
func TestAutoPromotionNewerCandidateSupersedes(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	f := &fakeAutoPromote{}
	f.register(env)
	env.RegisterDelayedCallback(func() {
		env.SignalWorkflow(SignalCandidate, PromotionCandidate{DeploymentID: "d-2", BuildID: "b-2", ReadyAt: f.start.Add(70 * time.Minute)})
	}, 10*time.Minute)
	env.ExecuteWorkflow(AutoPromotion, AutoPromotionInput{Project: "shop", Component: "api", Environment: "staging",
		Candidate: &PromotionCandidate{DeploymentID: "d-1", BuildID: "b-1", ReadyAt: f.start.Add(time.Hour)}})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	if got := f.got(); got != "d-2@1h10m0s" {
		t.Fatalf("AutoPromote calls %q, want only d-2, after its soak", got)
	}
}

// "Later" (a verification still running, a lengthened soak) tries again then; "held" drops the candidate, and
// the workflow ends after a quiet while.
func TestAutoPromotionLaterAndHeld(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	f := &fakeAutoPromote{answers: []AutoPromoteResult{{Outcome: AutoPromoteLater}, {Outcome: AutoPromoteHeld, Message: "held by alice"}}}
	f.register(env)
	f.answers[0].RetryAt = f.start.Add(30 * time.Minute)
	env.ExecuteWorkflow(AutoPromotion, AutoPromotionInput{Project: "shop", Component: "api", Environment: "staging",
		Candidate: &PromotionCandidate{DeploymentID: "d-1", BuildID: "b-1", ReadyAt: f.start}})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	if got := f.got(); got != "d-1@0s d-1@30m0s" {
		t.Fatalf("AutoPromote calls %q, want d-1 at once and again after 30m, then nothing", got)
	}
	if took := env.Now().Sub(f.start); took < 30*time.Minute+autoPromotionIdle {
		t.Fatalf("the workflow ended %s in, before its idle time after the hold", took)
	}
}
