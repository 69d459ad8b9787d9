package workflows

import (
	"fmt"
	"slices"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/slipway-dev/slipway/api"
)

// Names of the deploy activities and of the signal that queues a deployment.
const (
	ActivityCheckRequired    = "CheckRequired"
	ActivityRollout          = "Rollout"
	ActivityFailDeployment   = "FailDeployment"
	ActivityRetireReplaced   = "RetireReplaced"
	ActivityVerify           = "Verify"
	ActivityRollBack         = "RollBack"
	ActivityOfferPromotion   = "OfferPromotion"
	ActivityPassVerification = "PassVerification"
	ActivityRolledBack       = "RolledBack"
	SignalDeploy             = "deploy"
	deployQueueIdle          = 10 * time.Minute
	deployQueueContinueAfter = 100
)

// DeployWorkflowID names the one queue of deployments of a component to an environment, so two never
// interleave.
func DeployWorkflowID(project, component, environment string) string {
	return "deploy/" + project + "/" + component + "/" + environment
}

// DeployStart is how a deployment is queued: signal SignalDeploy with req to the workflow ID, starting
// DeployQueue with these options and input when it does not run (client.SignalWithStartWorkflow).
func DeployStart(project, component, environment string) (string, client.StartWorkflowOptions, DeployQueueInput) {
	id := DeployWorkflowID(project, component, environment)
	return id, client.StartWorkflowOptions{
		ID: id, TaskQueue: TaskQueue,
		TypedSearchAttributes: temporal.NewSearchAttributes(
			temporal.NewSearchAttributeKeyKeyword(SearchAttrProject).ValueSet(project),
			temporal.NewSearchAttributeKeyKeyword(SearchAttrComponent).ValueSet(component),
			temporal.NewSearchAttributeKeyKeyword(SearchAttrEnvironment).ValueSet(environment),
		),
	}, DeployQueueInput{Project: project, Component: component, Environment: environment}
}

// DeployQueueInput names the queue; Pending carries queued requests over a continue-as-new.
type DeployQueueInput struct {
	Project     string          `json:"project"`
	Component   string          `json:"component"`
	Environment string          `json:"environment"`
	Pending     []DeployRequest `json:"pending,omitempty"`
}

// DeployRequest asks for one stored, queued deployment to run. It names the deployment only: the
// activities read the build and the environment's configs themselves.
type DeployRequest struct {
	DeploymentID string `json:"deploymentId"`
	BuildID      string `json:"buildId"`
	// Rollback marks the deployment of the release before one that failed its verification: it is not verified
	// again nor offered for promotion.
	Rollback bool `json:"rollback,omitempty"`
	// RollsBack is the deployment that failed its verification, recorded rolled back once this one succeeds;
	// "" in histories recorded before it was added.
	RollsBack string `json:"rollsBack,omitempty"`
}

// CheckRequiredInput asks whether the environment has every config and secret the build requires.
// DeploymentID names the deployment asking ("" in histories recorded before it was added): a build's own
// auto-deploy is checked while the build is still running.
type CheckRequiredInput struct {
	DeploymentID string `json:"deploymentId,omitempty"`
	BuildID      string `json:"buildId"`
	Project      string `json:"project"`
	Component    string `json:"component"`
	Environment  string `json:"environment"`
}

// CheckRequiredResult names the data plane the environment's releases run on now: the deployment's data-plane
// steps go to its task queue (DataPlaneTaskQueue). "" is docker.
type CheckRequiredResult struct {
	DataPlane string `json:"dataPlane,omitempty"`
}

// RolloutInput runs a deployment. RetireLater leaves the releases it replaced to RetireReplaced, so the
// deployment is recorded succeeded as soon as the new release serves; false (histories recorded before it was
// added) removes them in the rollout, before the deployment is recorded.
type RolloutInput struct {
	DeploymentID string `json:"deploymentId"`
	RetireLater  bool   `json:"retireLater,omitempty"`
}

// RetireReplacedInput names a succeeded deployment and the builds whose releases it replaced, to be removed.
type RetireReplacedInput struct {
	DeploymentID string   `json:"deploymentId"`
	Builds       []string `json:"builds"`
}

// VerifyInput names a deployment whose release serves, to verify against its environment's checks.
type VerifyInput struct {
	DeploymentID string `json:"deploymentId"`
}

// VerifyResult is how a verification went: Status api.VerificationPassed or api.VerificationFailed (Message
// says which check failed and how), or "" when the environment verifies nothing. api.VerificationRunning with
// Task: the HTTP checks passed, and the task named runs next (a TaskRun), whose exit decides.
type VerifyResult struct {
	Status  string `json:"status,omitempty"`
	Message string `json:"message,omitempty"`
	Task    string `json:"task,omitempty"`
}

// PassVerificationInput records a deployment's verification passed, after its verification task exited 0.
type PassVerificationInput struct {
	DeploymentID string `json:"deploymentId"`
}

// VerificationRunID is the workflow ID of the run of task that verifies a deployment: one per deployment, so a
// repeat finds the same run.
func VerificationRunID(project, task, environment, deploymentID string) string {
	return TaskRunWorkflowID(project, task, environment) + "/verify-" + deploymentID
}

// RollBackInput names a deployment whose release failed its verification and why.
type RollBackInput struct {
	DeploymentID string `json:"deploymentId"`
	Message      string `json:"message"`
}

// RollBackResult is the deployment of the release before, with the configs it had, to run next; a zero
// Deployment when nothing served before (the release keeps serving, recorded failed verification).
type RollBackResult struct {
	Deployment DeployRequest `json:"deployment"`
}

// RolledBackInput names a deployment that failed its verification, whose rollback succeeded.
type RolledBackInput struct {
	DeploymentID string `json:"deploymentId"`
}

// OfferPromotionInput names a deployment that serves, verified, for the auto-promotion of the environment
// after its own.
type OfferPromotionInput struct {
	DeploymentID string `json:"deploymentId"`
}

// versionVerify is the change that verifies a release after it serves, rolls it back when it fails, retires
// what it replaced only once it passed and offers it for auto-promotion.
const versionVerify = "verify"

// versionRetireLater is the change that records a deployment succeeded once its release serves and removes
// the releases it replaced afterwards (the old containers may take their whole stop grace to go).
const versionRetireLater = "retire-later"

// RolloutResult is how a deployment ended: api.DeploymentSucceeded (serving at URL) or api.DeploymentFailed
// (Message says why; the previous release kept serving).
type RolloutResult struct {
	Status  string `json:"status"`
	URL     string `json:"url,omitempty"`
	Message string `json:"message,omitempty"`
	// Replaced names the builds whose releases still ran beside the release when it took over, for
	// RetireReplaced (RetireLater on a data plane the entry routes, Docker, only).
	Replaced []string `json:"replaced,omitempty"`
}

// FailDeploymentInput records a deployment that could not start.
type FailDeploymentInput struct {
	DeploymentID string `json:"deploymentId"`
	Message      string `json:"message"`
}

// DeployQueue runs the deployments of one component to one environment one at a time, in the order
// their signals arrived: each checks the environment's required configs and secrets, then rolls out
// (the rollout itself only ever switches to a ready release). It ends after a quiet while; the next
// signal-with-start begins a new run. After deployQueueContinueAfter deployments it continues as new,
// carrying the requests still queued.
func DeployQueue(ctx workflow.Context, in DeployQueueInput) error {
	q := &deployQueue{in: in, signals: workflow.GetSignalChannel(ctx, SignalDeploy), pending: in.Pending}
	for {
		q.receive()
		if len(q.pending) == 0 {
			if q.waitForRequest(ctx) {
				continue
			}
			q.retiring.wait(ctx)
			return nil
		}
		req := q.pending[0]
		q.pending = q.pending[1:]
		q.retiring.waitFor(ctx, req.BuildID)
		if err := q.deploy(ctx, req); err != nil {
			return err
		}
		if q.done++; q.done >= deployQueueContinueAfter {
			return q.continueAsNew(ctx)
		}
	}
}

// deployQueue is the state of one run of DeployQueue.
type deployQueue struct {
	in      DeployQueueInput
	signals workflow.ReceiveChannel
	// pending are the requests received and not yet run, oldest first.
	pending []DeployRequest
	// done counts the deployments this run has run.
	done int
	// retiring are the RetireReplaced activities under way.
	retiring retirements
}

// receive queues every request signalled so far.
func (q *deployQueue) receive() {
	for {
		var req DeployRequest
		if !q.signals.ReceiveAsync(&req) {
			return
		}
		q.pending = append(q.pending, req)
	}
}

// waitForRequest waits, with nothing queued, for a request or for deployQueueIdle to pass. It reports
// whether a request is queued now (false: the queue stayed idle and may end).
func (q *deployQueue) waitForRequest(ctx workflow.Context) bool {
	tctx, cancel := workflow.WithCancel(ctx)
	timer := workflow.NewTimer(tctx, deployQueueIdle)
	sel := workflow.NewSelector(ctx)
	idle := false
	sel.AddReceive(q.signals, func(workflow.ReceiveChannel, bool) {})
	sel.AddFuture(timer, func(workflow.Future) { idle = true })
	sel.Select(ctx)
	cancel()
	q.receive()
	return !idle || len(q.pending) > 0
}

// deploy runs one deployment; its failure is the deployment's outcome, recorded, not the queue's. The
// releases a succeeded rollout replaced are retired beside the queue.
func (q *deployQueue) deploy(ctx workflow.Context, req DeployRequest) error {
	short := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, MaximumInterval: 30 * time.Second, MaximumAttempts: 10},
	})
	long := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Minute,
		// The rollout heartbeats every 5 s: a worker lost mid-rollout is noticed within 20 s and the
		// rollout picks up on another (its steps are idempotent).
		HeartbeatTimeout: 20 * time.Second,
		RetryPolicy:      &temporal.RetryPolicy{InitialInterval: 2 * time.Second, MaximumInterval: time.Minute, MaximumAttempts: 10},
	})
	routed := workflow.GetVersion(ctx, versionDataPlaneQueue, workflow.DefaultVersion, 1) >= 1
	var check CheckRequiredResult
	var checked any // the result is read only where it was recorded
	if routed {
		checked = &check
	}
	err := workflow.ExecuteActivity(short, ActivityCheckRequired, CheckRequiredInput{
		DeploymentID: req.DeploymentID, BuildID: req.BuildID, Project: q.in.Project, Component: q.in.Component, Environment: q.in.Environment,
	}).Get(ctx, checked)
	route := dataPlaneRoute{routed: routed, plane: check.DataPlane}
	long = route.on(long)
	var res RolloutResult
	retireLater := workflow.GetVersion(ctx, versionRetireLater, workflow.DefaultVersion, 1) >= 1
	if err == nil {
		err = workflow.ExecuteActivity(long, ActivityRollout, RolloutInput{DeploymentID: req.DeploymentID, RetireLater: retireLater}).Get(ctx, &res)
	}
	if err == nil && res.Status == api.DeploymentSucceeded && workflow.GetVersion(ctx, versionVerify, workflow.DefaultVersion, 1) >= 1 {
		return q.verify(ctx, req, res, retireLater, route)
	}
	if err == nil && retireLater && res.Status == api.DeploymentSucceeded && len(res.Replaced) > 0 {
		q.retiring.start(long, req.DeploymentID, res.Replaced)
	}
	if err == nil {
		return nil
	}
	workflow.GetLogger(ctx).Warn("deployment failed", "deployment", req.DeploymentID, "error", err)
	return workflow.ExecuteActivity(short, ActivityFailDeployment, FailDeploymentInput{
		DeploymentID: req.DeploymentID, Message: route.failure(err),
	}).Get(ctx, nil)
}

// verify runs the environment's verification of a release that serves (a rollback's is not verified). When it
// passes, or there is none, what the release replaced is retired and it is offered for auto-promotion; when it
// fails, the release before it is deployed next, with the configs it had, and the failed release goes with that
// deployment's own retirement. route moves the steps that reach the data plane onto its task queue.
func (q *deployQueue) verify(ctx workflow.Context, req DeployRequest, res RolloutResult, retireLater bool, route dataPlaneRoute) error {
	short := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, MaximumInterval: 30 * time.Second, MaximumAttempts: 10},
	})
	long := route.on(workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Minute,
		HeartbeatTimeout:    20 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: 2 * time.Second, MaximumInterval: time.Minute, MaximumAttempts: 10},
	}))
	var v VerifyResult
	if !req.Rollback {
		// The checks run for the environment's window (at most an hour) and heartbeat every few seconds.
		vctx := route.on(workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
			StartToCloseTimeout: 2 * time.Hour,
			HeartbeatTimeout:    30 * time.Second,
			RetryPolicy:         &temporal.RetryPolicy{InitialInterval: 2 * time.Second, MaximumInterval: time.Minute, MaximumAttempts: 5},
		}))
		if err := workflow.ExecuteActivity(vctx, ActivityVerify, VerifyInput{DeploymentID: req.DeploymentID}).Get(ctx, &v); err != nil {
			v = VerifyResult{Status: api.VerificationFailed, Message: "the checks could not run: " + route.failure(err)}
		}
		if v.Status == api.VerificationRunning && v.Task != "" {
			v = q.verificationTask(ctx, req, v.Task)
			if v.Status == api.VerificationPassed {
				if err := workflow.ExecuteActivity(short, ActivityPassVerification, PassVerificationInput{DeploymentID: req.DeploymentID}).Get(ctx, nil); err != nil {
					v = VerifyResult{Status: api.VerificationFailed, Message: "recording the verification: " + failureMessage(err)}
				}
			}
		}
	}
	if v.Status == api.VerificationFailed {
		var rb RollBackResult
		if err := workflow.ExecuteActivity(short, ActivityRollBack, RollBackInput{DeploymentID: req.DeploymentID, Message: v.Message}).Get(ctx, &rb); err != nil {
			workflow.GetLogger(ctx).Error("rolling back a release that failed its verification", "deployment", req.DeploymentID, "error", err)
			return nil
		}
		if rb.Deployment.DeploymentID != "" {
			q.pending = append([]DeployRequest{rb.Deployment}, q.pending...)
		}
		return nil
	}
	if retireLater && len(res.Replaced) > 0 {
		q.retiring.start(long, req.DeploymentID, res.Replaced)
	}
	if req.Rollback {
		if req.RollsBack != "" {
			if err := workflow.ExecuteActivity(short, ActivityRolledBack, RolledBackInput{DeploymentID: req.RollsBack}).Get(ctx, nil); err != nil {
				workflow.GetLogger(ctx).Error("recording a release rolled back", "deployment", req.RollsBack, "error", err)
			}
		}
		return nil
	}
	if err := workflow.ExecuteActivity(short, ActivityOfferPromotion, OfferPromotionInput{DeploymentID: req.DeploymentID}).Get(ctx, nil); err != nil {
		workflow.GetLogger(ctx).Warn("offering a release for auto-promotion", "deployment", req.DeploymentID, "error", err)
	}
	return nil
}

// verificationTask runs the environment's verification task against a release (a TaskRun of the task's release
// there, with the environment's configs) and says how it went: its exit 0 passes.
func (q *deployQueue) verificationTask(ctx workflow.Context, req DeployRequest, task string) VerifyResult {
	cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
		WorkflowID: VerificationRunID(q.in.Project, task, q.in.Environment, req.DeploymentID),
		TypedSearchAttributes: temporal.NewSearchAttributes(
			temporal.NewSearchAttributeKeyKeyword(SearchAttrProject).ValueSet(q.in.Project),
			temporal.NewSearchAttributeKeyKeyword(SearchAttrComponent).ValueSet(task),
			temporal.NewSearchAttributeKeyKeyword(SearchAttrEnvironment).ValueSet(q.in.Environment),
			temporal.NewSearchAttributeKeyKeyword(SearchAttrTrigger).ValueSet(api.RunTriggerVerification),
		),
	})
	var run TaskRunResult
	err := workflow.ExecuteChildWorkflow(cctx, TaskRun, TaskRunInput{Project: q.in.Project, Component: task, Environment: q.in.Environment,
		Trigger: api.RunTriggerVerification, Verifies: req.DeploymentID}).Get(ctx, &run)
	switch {
	case err != nil:
		return VerifyResult{Status: api.VerificationFailed, Message: "verification task " + task + " did not run: " + failureMessage(err)}
	case run.Status != api.RunSucceeded:
		msg := "verification task " + task + " failed"
		if run.ExitCode != nil {
			msg += fmt.Sprintf(" with exit code %d", *run.ExitCode)
		}
		if run.Message != "" {
			msg += ": " + run.Message
		}
		return VerifyResult{Status: api.VerificationFailed, Message: msg}
	}
	return VerifyResult{Status: api.VerificationPassed, Message: "verification task " + task + " exited 0"}
}

// continueAsNew waits for the retirements under way, then continues the queue as a new run that
// starts with every request still queued (the history of one run stays bounded).
func (q *deployQueue) continueAsNew(ctx workflow.Context) error {
	q.retiring.wait(ctx)
	q.receive()
	in := q.in
	in.Pending = q.pending
	return workflow.NewContinueAsNewError(ctx, DeployQueue, in)
}

// retirements are the RetireReplaced activities running beside the queue: the releases a deployment
// replaced may take their whole stop grace to go, and the next deployment need not wait for that.
type retirements struct {
	running []retirement
}

// retirement is one RetireReplaced under way: the builds it removes.
type retirement struct {
	builds []string
	done   workflow.Future
}

// waitFor waits until no running retirement removes build: a deployment of a build being retired (a
// rollback to it) starts once its old containers are gone.
func (r *retirements) waitFor(ctx workflow.Context, build string) {
	keep := r.running[:0]
	for _, x := range r.running {
		if slices.Contains(x.builds, build) {
			x.get(ctx)
			continue
		}
		keep = append(keep, x)
	}
	r.running = keep
}

// get waits for the retirement; a failure is logged, not the deployment's (it has its outcome).
func (x retirement) get(ctx workflow.Context) {
	if err := x.done.Get(ctx, nil); err != nil {
		workflow.GetLogger(ctx).Warn("removing the releases a deployment replaced failed", "builds", x.builds, "error", err)
	}
}

// start runs RetireReplaced for a succeeded deployment without waiting for it.
func (r *retirements) start(ctx workflow.Context, deploymentID string, builds []string) {
	r.running = slices.DeleteFunc(r.running, func(x retirement) bool {
		if x.done.IsReady() {
			x.get(ctx) // ready: returns at once, logging a failure
			return true
		}
		return false
	})
	// A build an earlier retirement is removing still runs: that one sees to it.
	builds = slices.DeleteFunc(slices.Clone(builds), func(b string) bool {
		return slices.ContainsFunc(r.running, func(x retirement) bool { return slices.Contains(x.builds, b) })
	})
	if len(builds) == 0 {
		return
	}
	f := workflow.ExecuteActivity(ctx, ActivityRetireReplaced, RetireReplacedInput{DeploymentID: deploymentID, Builds: builds})
	r.running = append(r.running, retirement{builds: builds, done: f})
}

// wait waits for every running retirement, before the queue ends or continues as new.
func (r *retirements) wait(ctx workflow.Context) {
	for _, x := range r.running {
		x.get(ctx)
	}
	r.running = nil
}
