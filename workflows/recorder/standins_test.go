package recorder

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	sdkworker "go.temporal.io/sdk/worker"

	"github.com/slipway-dev/slipway/api"
	"github.com/slipway-dev/slipway/scan"
	"github.com/slipway-dev/slipway/workflows"
)

// standIns are the activities of the build pipeline and the deploy queue as the workflows see them: they
// answer what the real ones answer (same names, inputs and results, the same non-retryable error types) from
// what the test set up, and record each call. They deploy to a Docker data plane that entries route: a
// rollout that succeeds names the build it replaced, for RetireReplaced.
type standIns struct {
	// temporal queues the deployments RequestDeploy asks for, as the real activity does.
	temporal client.Client

	mu sync.Mutex
	// calls are the calls so far, by the ID of the workflow that made them.
	calls map[string][]string
	// deployments are the stored deployments, by ID: what Rollout reads.
	deployments map[string]deployment
	// missing names, by build, the configs or secrets the environment lacks (CheckRequired fails).
	missing map[string]string
	// notReady are the builds whose release never gets ready (the rollout ends failed).
	notReady map[string]bool
	// holds keep a call (CheckRequired of a build, RetireReplaced of a deployment) waiting, so that
	// requests queue up behind it.
	holds map[string]*hold
	// serving is, by queue, the build the last succeeded rollout put in.
	serving map[string]string
	// entries is, by queue, the port of its entry.
	entries map[string]int
	// unverified are the builds whose release fails its verification; previous is, by queue, the build
	// serving before the last one put in (what a rollback puts back).
	unverified map[string]bool
	previous   map[string]string
}

// deployment is a stored deployment: where it deploys which build.
type deployment struct {
	project, component, environment, build string
}

func newStandIns(c client.Client) *standIns {
	return &standIns{temporal: c, calls: map[string][]string{}, deployments: map[string]deployment{}, missing: map[string]string{},
		notReady: map[string]bool{}, holds: map[string]*hold{}, serving: map[string]string{}, entries: map[string]int{},
		unverified: map[string]bool{}, previous: map[string]string{}}
}

// register registers every stand-in under its activity's name but those registerDataPlane registers.
func (s *standIns) register(w sdkworker.Registry) {
	for name, fn := range map[string]any{
		workflows.ActivityStartBuild:          s.StartBuild,
		workflows.ActivityCheckout:            s.Checkout,
		workflows.ActivityBuildImage:          s.BuildImage,
		workflows.ActivityScanImage:           s.ScanImage,
		workflows.ActivityPushImage:           s.PushImage,
		workflows.ActivityUpdateSpec:          s.UpdateSpec,
		workflows.ActivityRequestDeploy:       s.RequestDeploy,
		workflows.ActivityRemoveWorkspace:     s.RemoveWorkspace,
		workflows.ActivityFinishBuild:         s.FinishBuild,
		workflows.ActivityCheckRequired:       s.CheckRequired,
		workflows.ActivityFailDeployment:      s.FailDeployment,
		workflows.ActivityRollBack:            s.RollBack,
		workflows.ActivityRolledBack:          s.RolledBack,
		workflows.ActivityOfferPromotion:      s.OfferPromotion,
		workflows.ActivityAutoPromote:         s.AutoPromote,
		workflows.ActivityDeliverNotification: s.DeliverNotification,
		workflows.ActivityFailNotification:    s.FailNotification,
	} {
		w.RegisterActivityWithOptions(fn, activity.RegisterOptions{Name: name})
	}
}

// registerDataPlane registers the stand-ins of the activities that reach the data plane, on a worker polling its
// task queue (as worker.RegisterDataPlane).
func (s *standIns) registerDataPlane(w sdkworker.Registry) {
	for name, fn := range map[string]any{
		workflows.ActivityRollout:        s.Rollout,
		workflows.ActivityRetireReplaced: s.RetireReplaced,
		workflows.ActivityVerify:         s.Verify,
	} {
		w.RegisterActivityWithOptions(fn, activity.RegisterOptions{Name: name})
	}
}

func (s *standIns) called(ctx context.Context, format string, args ...any) {
	id := activity.GetInfo(ctx).WorkflowExecution.ID
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls[id] = append(s.calls[id], fmt.Sprintf(format, args...))
}

// took returns the calls the workflow (every run of it) made so far, and forgets them.
func (s *standIns) took(workflowID string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	calls := strings.Join(s.calls[workflowID], " ")
	delete(s.calls, workflowID)
	return calls
}

// store records a deployment, as the API does before it queues it.
func (s *standIns) store(id string, d deployment) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.deployments[id] = d
}

// hold is a call kept waiting: entered is closed once it is, release lets it go on.
type hold struct {
	entered, release chan struct{}
}

// holdCall keeps the call named ("check:<build>", "retire:<deployment>") waiting until release is closed.
func (s *standIns) holdCall(call string) *hold {
	s.mu.Lock()
	defer s.mu.Unlock()
	h := &hold{entered: make(chan struct{}), release: make(chan struct{})}
	s.holds[call] = h
	return h
}

// wait waits while the call is held.
func (s *standIns) wait(ctx context.Context, call string) error {
	s.mu.Lock()
	h := s.holds[call]
	delete(s.holds, call)
	s.mu.Unlock()
	if h == nil {
		return nil
	}
	close(h.entered)
	select {
	case <-h.release:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// hexID is an ID shaped like slipway's ("b-4da6050e64abb94b"), the same for the same seed.
func hexID(prefix, seed string) string {
	sum := sha256.Sum256([]byte(seed))
	return prefix + "-" + hex.EncodeToString(sum[:8])
}

func digestOf(seed string) string {
	sum := sha256.Sum256([]byte(seed))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// workspaceOf is where a build's files are checked out on the build worker.
func workspaceOf(build string) string { return "/var/lib/slipway/work/" + build }

func (s *standIns) StartBuild(ctx context.Context, in workflows.StartBuildInput) error {
	s.called(ctx, "start:%s", in.BuildID)
	return nil
}

func (s *standIns) Checkout(ctx context.Context, in workflows.CheckoutInput) (workflows.CheckoutResult, error) {
	s.called(ctx, "checkout:%s", in.Commit[:7])
	return workflows.CheckoutResult{Workspace: workspaceOf(in.BuildID)}, nil
}

func (s *standIns) BuildImage(ctx context.Context, in workflows.BuildImageInput) (workflows.BuildImageResult, error) {
	s.called(ctx, "build:%s", in.BuildID)
	return workflows.BuildImageResult{Layout: in.Workspace + "/image", Digest: digestOf(in.BuildID), CacheLayout: in.Workspace + "/cache"}, nil
}

func (s *standIns) ScanImage(ctx context.Context, in workflows.ScanImageInput) (workflows.ScanImageResult, error) {
	s.called(ctx, "scan:%s", in.BuildID)
	return workflows.ScanImageResult{Summary: scan.Summary{Vulnerabilities: scan.Counts{Medium: 1, Low: 3}, Passed: true,
		Scanned: []string{scan.ScannerVuln, scan.ScannerSecret, scan.ScannerMisconfig}}}, nil
}

func (s *standIns) PushImage(ctx context.Context, in workflows.PushImageInput) (workflows.PushImageResult, error) {
	s.called(ctx, "push:%s", in.Repository+":"+in.Tags[0][:7])
	return workflows.PushImageResult{Digest: digestOf(in.BuildID), Size: 1147366}, nil
}

func (s *standIns) UpdateSpec(ctx context.Context, in workflows.UpdateSpecInput) (workflows.UpdateSpecResult, error) {
	s.called(ctx, "spec:%s", in.BuildID)
	return workflows.UpdateSpecResult{Endpoints: 1, Specs: 1}, nil
}

// RequestDeploy queues the build's deployment to the project's first environment, development, on its
// deploy queue, as the real one does (its ID is the build's, so a repeat queues the same deployment).
func (s *standIns) RequestDeploy(ctx context.Context, in workflows.RequestDeployInput) (workflows.RequestDeployResult, error) {
	s.called(ctx, "request-deploy:%s", in.BuildID)
	const env = "development"
	id := "d-auto-" + strings.TrimPrefix(in.BuildID, "b-")
	s.store(id, deployment{project: in.Project, component: in.Component, environment: env, build: in.BuildID})
	wid, opts, qin := workflows.DeployStart(in.Project, in.Component, env)
	if _, err := s.temporal.SignalWithStartWorkflow(ctx, wid, workflows.SignalDeploy,
		workflows.DeployRequest{DeploymentID: id, BuildID: in.BuildID}, opts, workflows.DeployQueue, qin); err != nil {
		return workflows.RequestDeployResult{}, fmt.Errorf("queueing deployment %s: %w", id, err)
	}
	return workflows.RequestDeployResult{DeploymentID: id, Environment: env}, nil
}

func (s *standIns) RemoveWorkspace(ctx context.Context, in workflows.RemoveWorkspaceInput) error {
	s.called(ctx, "remove:%s", in.Workspace)
	return nil
}

func (s *standIns) FinishBuild(ctx context.Context, in workflows.FinishBuildInput) error {
	steps := make([]string, len(in.Steps))
	for i, st := range in.Steps {
		steps[i] = st.Name + "=" + st.Status
	}
	s.called(ctx, "finish:%s:%s[%s]", in.BuildID, in.Status, strings.Join(steps, ","))
	return nil
}

// CheckRequired fails, non-retryably (MissingConfig, as activities.ErrTypeMissingConfig), for a build whose
// required values the environment lacks. Every environment is on the Docker data plane.
func (s *standIns) CheckRequired(ctx context.Context, in workflows.CheckRequiredInput) (workflows.CheckRequiredResult, error) {
	s.called(ctx, "check:%s", in.DeploymentID)
	if err := s.wait(ctx, "check:"+in.BuildID); err != nil {
		return workflows.CheckRequiredResult{}, err
	}
	s.mu.Lock()
	missing := s.missing[in.BuildID]
	s.mu.Unlock()
	if missing != "" {
		return workflows.CheckRequiredResult{}, temporal.NewNonRetryableApplicationError(fmt.Sprintf("environment %s lacks what build %s requires: %s",
			in.Environment, in.BuildID, missing), "MissingConfig", nil)
	}
	return workflows.CheckRequiredResult{DataPlane: workflows.DataPlaneDocker}, nil
}

// Rollout puts the deployment's build in, or, for a build that never gets ready, ends failed with the
// previous release serving.
func (s *standIns) Rollout(ctx context.Context, in workflows.RolloutInput) (workflows.RolloutResult, error) {
	s.called(ctx, "rollout:%s", in.DeploymentID)
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.deployments[in.DeploymentID]
	if !ok {
		return workflows.RolloutResult{}, temporal.NewNonRetryableApplicationError("deployment "+in.DeploymentID+" does not exist", "NotDeployable", nil)
	}
	if s.notReady[d.build] {
		return workflows.RolloutResult{Status: api.DeploymentFailed, Message: "not ready: GET /healthz: 404; the previous release keeps serving"}, nil
	}
	queue := workflows.DeployWorkflowID(d.project, d.component, d.environment)
	if s.entries[queue] == 0 {
		s.entries[queue] = 41199 + len(s.entries)
	}
	res := workflows.RolloutResult{Status: api.DeploymentSucceeded, URL: fmt.Sprintf("http://127.0.0.1:%d", s.entries[queue]),
		Message: "ready: GET /healthz: 200"}
	if old := s.serving[queue]; old != "" && old != d.build {
		if in.RetireLater {
			res.Replaced = []string{old}
		}
	}
	if old := s.serving[queue]; old != d.build {
		s.previous[queue] = old
	}
	s.serving[queue] = d.build
	return res, nil
}

// Verify fails the release of an unverified build, with a check's last answer, and passes the others.
func (s *standIns) Verify(ctx context.Context, in workflows.VerifyInput) (workflows.VerifyResult, error) {
	s.called(ctx, "verify:%s", in.DeploymentID)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.unverified[s.deployments[in.DeploymentID].build] {
		return workflows.VerifyResult{Status: api.VerificationFailed, Message: `check "/version" failed 3 tries in a row: the body (status 200) does not contain "good"`}, nil
	}
	return workflows.VerifyResult{Status: api.VerificationPassed, Message: "1 check(s) passed for 1m0s"}, nil
}

// RollBack stores the deployment of the build that served before the failed one and answers it.
func (s *standIns) RollBack(ctx context.Context, in workflows.RollBackInput) (workflows.RollBackResult, error) {
	s.called(ctx, "rollback:%s", in.DeploymentID)
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.deployments[in.DeploymentID]
	prev := s.previous[workflows.DeployWorkflowID(d.project, d.component, d.environment)]
	if prev == "" {
		return workflows.RollBackResult{}, nil
	}
	id := "d-rb-" + strings.TrimPrefix(in.DeploymentID, "d-")
	d.build = prev
	s.deployments[id] = d
	return workflows.RollBackResult{Deployment: workflows.DeployRequest{DeploymentID: id, BuildID: prev, Rollback: true, RollsBack: in.DeploymentID}}, nil
}

func (s *standIns) RolledBack(ctx context.Context, in workflows.RolledBackInput) error {
	s.called(ctx, "rolledback:%s", in.DeploymentID)
	return nil
}

func (s *standIns) OfferPromotion(ctx context.Context, in workflows.OfferPromotionInput) error {
	s.called(ctx, "offer:%s", in.DeploymentID)
	return nil
}

// AutoPromote answers that it requested the promotion.
func (s *standIns) AutoPromote(ctx context.Context, in workflows.AutoPromoteInput) (workflows.AutoPromoteResult, error) {
	s.called(ctx, "autopromote:%s", in.DeploymentID)
	return workflows.AutoPromoteResult{Outcome: workflows.AutoPromoteRequested, PromotionID: hexID("pr", in.DeploymentID), Message: api.PromotionPendingApproval}, nil
}

func (s *standIns) FailDeployment(ctx context.Context, in workflows.FailDeploymentInput) error {
	s.called(ctx, "fail:%s", in.DeploymentID)
	return nil
}

func (s *standIns) RetireReplaced(ctx context.Context, in workflows.RetireReplacedInput) error {
	s.called(ctx, "retire:%s:%s", in.DeploymentID, strings.Join(in.Builds, ","))
	return s.wait(ctx, "retire:"+in.DeploymentID)
}

// DeliverNotification fails its first attempt (the hook answers 502) and delivers on the second.
func (s *standIns) DeliverNotification(ctx context.Context, in workflows.DeliverNotificationInput) error {
	s.called(ctx, "deliver:%s", in.DeliveryID)
	if activity.GetInfo(ctx).Attempt == 1 {
		return fmt.Errorf("delivering %s: answered 502 Bad Gateway", in.DeliveryID)
	}
	return nil
}

func (s *standIns) FailNotification(ctx context.Context, in workflows.FailNotificationInput) error {
	s.called(ctx, "fail-notification:%s", in.DeliveryID)
	return nil
}
