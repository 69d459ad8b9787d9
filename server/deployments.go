package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/slipway-dev/slipway/api"
	"github.com/slipway-dev/slipway/delivery"
	"github.com/slipway-dev/slipway/store"
)

// deploymentOf is d as the API shows it.
func deploymentOf(d store.Deployment) api.Deployment {
	return api.Deployment{ID: d.ID, Environment: d.Environment, Build: d.BuildID, Digest: d.Digest, Status: d.Status,
		URL: d.URL, Message: d.Message, Actor: d.Actor, Verification: d.Verification, CreatedAt: d.CreatedAt, DeployedAt: d.EndedAt}
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
// admin's, which may skip. The answer is the promotion request (202), which waits for the target's release
// rules (approvals, freeze windows, stopped lines, a production re-scan) or, with none, is deploying already;
// with ?dryRun=true it is the request that would be made, with its diff (200), and nothing is recorded.
func (s *Server) promote(c echo.Context) error {
	var req api.PromoteRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	comp, err := s.store.GetComponent(c.Request().Context(), c.Param("project"), c.Param("component"))
	if err != nil {
		return err
	}
	dry := c.QueryParam("dryRun") == "true"
	p, err := s.promotions.Promote(c.Request().Context(), comp, delivery.Promotion{Build: req.Build, To: req.To, DryRun: dry}, actor(c))
	if err != nil {
		return err
	}
	if dry {
		return s.answerPromotion(c, http.StatusOK, p)
	}
	return s.answerPromotion(c, http.StatusAccepted, p)
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

// mayDeployTo refuses (403) a token that is not an admin's when env is a production environment
// (delivery.MayDeployTo). what names the way in, e.g. "deploying".
func (s *Server) mayDeployTo(c echo.Context, env store.Environment, what string) error {
	return delivery.MayDeployTo(env, s.isAdmin(c), what)
}

// deploy records the deployment of the build to the environment and queues it on the environment's deploy
// workflow (202), or answers why not (delivery.Deploys.Deploy; nothing is recorded then). Into an environment
// with release rules (delivery.Governed) it is a promotion request instead, and the answer is the request.
func (s *Server) deploy(c echo.Context, comp store.Component, env store.Environment, buildID string) error {
	ctx := c.Request().Context()
	_, stopped, err := s.store.ProjectStop(ctx, comp.Project)
	if err != nil {
		return err
	}
	if delivery.Governed(env, stopped) {
		p, err := s.promotions.Request(ctx, comp, env, "", buildID, actor(c))
		if err != nil {
			return err
		}
		return s.answerPromotion(c, http.StatusAccepted, p)
	}
	entry := store.AuditEntry{Action: api.AuditDeploy, Project: comp.Project, Component: comp.Name, Environment: env.Name, Target: buildID}
	d, err := s.deploys.Deploy(ctx, comp, env, buildID, tokenName(c), s.isAdmin(c))
	if err != nil {
		entry.Result = "refused: " + err.Error()
		s.audit(c, entry)
		return err
	}
	entry.Result = "queued " + d.ID
	s.audit(c, entry)
	return c.JSON(http.StatusAccepted, deploymentOf(d))
}

// listDeployments answers GET /api/v1/projects/{p}/components/{c}/deployments: per environment, in
// promotion order, the current release and the latest deployments.
func (s *Server) listDeployments(c echo.Context) error {
	ctx := c.Request().Context()
	comp, envs, err := s.componentEnvironments(c)
	if err != nil {
		return err
	}
	items, err := s.environmentDeployments(ctx, comp, envs)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, api.Page[api.EnvironmentDeployments]{Items: items})
}

// environmentDeployments is, for each of envs in order, what of comp serves there, its drift and its latest
// deployments.
func (s *Server) environmentDeployments(ctx context.Context, comp store.Component, envs []store.Environment) ([]api.EnvironmentDeployments, error) {
	out := make([]api.EnvironmentDeployments, len(envs))
	var drifts sync.WaitGroup
	for i, e := range envs {
		item := &out[i]
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
			return nil, err
		}
		if h, held, err := s.store.PromotionHold(ctx, comp.Project, comp.Name, e.Name); err != nil {
			drifts.Wait()
			return nil, err
		} else if held {
			item.Hold = &h
		}
		hist, err := s.store.ListDeployments(ctx, comp.Project, comp.Name, e.Name, 20)
		if err != nil {
			drifts.Wait()
			return nil, err
		}
		for _, d := range hist {
			item.History = append(item.History, deploymentOf(d))
		}
	}
	drifts.Wait()
	return out, nil
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

// releaseHold answers DELETE /api/v1/projects/{p}/components/{c}/environments/{e}/hold: auto-promotion of the
// component into the environment goes on (204). Into a production environment only with an admin token; 404
// when nothing is held there.
func (s *Server) releaseHold(c echo.Context) error {
	ctx := c.Request().Context()
	comp, err := s.store.GetComponent(ctx, c.Param("project"), c.Param("component"))
	if err != nil {
		return err
	}
	env, err := delivery.Environment(ctx, s.store, comp.Project, c.Param("environment"))
	if err != nil {
		return err
	}
	if err := s.mayDeployTo(c, env, "releasing a hold on auto-promotion"); err != nil {
		return err
	}
	if err := s.store.ReleaseHold(ctx, comp.Project, comp.Name, env.Name); err != nil {
		return err
	}
	s.audit(c, store.AuditEntry{Action: api.AuditReleaseHold, Project: comp.Project, Component: comp.Name, Environment: env.Name, Result: "ok"})
	return c.NoContent(http.StatusNoContent)
}
