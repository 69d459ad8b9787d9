package workflows

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"sync"
	"testing"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/testsuite"
)

// TestUndeployRetriesUntilTheDataPlaneAnswers runs Undeploy against an activity that fails twice (a data plane
// not answering) and finds it retried until the releases are removed, with the input it was given.
func TestUndeployRetriesUntilTheDataPlaneAnswers(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	calls := 0
	env.RegisterActivityWithOptions(func(_ context.Context, in UndeployInput) (UndeployResult, error) {
		calls++
		if !reflect.DeepEqual(in, UndeployInput{Project: "shop", Component: "api"}) {
			t.Errorf("activity input %+v", in)
		}
		if calls < 3 {
			return UndeployResult{}, errors.New("docker engine not answering")
		}
		return UndeployResult{Removed: 2}, nil
	}, activityName(ActivityUndeploy))
	env.ExecuteWorkflow(Undeploy, UndeployInput{Project: "shop", Component: "api"})
	var res UndeployResult
	if err := env.GetWorkflowResult(&res); err != nil || res.Removed != 2 || calls != 3 {
		t.Fatalf("result %+v, %v after %d calls; want 2 removed after 3", res, err, calls)
	}
	if got := UndeployWorkflowID("shop", ""); got != "undeploy/shop" {
		t.Errorf("project undeploy ID %q", got)
	}
}

// An undeploy that names the data planes runs one activity per plane, each on its plane's task queue and limited
// to it, and adds up what they removed.
func TestUndeployRunsOnEachDataPlanesQueue(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	var mu sync.Mutex
	var ran []string
	env.RegisterActivityWithOptions(func(ctx context.Context, in UndeployInput) (UndeployResult, error) {
		mu.Lock()
		defer mu.Unlock()
		ran = append(ran, in.DataPlane+"@"+activity.GetInfo(ctx).TaskQueue)
		return UndeployResult{Removed: len(in.DataPlane)}, nil
	}, activityName(ActivityUndeploy))
	env.ExecuteWorkflow(Undeploy, UndeployInput{Project: "shop", DataPlanes: []string{DataPlaneDocker, DataPlaneKubernetes}})
	var res UndeployResult
	if err := env.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	slices.Sort(ran)
	if want := []string{"docker@slipway-docker", "kubernetes@slipway-kubernetes"}; !slices.Equal(ran, want) || res.Removed != len("docker")+len("kubernetes") {
		t.Fatalf("ran %v, removed %d; want %v, %d", ran, res.Removed, want, len("docker")+len("kubernetes"))
	}
}
