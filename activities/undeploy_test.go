package activities

import (
	"net/http"
	"strings"
	"testing"

	"go.temporal.io/sdk/testsuite"

	"github.com/slipway-dev/slipway/store"
	"github.com/slipway-dev/slipway/workflows"
)

// TestUndeployRemovesWhatRunsAndItsEntryOnce rolls a release out, then undeploys the component twice: the first
// run removes its instances and stops its entry, the retry finds nothing running and removes nothing more; a
// component of another project is not touched.
func TestUndeployRemovesWhatRunsAndItsEntryOnce(t *testing.T) {
	d, drv, st := deploysWithStore(t)
	res := rollout(t, d, st, "d-1", "b-good")
	if res.Status != store.DeploymentSucceeded {
		t.Fatalf("rollout %+v", res)
	}
	httpGet(t, res.URL)
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	env.RegisterActivity(d)
	undeploy := func(in workflows.UndeployInput) workflows.UndeployResult {
		t.Helper()
		val, err := env.ExecuteActivity(d.Undeploy, in)
		if err != nil {
			t.Fatal(err)
		}
		var out workflows.UndeployResult
		if err := val.Get(&out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	if got := undeploy(workflows.UndeployInput{Project: "other"}); got.Removed != 0 || len(drv.servers) != 1 {
		t.Fatalf("undeploying another project removed %d, %d left running", got.Removed, len(drv.servers))
	}
	if got := undeploy(workflows.UndeployInput{Project: "shop", Component: "api"}); got.Removed != 1 {
		t.Fatalf("undeploy removed %d releases, want 1", got.Removed)
	}
	if len(drv.servers) != 0 || !strings.Contains(strings.Join(drv.removed, ","), "b-good") {
		t.Fatalf("after the undeploy %d instances run; removed %v", len(drv.servers), drv.removed)
	}
	if r, err := http.Get(res.URL); err == nil {
		r.Body.Close()
		t.Fatalf("the entry %s still answers %d", res.URL, r.StatusCode)
	}
	if got := undeploy(workflows.UndeployInput{Project: "shop"}); got.Removed != 0 {
		t.Fatalf("a repeated undeploy removed %d", got.Removed)
	}
}
