package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/slipway-dev/slipway/api"
	"github.com/slipway-dev/slipway/store"
	"github.com/slipway-dev/slipway/workflows"
)

// deploymentOf is d as the API shows it.
func deploymentOf(d store.Deployment) api.Deployment {
	return api.Deployment{ID: d.ID, Environment: d.Environment, Build: d.BuildID, Digest: d.Digest, Status: d.Status,
		URL: d.URL, Message: d.Message, Actor: d.Actor, CreatedAt: d.CreatedAt, DeployedAt: d.EndedAt}
}

// driftTimeout bounds how long GET …/deployments waits for a data plane's answer about drift.
const driftTimeout = 3 * time.Second

// deployBuild answers POST /api/v1/projects/{p}/components/{c}/environments/{e}/deploy {"build"}: a manual
// deploy, redeploy or rollback of any succeeded build of the component; into a production environment only with
// an admin token.
func (s *Server) deployBuild(c echo.Context) error {
	var req api.DeployRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	if req.Build == "" {
		return invalid("build", "build is required")
	}
	comp, envs, err := s.componentEnvironments(c)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(envs, func(e store.Environment) bool { return e.Name == c.Param("environment") })
	if i < 0 {
		return &APIError{Status: http.StatusNotFound, Code: "not_found", Field: "environment",
			Message: fmt.Sprintf("environment %q of project %q: not found", c.Param("environment"), comp.Project)}
	}
	return s.deploy(c, comp, envs[i], req.Build)
}

// promote answers POST /api/v1/projects/{p}/components/{c}/promote {"build"?, "to"?}: the build running in
// one environment goes to the next in the project's order, with the same digest and that environment's
// configs. Without "to" the target is the environment after the one running "build" (without "build": after
// the first environment whose release the next one does not run yet). With "to", the build (default: the
// release of the environment before it) must run in the environment before "to" — unless the token is an
// admin's, which may skip. Promoting into a production environment needs an admin token.
func (s *Server) promote(c echo.Context) error {
	var req api.PromoteRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	ctx := c.Request().Context()
	comp, envs, err := s.componentEnvironments(c)
	if err != nil {
		return err
	}
	current := make([]string, len(envs)) // the build serving in each environment, "" for none
	for i, e := range envs {
		d, err := s.store.CurrentDeployment(ctx, comp.Project, comp.Name, e.Name)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		current[i] = d.BuildID
	}
	target := -1
	switch {
	case req.To != "":
		target = slices.IndexFunc(envs, func(e store.Environment) bool { return e.Name == req.To })
		if target < 0 {
			return invalid("to", "environment %q is not one of project %q's", req.To, comp.Project)
		}
		if target == 0 {
			return invalid("to", "%q is the first environment: builds get there by deploy, not promotion", req.To)
		}
	case req.Build != "":
		for i := len(envs) - 1; i >= 0; i-- {
			if current[i] == req.Build {
				target = i + 1
				break
			}
		}
		if target < 0 {
			return &APIError{Status: http.StatusConflict, Code: "not_running", Field: "build",
				Message: fmt.Sprintf("build %s is not running in any environment of %s", req.Build, comp.Name)}
		}
	default:
		for i := 0; i+1 < len(envs); i++ {
			if current[i] != "" && current[i] != current[i+1] {
				target = i + 1
				break
			}
		}
		if target < 0 {
			return &APIError{Status: http.StatusConflict, Code: "nothing_to_promote",
				Message: "every environment runs what the one before it runs"}
		}
	}
	if target >= len(envs) {
		return &APIError{Status: http.StatusConflict, Code: "last_environment", Field: "build",
			Message: fmt.Sprintf("build %s runs in %s, the last environment", req.Build, envs[len(envs)-1].Name)}
	}
	if err := s.mayDeployTo(c, envs[target], "promoting"); err != nil {
		return err
	}
	build, source := req.Build, envs[target-1].Name
	if build == "" {
		build = current[target-1]
		if build == "" {
			return &APIError{Status: http.StatusConflict, Code: "not_running",
				Message: fmt.Sprintf("nothing runs in %s to promote to %s", source, envs[target].Name)}
		}
	}
	if current[target-1] != build && !s.isAdmin(c) {
		return &APIError{Status: http.StatusConflict, Code: "not_running", Field: "build",
			Message: fmt.Sprintf("build %s is not running in %s, the environment before %s (only an admin may skip)", build, source, envs[target].Name)}
	}
	return s.deploy(c, comp, envs[target], build)
}

// componentEnvironments returns the route's component and its project's environments in promotion order.
func (s *Server) componentEnvironments(c echo.Context) (store.Component, []store.Environment, error) {
	ctx := c.Request().Context()
	comp, err := s.store.GetComponent(ctx, c.Param("project"), c.Param("component"))
	if err != nil {
		return store.Component{}, nil, err
	}
	envs, err := s.store.ListEnvironments(ctx, comp.Project)
	return comp, envs, err
}

func (s *Server) isAdmin(c echo.Context) bool {
	t, _ := c.Get(tokenKey).(store.Token)
	return t.Role == RoleAdmin
}

// mayDeployTo refuses (403) a token that is not an admin's when env is a production environment: every way into
// one — a manual deploy, a rollback or redeploy, a promotion — needs an admin token. what names the way, e.g.
// "deploying".
func (s *Server) mayDeployTo(c echo.Context, env store.Environment, what string) error {
	if env.Production && !s.isAdmin(c) {
		return errNeedsAdmin("", "%s is a production environment: %s there needs an admin token", env.Name, what)
	}
	return nil
}

// deploy checks the token may deploy to the environment (mayDeployTo) and the build can go there, records the
// deployment and queues it on the environment's deploy workflow (202), or answers why not (nothing is recorded
// then).
func (s *Server) deploy(c echo.Context, comp store.Component, env store.Environment, buildID string) error {
	ctx := c.Request().Context()
	if err := s.mayDeployTo(c, env, "deploying"); err != nil {
		return err
	}
	b, err := s.store.GetBuild(ctx, buildID)
	if errors.Is(err, store.ErrNotFound) || err == nil && (b.Project != comp.Project || b.Component != comp.Name) {
		return invalid("build", "build %s is not a build of %s", buildID, comp.Name)
	}
	if err != nil {
		return err
	}
	if b.Status != api.BuildSucceeded || b.Digest == "" {
		return &APIError{Status: http.StatusConflict, Code: "not_deployable", Field: "build",
			Message: fmt.Sprintf("build %s is %s: only a succeeded build is deployed", b.ID, b.Status)}
	}
	if b.Descriptor != nil {
		values, err := s.store.ListConfigs(ctx, comp.Project, comp.Name, env.Name)
		if err != nil {
			return err
		}
		have := map[string]bool{}
		for _, v := range values {
			have[v.Key] = true
		}
		if missing := b.Descriptor.Missing(func(n string) bool { return have[n] }); len(missing) > 0 {
			return &APIError{Status: http.StatusUnprocessableEntity, Code: "missing_config", Field: "build",
				Message: fmt.Sprintf("environment %s lacks what build %s requires: %v", env.Name, b.ID, missing)}
		}
	}
	if s.temporal == nil {
		return errTemporalUnavailable("Temporal is not configured: deployments cannot run")
	}
	d, err := s.store.CreateDeployment(ctx, store.Deployment{ID: newDeploymentID(), Project: comp.Project, Component: comp.Name,
		Environment: env.Name, BuildID: b.ID, Digest: b.Digest, Actor: tokenName(c)})
	if err != nil {
		return err
	}
	if err := s.queueDeployment(ctx, d); err != nil {
		s.failUnqueued(ctx, d.ID, err)
		if temporalUnreachable(err) {
			return errTemporalUnavailable("deployment %s could not be queued: Temporal is unreachable", d.ID)
		}
		return err
	}
	return c.JSON(http.StatusAccepted, deploymentOf(d))
}

// queueDeployment signals the environment's deploy workflow, starting it when it does not run.
func (s *Server) queueDeployment(ctx context.Context, d store.Deployment) error {
	ctx, cancel := context.WithTimeout(ctx, temporalTimeout)
	defer cancel()
	id, opts, in := workflows.DeployStart(d.Project, d.Component, d.Environment)
	_, err := s.temporal.SignalWithStartWorkflow(ctx, id, workflows.SignalDeploy,
		workflows.DeployRequest{DeploymentID: d.ID, BuildID: d.BuildID}, opts, workflows.DeployQueue, in)
	if err != nil {
		return fmt.Errorf("queueing deployment %s on %s: %w", d.ID, id, err)
	}
	return nil
}

// failUnqueued records a deployment whose workflow could not be signalled as failed, so it does not wait forever.
// Every token reads the message recorded, so it names no address or network detail of the cause (see
// withoutHostDetail); a cause the answer does not carry to the log (Temporal unreachable: a 503) is logged here.
func (s *Server) failUnqueued(ctx context.Context, id string, cause error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), temporalTimeout)
	defer cancel()
	if temporalUnreachable(cause) {
		s.log.WarnContext(ctx, "a deployment could not be queued: Temporal is unreachable", "deployment", id, "error", cause)
	}
	_, err := s.store.UpdateDeployment(ctx, id, func(d *store.Deployment) error {
		now := time.Now().UTC()
		d.Status, d.Message, d.EndedAt = api.DeploymentFailed, "could not be queued: "+withoutHostDetail(cause.Error()), &now
		return nil
	})
	if err != nil {
		s.log.WarnContext(ctx, "recording an unqueued deployment", "deployment", id, "err", err)
	}
}

func newDeploymentID() string {
	b := make([]byte, 8)
	rand.Read(b)
	return "d-" + hex.EncodeToString(b)
}

// listDeployments answers GET /api/v1/projects/{p}/components/{c}/deployments: per environment, in
// promotion order, the current release and the latest deployments.
func (s *Server) listDeployments(c echo.Context) error {
	ctx := c.Request().Context()
	comp, envs, err := s.componentEnvironments(c)
	if err != nil {
		return err
	}
	out := api.Page[api.EnvironmentDeployments]{Items: make([]api.EnvironmentDeployments, len(envs))}
	var drifts sync.WaitGroup
	for i, e := range envs {
		item := &out.Items[i]
		item.Environment, item.History = e.Name, []api.Deployment{}
		if cur, err := s.store.CurrentDeployment(ctx, comp.Project, comp.Name, e.Name); err == nil {
			v := deploymentOf(cur)
			item.Current = &v
			if s.drift != nil {
				// Each data plane is asked at once: the answer waits for the slowest, not for their sum.
				drifts.Go(func() { item.Drift, item.DriftError = s.readDrift(ctx, comp, e) })
			}
		} else if !errors.Is(err, store.ErrNotFound) {
			drifts.Wait()
			return err
		}
		hist, err := s.store.ListDeployments(ctx, comp.Project, comp.Name, e.Name, 20)
		if err != nil {
			drifts.Wait()
			return err
		}
		for _, d := range hist {
			item.History = append(item.History, deploymentOf(d))
		}
	}
	drifts.Wait()
	return c.JSON(http.StatusOK, out)
}

// readDrift asks the data plane of e whether comp's release there was changed by hand, within driftTimeout.
// The cluster's own words may name its internal addresses: they go to the log only.
func (s *Server) readDrift(ctx context.Context, comp store.Component, e store.Environment) (*api.Drift, string) {
	dctx, cancel := context.WithTimeout(ctx, driftTimeout)
	defer cancel()
	drift, err := s.drift(dctx, e, comp.Name)
	if err != nil {
		s.log.WarnContext(ctx, "reading drift", "project", comp.Project, "component", comp.Name, "environment", e.Name, "error", err)
		return nil, "the data plane of " + e.Name + " could not be read (see slipway's log)"
	}
	return drift, ""
}
