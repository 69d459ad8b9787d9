package server

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/slipway-dev/slipway/api"
	"github.com/slipway-dev/slipway/store"
	"github.com/slipway-dev/slipway/workflows"
)

// undeployWait bounds how long a forced delete waits for what runs to be removed.
const undeployWait = 2 * time.Minute

// undeployFirst clears the way to delete the project's component (every component when component is ""):
// nothing runs, or the request says ?force=true and what runs is removed first, by the Undeploy workflow on
// the worker that holds the data planes, waited for. Without force it answers 409 still_deployed naming where
// it runs, so nothing is left running with its configs and secrets and no owner; while a deployment is under
// way it answers 409 deployment_in_progress, forced or not. Removing a release from a production environment
// needs an admin, as deploying there does.
func (s *Server) undeployFirst(c echo.Context, project string, comps []store.Component, component string) error {
	ctx := c.Request().Context()
	force, err := strconv.ParseBool(cmp.Or(c.QueryParam("force"), "false"))
	if err != nil {
		return &APIError{Status: http.StatusBadRequest, Code: "invalid_query", Field: "force", Message: fmt.Sprintf("force %q: want true or false", c.QueryParam("force"))}
	}
	envs, err := s.store.ListEnvironments(ctx, project)
	if err != nil {
		return err
	}
	for _, comp := range comps {
		for _, env := range envs {
			last, err := s.store.ListDeployments(ctx, project, comp.Name, env.Name, 1)
			if err != nil {
				return err
			}
			if len(last) == 1 && (last[0].Status == api.DeploymentQueued || last[0].Status == api.DeploymentRunning) {
				return &APIError{Status: http.StatusConflict, Code: "deployment_in_progress", Message: fmt.Sprintf(
					"deployment %s of %s to %s is %s: wait for it to end, then delete", last[0].ID, comp.Name, env.Name, last[0].Status)}
			}
		}
	}
	current, err := s.store.CurrentDeployments(ctx)
	if err != nil {
		return err
	}
	var where, planes []string
	for _, dep := range current {
		if dep.Project != project || component != "" && dep.Component != component {
			continue
		}
		where = append(where, dep.Component+" in "+dep.Environment)
		i := slices.IndexFunc(envs, func(e store.Environment) bool { return e.Name == dep.Environment })
		if i < 0 {
			continue
		}
		if plane := cmp.Or(envs[i].DataPlane, store.DataPlaneDocker); !slices.Contains(planes, plane) {
			planes = append(planes, plane)
		}
		if force {
			if err := s.mayDeployTo(c, envs[i], "removing what runs"); err != nil {
				return err
			}
		}
	}
	if len(where) == 0 {
		return nil
	}
	slices.Sort(where)
	if !force {
		return &APIError{Status: http.StatusConflict, Code: "still_deployed", Message: fmt.Sprintf(
			"%s still runs (%s): delete with ?force=true to remove what runs first", cmp.Or(component, project), strings.Join(where, ", "))}
	}
	wctx, cancel := context.WithTimeout(ctx, undeployWait)
	defer cancel()
	run, err := s.temporal.ExecuteWorkflow(wctx, client.StartWorkflowOptions{
		ID:                       workflows.UndeployWorkflowID(project, component),
		TaskQueue:                workflows.TaskQueue,
		WorkflowIDConflictPolicy: enums.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
	}, workflows.Undeploy, workflows.UndeployInput{Project: project, Component: component, DataPlanes: planes})
	if err != nil {
		return fmt.Errorf("starting the undeploy of %s: %w", cmp.Or(component, project), err)
	}
	var res workflows.UndeployResult
	if err := run.Get(wctx, &res); err != nil {
		return &APIError{Status: http.StatusBadGateway, Code: "undeploy_failed", Message: fmt.Sprintf(
			"removing what %s runs failed, so nothing was deleted (workflow %s): %v", cmp.Or(component, project), run.GetID(), err)}
	}
	s.log.Info("undeployed before delete", "project", project, "component", component, "removed", res.Removed)
	return nil
}
