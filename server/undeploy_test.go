package server

import (
	"context"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/slipway-dev/slipway/api"
	"github.com/slipway-dev/slipway/store"
	"github.com/slipway-dev/slipway/workflows"
)

func TestDeleteWhileRunningIsRefusedUnlessForced(t *testing.T) {
	e, fake := newBuildEnv(t)
	e.succeededBuild("b-1")
	e.serving("development", "b-1")
	e.serving("production", "b-1")
	for _, path := range []string{apiPath, "/api/v1/projects/shop"} {
		rec := e.must(http.StatusConflict, http.MethodDelete, path, e.developer, nil, nil)
		if body := rec.Body.String(); !strings.Contains(body, "still_deployed") || !strings.Contains(body, "api in development, api in production") {
			t.Errorf("DELETE %s while it runs: %s", path, body)
		}
	}
	e.must(http.StatusBadRequest, http.MethodDelete, apiPath+"?force=yes", e.developer, nil, nil)
	if rec := e.must(http.StatusForbidden, http.MethodDelete, apiPath+"?force=true", e.developer, nil, nil); !strings.Contains(rec.Body.String(), "production") {
		t.Errorf("a developer's forced delete from production: %s", rec.Body)
	}
	if len(fake.startCalls()) != 0 {
		t.Fatalf("refused deletes started %d workflows", len(fake.startCalls()))
	}

	// A deployment under way is waited for, forced or not.
	if _, err := e.st.CreateDeployment(context.Background(), store.Deployment{ID: "d-queued", Project: "shop", Component: "api", Environment: "development", BuildID: "b-1"}); err != nil {
		t.Fatal(err)
	}
	if rec := e.must(http.StatusConflict, http.MethodDelete, apiPath+"?force=true", e.admin, nil, nil); !strings.Contains(rec.Body.String(), "deployment_in_progress") {
		t.Errorf("delete during a deployment: %s", rec.Body)
	}
	if _, err := e.st.UpdateDeployment(context.Background(), "d-queued", func(d *store.Deployment) error {
		d.Status = api.DeploymentFailed
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	e.must(http.StatusNoContent, http.MethodDelete, apiPath+"?force=true", e.admin, nil, nil)
	starts := fake.startCalls()
	if len(starts) != 1 || starts[0].opts.ID != workflows.UndeployWorkflowID("shop", "api") ||
		!reflect.DeepEqual(starts[0].args[0], workflows.UndeployInput{Project: "shop", Component: "api", DataPlanes: []string{workflows.DataPlaneDocker}}) {
		t.Fatalf("workflow starts %+v, want one Undeploy of shop/api from the docker data plane", starts)
	}
	e.must(http.StatusNotFound, http.MethodGet, apiPath, e.developer, nil, nil)
	// Nothing runs any more: the project goes without force and without another workflow.
	e.must(http.StatusNoContent, http.MethodDelete, "/api/v1/projects/shop", e.developer, nil, nil)
	if len(fake.startCalls()) != 1 {
		t.Errorf("deleting a project where nothing runs started a workflow")
	}
}
