package workflows

import (
	"errors"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/slipway-dev/slipway/api"
	"github.com/slipway-dev/slipway/scan"
)

// Names of the build activities, registered by the worker under these names.
const (
	ActivityStartBuild      = "StartBuild"
	ActivityCheckout        = "Checkout"
	ActivityBuildImage      = "BuildImage"
	ActivityScanImage       = "ScanImage"
	ActivityPushImage       = "PushImage"
	ActivityUpdateSpec      = "UpdateSpec"
	ActivityRequestDeploy   = "RequestDeploy"
	ActivityRemoveWorkspace = "RemoveWorkspace"
	ActivityFinishBuild     = "FinishBuild"
)

// QueryBuildSteps is the query that returns a running build's steps ([]Step).
const QueryBuildSteps = "steps"

// Step names, in pipeline order.
const (
	StepCheckout = "checkout"
	StepBuild    = "build"
	StepScan     = "scan"
	StepPush     = "push"
	StepSpec     = "spec"
	StepDeploy   = "deploy"
)

// BuildWorkflowID names the one pipeline of a commit of a component, so a commit is built once.
// attempt > 1 names an explicit rebuild.
func BuildWorkflowID(project, component, commit string, attempt int) string {
	id := "build/" + project + "/" + component + "/" + commit
	if attempt > 1 {
		id += fmt.Sprintf("/rebuild-%d", attempt)
	}
	return id
}

// BuildStart is how a build's pipeline is started: client.ExecuteWorkflow with these options, BuildPipeline
// and in. The workflow ID is the build's (BuildWorkflowID); starting it again finds the run that exists
// (USE_EXISTING) and a closed one is never run again under that ID. trigger is the SearchAttrTrigger value.
func BuildStart(workflowID, trigger string, in BuildPipelineInput) client.StartWorkflowOptions {
	return client.StartWorkflowOptions{
		ID:                       workflowID,
		TaskQueue:                TaskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		// With a worker in this process (slipway dev) the first workflow task runs at once, skipping a trip
		// through Temporal's matching; elsewhere this does nothing.
		EnableEagerStart: true,
		TypedSearchAttributes: temporal.NewSearchAttributes(
			temporal.NewSearchAttributeKeyKeyword(SearchAttrProject).ValueSet(in.Project),
			temporal.NewSearchAttributeKeyKeyword(SearchAttrComponent).ValueSet(in.Component),
			temporal.NewSearchAttributeKeyKeyword(SearchAttrCommit).ValueSet(in.Commit),
			temporal.NewSearchAttributeKeyKeyword(SearchAttrTrigger).ValueSet(trigger),
		),
	}
}

// Step is one stage of a build; nil times mean not yet.
type Step struct {
	Name      string     `json:"name"`
	Status    string     `json:"status"`
	StartedAt *time.Time `json:"startedAt,omitempty"`
	EndedAt   *time.Time `json:"endedAt,omitempty"`
}

// BuildPipelineInput is what a build needs; it names the component's settings at trigger time, so
// an edit of the component does not change a build already started. It holds no secret.
type BuildPipelineInput struct {
	BuildID    string `json:"buildId"`
	Project    string `json:"project"`
	Component  string `json:"component"`
	Repo       string `json:"repo"`
	Commit     string `json:"commit"`
	Dockerfile string `json:"dockerfile"`
	Context    string `json:"context"`
	// Repository is where the image is pushed, e.g. "127.0.0.1:5000/shop/api".
	Repository string `json:"repository"`
	// ScanPolicy is the project's scan policy when the build was triggered; zero is the default policy.
	ScanPolicy scan.Policy `json:"scanPolicy"`
	// AutoDeploy queues a deployment of the build to the project's first environment once it is done.
	AutoDeploy bool `json:"autoDeploy,omitempty"`
	// Type is the component's type (api.Component*) when the build was triggered; "" is a service.
	Type string `json:"type,omitempty"`
}

// RequestDeployInput queues the deployment of a finished build to the project's first environment.
type RequestDeployInput struct {
	BuildID   string `json:"buildId"`
	Project   string `json:"project"`
	Component string `json:"component"`
	// Digest is the pushed image's (the build records it only when it ends, after this).
	Digest string `json:"digest"`
}

// RequestDeployResult names the deployment queued.
type RequestDeployResult struct {
	DeploymentID string `json:"deploymentId"`
	Environment  string `json:"environment"`
}

// BuildPipelineResult is the pushed image.
type BuildPipelineResult struct {
	Digest string `json:"digest"`
	Size   int64  `json:"size"`
}

// StartBuildInput marks a build running.
type StartBuildInput struct {
	BuildID string `json:"buildId"`
	RunID   string `json:"runId"`
}

// CheckoutInput asks for the commit's files in a fresh workspace on the session's worker. It names the component
// but never carries its repo credential: the activity reads that from the store itself. Project and Component are
// empty in histories recorded before they were added; the repository is then read anonymously.
type CheckoutInput struct {
	BuildID   string `json:"buildId"`
	Project   string `json:"project,omitempty"`
	Component string `json:"component,omitempty"`
	Repo      string `json:"repo"`
	Commit    string `json:"commit"`
}

// CheckoutResult names the workspace (a directory on the session's worker) holding the files.
type CheckoutResult struct {
	Workspace string `json:"workspace"`
}

// BuildImageInput builds the workspace's Dockerfile into an OCI layout in the workspace.
type BuildImageInput struct {
	BuildID    string `json:"buildId"`
	Workspace  string `json:"workspace"`
	Dockerfile string `json:"dockerfile"`
	Context    string `json:"context"`
	// CacheRef is the registry reference BuildKit imports its cache from; "" means none. The cache of
	// this build is exported beside the image and pushed there with it, so nothing the scan stops
	// reaches the registry, not even as cache.
	CacheRef string `json:"cacheRef"`
}

// BuildImageResult names the OCI layout written.
type BuildImageResult struct {
	Layout string `json:"layout"`
	Digest string `json:"digest"`
	// CacheLayout is the build cache exported for CacheRef, an OCI layout; "" means none.
	CacheLayout string `json:"cacheLayout,omitempty"`
	// Language is the language a build from source was built as (its generated Dockerfile is in the build
	// log); "" means the repository's Dockerfile was built.
	Language string `json:"language,omitempty"`
}

// ScanImageInput scans the layout the build left in the workspace, with the repository's
// .trivyignore (if any), and judges the findings by the policy.
type ScanImageInput struct {
	BuildID   string      `json:"buildId"`
	Workspace string      `json:"workspace"`
	Layout    string      `json:"layout"`
	Digest    string      `json:"digest"`
	Policy    scan.Policy `json:"policy"`
}

// ScanImageResult is the scan in brief; the report itself is stored with the build.
type ScanImageResult struct {
	Summary scan.Summary `json:"summary"`
}

// UpdateSpecInput reads the component descriptor and API specs from the workspace (or, without a
// descriptor, the image's exposed ports from the layout) and stores them with the build.
type UpdateSpecInput struct {
	BuildID   string `json:"buildId"`
	Workspace string `json:"workspace"`
	Layout    string `json:"layout"`
	// Type is the component's type (BuildPipelineInput.Type), which decides what endpoints it may have.
	Type string `json:"type,omitempty"`
}

// UpdateSpecResult says what was stored.
type UpdateSpecResult struct {
	Endpoints int `json:"endpoints"`
	Specs     int `json:"specs"`
	// Default says the repository has no descriptor and one was made from the image.
	Default bool `json:"default"`
}

// PushImageInput pushes the layout to the repository, tagged with the commit, and the build cache
// to CacheRef.
type PushImageInput struct {
	BuildID    string   `json:"buildId"`
	Layout     string   `json:"layout"`
	Repository string   `json:"repository"`
	Tags       []string `json:"tags"`
	// CacheLayout and CacheRef are the build cache and where it goes; "" means none.
	CacheLayout string `json:"cacheLayout,omitempty"`
	CacheRef    string `json:"cacheRef,omitempty"`
}

// PushImageResult is the pushed image's identity.
type PushImageResult struct {
	Digest string `json:"digest"`
	Size   int64  `json:"size"`
}

// RemoveWorkspaceInput names a workspace to delete.
type RemoveWorkspaceInput struct {
	Workspace string `json:"workspace"`
}

// FinishBuildInput records how a build ended.
type FinishBuildInput struct {
	BuildID string `json:"buildId"`
	// Status is api.BuildSucceeded, api.BuildFailed or api.BuildCancelled.
	Status string `json:"status"`
	Steps  []Step `json:"steps"`
	Digest string `json:"digest"`
	Size   int64  `json:"size"`
	Error  string `json:"error"`
}

// sessionAttempts is how many times the pipeline starts over on a new worker session after the
// worker holding the workspace was lost (the image lives on that worker's disk until pushed).
const sessionAttempts = 3

// versionScanAndSpec is the change that added the scan and spec steps; histories recorded before it
// replay without them.
const versionScanAndSpec = "scan-and-spec"

// versionAutoDeploy is the change that made a build with AutoDeploy queue its deployment.
const versionAutoDeploy = "auto-deploy"

// BuildPipeline checks out one commit, builds it with BuildKit, scans the image with Trivy and
// pushes it only when the project's scan policy lets it through, then stores its endpoints and API
// specs, all on one worker (a Temporal session); it records each step and the result, and removes
// the workspace however it ends.
func BuildPipeline(ctx workflow.Context, in BuildPipelineInput) (BuildPipelineResult, error) {
	b := &buildRun{in: in, scanAndSpec: workflow.GetVersion(ctx, versionScanAndSpec, workflow.DefaultVersion, 1) >= 1}
	autoDeploy := in.AutoDeploy && workflow.GetVersion(ctx, versionAutoDeploy, workflow.DefaultVersion, 1) >= 1
	for _, name := range []string{StepCheckout, StepBuild, StepScan, StepPush, StepSpec, StepDeploy} {
		if (name == StepScan || name == StepSpec) && !b.scanAndSpec || name == StepDeploy && !autoDeploy {
			continue
		}
		b.steps = append(b.steps, Step{Name: name, Status: api.StepPending})
	}
	if err := workflow.SetQueryHandler(ctx, QueryBuildSteps, func() ([]Step, error) { return b.steps, nil }); err != nil {
		return BuildPipelineResult{}, err
	}
	short := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, MaximumInterval: 30 * time.Second},
	})
	info := workflow.GetInfo(ctx)
	if err := workflow.ExecuteActivity(short, ActivityStartBuild, StartBuildInput{BuildID: in.BuildID, RunID: info.WorkflowExecution.RunID}).Get(ctx, nil); err != nil {
		return BuildPipelineResult{}, err
	}

	res, err := b.runOnOneWorker(ctx)
	if err == nil && autoDeploy {
		// Queued, not awaited: the deployment is the deploy queue's; a missing config fails the build.
		err = b.step(ctx, StepDeploy, func() error {
			return workflow.ExecuteActivity(short, ActivityRequestDeploy, RequestDeployInput{
				BuildID: in.BuildID, Project: in.Project, Component: in.Component, Digest: res.Digest,
			}).Get(ctx, nil)
		})
	}

	finish := FinishBuildInput{BuildID: in.BuildID, Status: api.BuildSucceeded, Digest: res.Digest, Size: res.Size}
	switch {
	case temporal.IsCanceledError(err):
		finish.Status = api.BuildCancelled
	case err != nil:
		finish.Status, finish.Error = api.BuildFailed, failureMessage(err)
	}
	b.endRunning(ctx, finish.Status)
	finish.Steps = b.steps
	// Record the end even when the workflow was cancelled.
	dctx, _ := workflow.NewDisconnectedContext(short)
	if ferr := workflow.ExecuteActivity(dctx, ActivityFinishBuild, finish).Get(dctx, nil); ferr != nil {
		return res, errors.Join(err, ferr)
	}
	return res, err
}

// buildRun is the state of one pipeline run, read by the steps query.
type buildRun struct {
	in    BuildPipelineInput
	steps []Step
	// scanAndSpec says the run has the scan and spec steps (it began after they were added).
	scanAndSpec bool
}

// runOnOneWorker runs checkout, build and push in one session, starting over in a new session
// when the session's worker is lost.
func (b *buildRun) runOnOneWorker(ctx workflow.Context) (BuildPipelineResult, error) {
	var err error
	for attempt := 1; attempt <= sessionAttempts; attempt++ {
		var res BuildPipelineResult
		var lost bool
		res, lost, err = b.runSession(ctx)
		if !lost {
			return res, err
		}
		workflow.GetLogger(ctx).Warn("build worker lost; starting over on another", "attempt", attempt, "error", err)
		for i := range b.steps {
			b.steps[i] = Step{Name: b.steps[i].Name, Status: api.StepPending}
		}
	}
	return BuildPipelineResult{}, fmt.Errorf("the build worker was lost %d times: %w", sessionAttempts, err)
}

// runSession runs the steps in one session. lost reports that the session's worker went away
// (the session failed while the workflow itself was not cancelled), so the steps may start over.
func (b *buildRun) runSession(ctx workflow.Context) (res BuildPipelineResult, lost bool, err error) {
	sctx, err := workflow.CreateSession(ctx, &workflow.SessionOptions{
		CreationTimeout:  10 * time.Minute,
		ExecutionTimeout: 2 * time.Hour,
		HeartbeatTimeout: 20 * time.Second,
	})
	if err != nil {
		return BuildPipelineResult{}, false, err
	}
	defer workflow.CompleteSession(sctx)
	res, err = b.runSteps(ctx, sctx)
	lost = err != nil && ctx.Err() == nil && workflow.GetSessionInfo(sctx).SessionState == workflow.SessionStateFailed
	return res, lost, err
}

// runSteps runs checkout, build and push with the session context sctx.
func (b *buildRun) runSteps(ctx, sctx workflow.Context) (BuildPipelineResult, error) {
	quick := workflow.WithActivityOptions(sctx, workflow.ActivityOptions{
		StartToCloseTimeout: 10 * time.Minute,
		HeartbeatTimeout:    time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, MaximumInterval: 30 * time.Second, MaximumAttempts: 5},
	})
	long := workflow.WithActivityOptions(sctx, workflow.ActivityOptions{
		StartToCloseTimeout: time.Hour,
		HeartbeatTimeout:    time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: 2 * time.Second, MaximumInterval: time.Minute, MaximumAttempts: 5},
	})

	var co CheckoutResult
	if err := b.step(ctx, StepCheckout, func() error {
		return workflow.ExecuteActivity(quick, ActivityCheckout, CheckoutInput{
			BuildID: b.in.BuildID, Project: b.in.Project, Component: b.in.Component, Repo: b.in.Repo, Commit: b.in.Commit,
		}).Get(ctx, &co)
	}); err != nil {
		return BuildPipelineResult{}, err
	}
	defer func() {
		// The workspace goes however the build ends, also when it was cancelled.
		dctx, _ := workflow.NewDisconnectedContext(quick)
		_ = workflow.ExecuteActivity(dctx, ActivityRemoveWorkspace, RemoveWorkspaceInput{Workspace: co.Workspace}).Get(dctx, nil)
	}()

	var img BuildImageResult
	cacheRef := b.in.Repository + ":buildcache"
	if err := b.step(ctx, StepBuild, func() error {
		return workflow.ExecuteActivity(long, ActivityBuildImage, BuildImageInput{
			BuildID: b.in.BuildID, Workspace: co.Workspace, Dockerfile: b.in.Dockerfile, Context: b.in.Context,
			CacheRef: cacheRef,
		}).Get(ctx, &img)
	}); err != nil {
		return BuildPipelineResult{}, err
	}

	if b.scanAndSpec {
		// Nothing the scan stops is ever pushed.
		if err := b.step(ctx, StepScan, func() error {
			return workflow.ExecuteActivity(long, ActivityScanImage, ScanImageInput{
				BuildID: b.in.BuildID, Workspace: co.Workspace, Layout: img.Layout, Digest: img.Digest, Policy: b.in.ScanPolicy,
			}).Get(ctx, nil)
		}); err != nil {
			return BuildPipelineResult{}, err
		}
	}

	var pushed PushImageResult
	if err := b.step(ctx, StepPush, func() error {
		in := PushImageInput{BuildID: b.in.BuildID, Layout: img.Layout, Repository: b.in.Repository, Tags: []string{b.in.Commit}}
		if img.CacheLayout != "" {
			in.CacheLayout, in.CacheRef = img.CacheLayout, cacheRef
		}
		return workflow.ExecuteActivity(quick, ActivityPushImage, in).Get(ctx, &pushed)
	}); err != nil {
		return BuildPipelineResult{}, err
	}
	res := BuildPipelineResult{Digest: pushed.Digest, Size: pushed.Size}

	if b.scanAndSpec {
		if err := b.step(ctx, StepSpec, func() error {
			return workflow.ExecuteActivity(quick, ActivityUpdateSpec, UpdateSpecInput{
				BuildID: b.in.BuildID, Workspace: co.Workspace, Layout: img.Layout, Type: b.in.Type,
			}).Get(ctx, nil)
		}); err != nil {
			return res, err
		}
	}
	return res, nil
}

// step runs fn as the named step, recording its state and times.
func (b *buildRun) step(ctx workflow.Context, name string, fn func() error) error {
	s := b.find(name)
	start := workflow.Now(ctx)
	s.Status, s.StartedAt, s.EndedAt = api.StepRunning, &start, nil
	err := fn()
	end := workflow.Now(ctx)
	s.EndedAt = &end
	switch {
	case err == nil:
		s.Status = api.StepSucceeded
	case temporal.IsCanceledError(err):
		s.Status = api.StepCancelled
	default:
		s.Status = api.StepFailed
	}
	return err
}

// endRunning closes a step still marked running (the pipeline ended under it).
func (b *buildRun) endRunning(ctx workflow.Context, status string) {
	now := workflow.Now(ctx)
	for i := range b.steps {
		if b.steps[i].Status == api.StepRunning {
			b.steps[i].Status, b.steps[i].EndedAt = status, &now
		}
	}
}

func (b *buildRun) find(name string) *Step {
	for i := range b.steps {
		if b.steps[i].Name == name {
			return &b.steps[i]
		}
	}
	b.steps = append(b.steps, Step{Name: name})
	return &b.steps[len(b.steps)-1]
}

// failureMessage is the build's error for the API: the innermost application error's message.
func failureMessage(err error) string {
	var app *temporal.ApplicationError
	if errors.As(err, &app) {
		if app.Type() != "" {
			return app.Type() + ": " + app.Message()
		}
		return app.Message()
	}
	return err.Error()
}
