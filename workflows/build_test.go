package workflows

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"

	"github.com/slipway-dev/slipway/api"
	"github.com/slipway-dev/slipway/scan"
)

// fakeBuildActivities records what the pipeline asked of each activity; each can be made to fail.
type fakeBuildActivities struct {
	mu        sync.Mutex
	calls     []string
	checkout  CheckoutInput
	finished  *FinishBuildInput
	removed   []string
	buildErrs []error // returned by successive BuildImage calls; nil entries succeed
	buildWait time.Duration
	onBuild   func()
	scan      ScanImageInput
	scanErr   error // returned by ScanImage
	spec      UpdateSpecInput
	deployErr error // returned by RequestDeploy
}

func (f *fakeBuildActivities) called(name string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, name)
}

func (f *fakeBuildActivities) register(env *testsuite.TestWorkflowEnvironment) {
	env.RegisterActivityWithOptions(func(ctx context.Context, in StartBuildInput) error {
		f.called(ActivityStartBuild)
		return nil
	}, activityName(ActivityStartBuild))
	env.RegisterActivityWithOptions(func(ctx context.Context, in CheckoutInput) (CheckoutResult, error) {
		f.called(ActivityCheckout)
		f.mu.Lock()
		f.checkout = in
		f.mu.Unlock()
		return CheckoutResult{Workspace: "/work/" + in.BuildID}, nil
	}, activityName(ActivityCheckout))
	env.RegisterActivityWithOptions(func(ctx context.Context, in BuildImageInput) (BuildImageResult, error) {
		f.called(ActivityBuildImage)
		if f.onBuild != nil {
			f.onBuild()
		}
		if f.buildWait > 0 {
			select {
			case <-time.After(f.buildWait):
			case <-ctx.Done():
				return BuildImageResult{}, ctx.Err()
			}
		}
		f.mu.Lock()
		var err error
		if len(f.buildErrs) > 0 {
			err, f.buildErrs = f.buildErrs[0], f.buildErrs[1:]
		}
		f.mu.Unlock()
		if err != nil {
			return BuildImageResult{}, err
		}
		return BuildImageResult{Layout: in.Workspace + "/image", Digest: "sha256:built"}, nil
	}, activityName(ActivityBuildImage))
	env.RegisterActivityWithOptions(func(ctx context.Context, in ScanImageInput) (ScanImageResult, error) {
		f.called(ActivityScanImage)
		f.mu.Lock()
		f.scan = in
		f.mu.Unlock()
		return ScanImageResult{Summary: scan.Summary{Passed: f.scanErr == nil}}, f.scanErr
	}, activityName(ActivityScanImage))
	env.RegisterActivityWithOptions(func(ctx context.Context, in UpdateSpecInput) (UpdateSpecResult, error) {
		f.called(ActivityUpdateSpec)
		f.mu.Lock()
		f.spec = in
		f.mu.Unlock()
		return UpdateSpecResult{Endpoints: 1}, nil
	}, activityName(ActivityUpdateSpec))
	env.RegisterActivityWithOptions(func(ctx context.Context, in RequestDeployInput) (RequestDeployResult, error) {
		f.called(ActivityRequestDeploy)
		return RequestDeployResult{DeploymentID: "d-auto-1", Environment: "development"}, f.deployErr
	}, activityName(ActivityRequestDeploy))
	env.RegisterActivityWithOptions(func(ctx context.Context, in PushImageInput) (PushImageResult, error) {
		f.called(ActivityPushImage)
		if len(in.Tags) != 1 || in.Tags[0] != "c0ffee" {
			return PushImageResult{}, errors.New("push not tagged with the commit")
		}
		return PushImageResult{Digest: "sha256:pushed", Size: 4096}, nil
	}, activityName(ActivityPushImage))
	env.RegisterActivityWithOptions(func(ctx context.Context, in RemoveWorkspaceInput) error {
		f.called(ActivityRemoveWorkspace)
		f.mu.Lock()
		f.removed = append(f.removed, in.Workspace)
		f.mu.Unlock()
		return nil
	}, activityName(ActivityRemoveWorkspace))
	env.RegisterActivityWithOptions(func(ctx context.Context, in FinishBuildInput) error {
		f.called(ActivityFinishBuild)
		f.mu.Lock()
		f.finished = &in
		f.mu.Unlock()
		return nil
	}, activityName(ActivityFinishBuild))
}

func newBuildEnv(t *testing.T, f *fakeBuildActivities) *testsuite.TestWorkflowEnvironment {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.SetWorkerOptions(worker.Options{EnableSessionWorker: true})
	f.register(env)
	return env
}

var buildInput = BuildPipelineInput{BuildID: "b1", Project: "shop", Component: "api", Repo: "file:///r.git",
	Commit: "c0ffee", Dockerfile: "Dockerfile", Context: ".", Repository: "127.0.0.1:5000/shop/api",
	ScanPolicy: scan.Policy{FailOn: scan.SeverityHigh}}

func stepStates(steps []Step) string {
	var parts []string
	for _, s := range steps {
		parts = append(parts, s.Name+"="+s.Status)
	}
	return strings.Join(parts, " ")
}

func TestBuildPipelineHappyPath(t *testing.T) {
	f := &fakeBuildActivities{}
	env := newBuildEnv(t, f)
	env.ExecuteWorkflow(BuildPipeline, buildInput)
	if err := env.GetWorkflowError(); err != nil {
		t.Fatalf("workflow: %v", err)
	}
	var res BuildPipelineResult
	if err := env.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	if res != (BuildPipelineResult{Digest: "sha256:pushed", Size: 4096}) {
		t.Fatalf("result %+v", res)
	}
	fin := f.finished
	if fin == nil || fin.Status != api.BuildSucceeded || fin.Digest != "sha256:pushed" || fin.Error != "" {
		t.Fatalf("finish %+v", fin)
	}
	if got := stepStates(fin.Steps); got != "checkout=succeeded build=succeeded scan=succeeded push=succeeded spec=succeeded" {
		t.Fatalf("steps %s", got)
	}
	if got := strings.Join(f.calls, " "); !strings.Contains(got, "BuildImage ScanImage PushImage UpdateSpec RemoveWorkspace") {
		t.Fatalf("activities ran in order %s", got)
	}
	// The scan gets the built image and the policy of trigger time; the spec reads the same workspace.
	if want := (ScanImageInput{BuildID: "b1", Workspace: "/work/b1", Layout: "/work/b1/image", Digest: "sha256:built",
		Policy: scan.Policy{FailOn: scan.SeverityHigh}}); f.scan != want {
		t.Fatalf("scan input %+v, want %+v", f.scan, want)
	}
	if want := (UpdateSpecInput{BuildID: "b1", Workspace: "/work/b1", Layout: "/work/b1/image"}); f.spec != want {
		t.Fatalf("spec input %+v, want %+v", f.spec, want)
	}
	for _, s := range fin.Steps {
		if s.StartedAt == nil || s.EndedAt == nil || s.EndedAt.Before(*s.StartedAt) {
			t.Fatalf("step %s times %v..%v", s.Name, s.StartedAt, s.EndedAt)
		}
	}
	if strings.Join(f.removed, ",") != "/work/b1" {
		t.Fatalf("workspaces removed: %v", f.removed)
	}
	// The checkout names the component, whose repo credential the activity reads itself.
	if want := (CheckoutInput{BuildID: "b1", Project: "shop", Component: "api", Repo: "file:///r.git", Commit: "c0ffee"}); f.checkout != want {
		t.Fatalf("checkout input %+v, want %+v", f.checkout, want)
	}
}

func TestBuildPipelinePermanentBuildFailure(t *testing.T) {
	f := &fakeBuildActivities{buildErrs: []error{
		temporal.NewNonRetryableApplicationError("dockerfile parse error on line 1: unknown instruction: FORM", "InvalidDockerfile", nil),
	}}
	env := newBuildEnv(t, f)
	env.ExecuteWorkflow(BuildPipeline, buildInput)
	var app *temporal.ApplicationError
	if err := env.GetWorkflowError(); !errors.As(err, &app) || app.Type() != "InvalidDockerfile" {
		t.Fatalf("workflow error %v, want InvalidDockerfile", err)
	}
	fin := f.finished
	if fin == nil || fin.Status != api.BuildFailed || !strings.Contains(fin.Error, "InvalidDockerfile: dockerfile parse error") {
		t.Fatalf("finish %+v", fin)
	}
	if got := stepStates(fin.Steps); got != "checkout=succeeded build=failed scan=pending push=pending spec=pending" {
		t.Fatalf("steps %s", got)
	}
	for _, c := range f.calls {
		if c == ActivityPushImage {
			t.Fatal("a failed build was pushed")
		}
	}
	if n := strings.Count(strings.Join(f.calls, " "), ActivityBuildImage); n != 1 {
		t.Fatalf("a permanent failure was tried %d times", n)
	}
	if len(f.removed) != 1 {
		t.Fatalf("workspace not removed after failure: %v", f.removed)
	}
}

func TestBuildPipelineScanFailureIsNeverPushed(t *testing.T) {
	f := &fakeBuildActivities{scanErr: temporal.NewNonRetryableApplicationError(
		"scan policy: CRITICAL CVE-2099-0001 in slipway-fixture-vuln 1.0.0-r0 (fixed in 1.0.1-r0)", "ScanPolicyViolation", nil)}
	env := newBuildEnv(t, f)
	env.ExecuteWorkflow(BuildPipeline, buildInput)
	var app *temporal.ApplicationError
	if err := env.GetWorkflowError(); !errors.As(err, &app) || app.Type() != "ScanPolicyViolation" {
		t.Fatalf("workflow error %v, want ScanPolicyViolation", err)
	}
	fin := f.finished
	if fin == nil || fin.Status != api.BuildFailed || fin.Digest != "" || !strings.Contains(fin.Error, "CVE-2099-0001") {
		t.Fatalf("finish %+v", fin)
	}
	if got := stepStates(fin.Steps); got != "checkout=succeeded build=succeeded scan=failed push=pending spec=pending" {
		t.Fatalf("steps %s", got)
	}
	calls := strings.Join(f.calls, " ")
	if strings.Contains(calls, ActivityPushImage) || strings.Contains(calls, ActivityUpdateSpec) {
		t.Fatalf("after a failed scan the pipeline ran %s", calls)
	}
	if n := strings.Count(calls, ActivityScanImage); n != 1 {
		t.Fatalf("a policy failure was scanned %d times", n)
	}
	if len(f.removed) != 1 {
		t.Fatalf("workspace not removed after a failed scan: %v", f.removed)
	}
}

func TestBuildPipelineAutoDeploys(t *testing.T) {
	in := buildInput
	in.AutoDeploy = true
	f := &fakeBuildActivities{}
	env := newBuildEnv(t, f)
	env.ExecuteWorkflow(BuildPipeline, in)
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	if got := stepStates(f.finished.Steps); got != "checkout=succeeded build=succeeded scan=succeeded push=succeeded spec=succeeded deploy=succeeded" {
		t.Fatalf("steps %s", got)
	}
	if got := strings.Join(f.calls, " "); !strings.HasSuffix(got, "UpdateSpec RemoveWorkspace RequestDeploy FinishBuild") {
		t.Fatalf("calls %s", got)
	}

	// A missing config in the first environment fails the build, naming it.
	f = &fakeBuildActivities{deployErr: temporal.NewNonRetryableApplicationError(
		"environment development lacks what build b1 requires: API_TOKEN (secret)", "MissingConfig", nil)}
	env = newBuildEnv(t, f)
	env.ExecuteWorkflow(BuildPipeline, in)
	if err := env.GetWorkflowError(); err == nil {
		t.Fatal("a build whose environment lacks a required secret succeeded")
	}
	if fin := f.finished; fin.Status != api.BuildFailed || !strings.Contains(fin.Error, "MissingConfig: environment development lacks") ||
		stepStates(fin.Steps) != "checkout=succeeded build=succeeded scan=succeeded push=succeeded spec=succeeded deploy=failed" {
		t.Fatalf("finish %+v", fin)
	}
}

func TestBuildPipelineRetriesTransientBuildFailure(t *testing.T) {
	f := &fakeBuildActivities{buildErrs: []error{errors.New("connection refused: buildkitd")}}
	env := newBuildEnv(t, f)
	env.ExecuteWorkflow(BuildPipeline, buildInput)
	if err := env.GetWorkflowError(); err != nil {
		t.Fatalf("workflow: %v", err)
	}
	if n := strings.Count(strings.Join(f.calls, " "), ActivityBuildImage); n != 2 {
		t.Fatalf("BuildImage ran %d times, want 2 (one retry)", n)
	}
	if f.finished.Status != api.BuildSucceeded {
		t.Fatalf("finish %+v", f.finished)
	}
}

func TestBuildPipelineCancelRecordsAndCleansUp(t *testing.T) {
	f := &fakeBuildActivities{buildWait: time.Hour}
	env := newBuildEnv(t, f)
	var during []Step
	// While BuildImage runs: read the steps through the query, then cancel the build.
	f.onBuild = func() {
		v, err := env.QueryWorkflow(QueryBuildSteps)
		if err != nil {
			t.Errorf("query: %v", err)
		} else if err := v.Get(&during); err != nil {
			t.Errorf("query result: %v", err)
		}
		env.CancelWorkflow()
	}
	env.ExecuteWorkflow(BuildPipeline, buildInput)
	if err := env.GetWorkflowError(); !temporal.IsCanceledError(err) {
		t.Fatalf("workflow error %v, want cancelled", err)
	}
	if got := stepStates(during); got != "checkout=succeeded build=running scan=pending push=pending spec=pending" {
		t.Fatalf("steps queried while building: %s", got)
	}
	if f.finished == nil || f.finished.Status != api.BuildCancelled {
		t.Fatalf("finish %+v, want cancelled", f.finished)
	}
	if got := stepStates(f.finished.Steps); got != "checkout=succeeded build=cancelled scan=pending push=pending spec=pending" {
		t.Fatalf("steps %s", got)
	}
	if len(f.removed) != 1 {
		t.Fatalf("workspace not removed after cancel: %v", f.removed)
	}
}

func TestBuildWorkflowID(t *testing.T) {
	if got := BuildWorkflowID("shop", "api", "abc", 1); got != "build/shop/api/abc" {
		t.Fatal(got)
	}
	if got := BuildWorkflowID("shop", "api", "abc", 2); got != "build/shop/api/abc/rebuild-2" {
		t.Fatal(got)
	}
}
