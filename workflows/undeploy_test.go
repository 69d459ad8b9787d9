package workflows

import (
	"context"
	"errors"
	"testing"

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
		if in != (UndeployInput{Project: "shop", Component: "api"}) {
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
