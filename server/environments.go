package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/slipway-dev/slipway/api"
	"github.com/slipway-dev/slipway/delivery"
	"github.com/slipway-dev/slipway/store"
)

// errNeedsAdmin is the 403 for a change that touches a production environment with a token that is not an admin's.
//
// Who may touch a production environment: deploying there — a manual deploy, a rollback or redeploy, a
// promotion — needs an admin token (mayDeployTo), and so do the changes that decide what is production or where
// it stands:
//   - creating an environment with "production": true, or setting "production" (to true or false) on one;
//   - reordering the environments of a project that has a production environment.
//
// A build's auto-deploy never goes into a production environment, whoever set it up (activities.RequestDeploy
// refuses it). A developer may create, change and reorder the environments of a project without one.
func errNeedsAdmin(field, format string, args ...any) *APIError {
	return &APIError{Status: http.StatusForbidden, Code: "forbidden", Field: field, Message: fmt.Sprintf(format, args...)}
}

// environmentOf is e as the API shows it.
func environmentOf(e store.Environment) api.Environment {
	v := api.Environment{
		Name: e.Name, Production: e.Production, Position: e.Position, Replicas: e.Replicas, CPUs: e.CPUs,
		MemoryBytes: e.MemoryBytes, DataPlane: e.DataPlane, DeployTimeoutSeconds: e.DeployTimeoutSeconds,
		CreatedAt: e.CreatedAt, ReleaseRules: e.Rules, ApprovalRequired: delivery.ApprovalOf(e).Required,
	}
	if e.Kubernetes != nil {
		k := api.KubernetesBinding(*e.Kubernetes)
		v.Kubernetes = &k
	}
	return v
}

// environmentsOf is es as the API shows them; nil stays nil.
func environmentsOf(es []store.Environment) []api.Environment { return mapSlice(es, environmentOf) }

// applyKubernetes sets the fields u has on k.
func applyKubernetes(u api.KubernetesUpdate, k *store.KubernetesBinding) {
	if u.Context != nil {
		k.Context = *u.Context
	}
	if u.InCluster != nil {
		k.InCluster = *u.InCluster
	}
	if u.Namespace != nil {
		k.Namespace = *u.Namespace
	}
	if u.IngressNamespaces != nil {
		k.IngressNamespaces = *u.IngressNamespaces
	}
	if u.MaxSurge != nil {
		k.MaxSurge = u.MaxSurge
	}
	if u.MaxUnavailable != nil {
		k.MaxUnavailable = u.MaxUnavailable
	}
}

// bindingField names the first field of u that changes the data plane or how it is reached, which only an admin
// may; "" when none does.
func bindingField(u api.EnvironmentUpdate) string {
	switch {
	case u.DataPlane != nil:
		return "dataPlane"
	case u.Kubernetes != nil:
		return "kubernetes"
	case u.Kubeconfig != nil:
		return "kubeconfig"
	}
	return ""
}

// listEnvironments answers GET /api/v1/projects/{p}/environments in promotion order.
func (s *Server) listEnvironments(c echo.Context) error {
	envs, err := s.store.ListEnvironments(c.Request().Context(), c.Param("project"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, api.Page[api.Environment]{Items: nonNil(environmentsOf(envs))})
}

// createEnvironment answers POST /api/v1/projects/{p}/environments; the new environment goes last. Only an admin
// may create a production one.
func (s *Server) createEnvironment(c echo.Context) error {
	var req api.EnvironmentRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	if err := checkName("name", req.Name); err != nil {
		return err
	}
	if req.Production && !s.isAdmin(c) {
		return errNeedsAdmin("production", "creating a production environment needs an admin token")
	}
	env, err := s.store.CreateEnvironment(c.Request().Context(), store.Environment{
		Project:    c.Param("project"),
		Name:       req.Name,
		Production: req.Production,
		Replicas:   req.Replicas, CPUs: req.CPUs, MemoryBytes: req.MemoryBytes,
	})
	if err != nil {
		return withField(err, resourceField(err, "name"))
	}
	return c.JSON(http.StatusCreated, environmentOf(env))
}

// updateEnvironment answers PATCH /api/v1/projects/{p}/environments/{e}; running releases take new replicas,
// limits and data plane at their next deployment. Only an admin may set "production", to true or to false. A
// kubeconfig is checked (it parses; the context used, its cluster and user are in it) before anything is stored,
// and is never answered, logged or named in an error by content.
func (s *Server) updateEnvironment(c echo.Context) error {
	var req api.EnvironmentUpdate
	if err := bind(c, &req); err != nil {
		return err
	}
	if req.Production != nil && !s.isAdmin(c) {
		return errNeedsAdmin("production", "changing whether an environment is production needs an admin token")
	}
	if field := bindingField(req); field != "" && !s.isAdmin(c) {
		return &APIError{Status: http.StatusForbidden, Code: "forbidden", Field: field,
			Message: "changing an environment's data plane, its kubernetes binding or kubeconfig needs an admin token"}
	}
	rules := req.ReleaseRulesUpdate
	setsRules := rules.Approval != nil || rules.FreezeWindows != nil || rules.FreezeMode != nil || rules.Promotion != nil || rules.Verification != nil
	if (setsRules || rules.Stopped != nil && !*rules.Stopped) && !s.isAdmin(c) {
		return errNeedsAdmin("approval", "changing an environment's release rules or starting its stopped line needs an admin token")
	}
	if rules.Stopped != nil && *rules.Stopped && (rules.StopReason == nil || *rules.StopReason == "") {
		return invalid("stopReason", "stopReason is required to stop an environment's line: say why")
	}
	ctx, p, name := c.Request().Context(), c.Param("project"), c.Param("environment")
	if v := rules.Verification; v != nil && v.Task != "" {
		if err := s.verificationTask(ctx, p, v.Task); err != nil {
			return err
		}
	}
	kc, err := s.kubeconfigChange(ctx, p, name, req)
	if err != nil {
		return err
	}
	env, err := s.store.UpdateEnvironment(ctx, p, name, func(e *store.Environment) error {
		if req.Production != nil {
			e.Production = *req.Production
		}
		if req.Replicas != nil {
			e.Replicas = *req.Replicas
		}
		if req.CPUs != nil {
			e.CPUs = *req.CPUs
		}
		if req.MemoryBytes != nil {
			e.MemoryBytes = *req.MemoryBytes
		}
		if req.DeployTimeoutSeconds != nil {
			e.DeployTimeoutSeconds = *req.DeployTimeoutSeconds
		}
		if rules.Approval != nil {
			a := api.Approval(*rules.Approval)
			e.Rules.Approval = &a
		}
		if rules.FreezeWindows != nil {
			e.Rules.FreezeWindows = make([]api.FreezeWindow, len(*rules.FreezeWindows))
			for i, w := range *rules.FreezeWindows {
				e.Rules.FreezeWindows[i] = api.FreezeWindow(w)
			}
		}
		if rules.FreezeMode != nil {
			e.Rules.FreezeMode = *rules.FreezeMode
		}
		if rules.Promotion != nil {
			e.Rules.Promotion = nil
			if p := api.PromotionPolicy(*rules.Promotion); p != (api.PromotionPolicy{}) {
				e.Rules.Promotion = &p
			}
		}
		if rules.Verification != nil {
			e.Rules.Verification = nil
			if v := api.Verification(*rules.Verification); len(v.HTTP) > 0 || v.WindowSeconds != 0 || v.Task != "" {
				e.Rules.Verification = &v
			}
		}
		if err := delivery.CheckReleaseRules(e.Rules); err != nil {
			return err
		}
		return kc.apply(e, req)
	})
	if err != nil {
		return withField(err, resourceField(err, ""))
	}
	if err := kc.save(ctx, s.store, p, name); err != nil {
		return err
	}
	if setsRules {
		s.audit(c, store.AuditEntry{Action: api.AuditEnvironmentSet, Project: p, Environment: name, Target: "release rules"})
		s.recheck(c, p) // a window removed or shortened lets waiting requests go now
	}
	if rules.Stopped != nil {
		if env, err = s.stopOrStart(c, env, *rules.Stopped, rules.StopReason); err != nil {
			return err
		}
	}
	if env.Kubernetes != nil {
		env.Kubernetes.HasKubeconfig = kc.has(env)
	}
	return c.JSON(http.StatusOK, environmentOf(env))
}

// verificationTask refuses (422, field verification.task) a verification task that is not a manual-task
// component of project p.
func (s *Server) verificationTask(ctx context.Context, p, task string) error {
	comp, err := s.store.GetComponent(ctx, p, task)
	if errors.Is(err, store.ErrNotFound) {
		return invalid("verification.task", "project %q has no component %q to verify releases with", p, task)
	}
	if err != nil {
		return err
	}
	if comp.Type != api.ComponentManualTask {
		return invalid("verification.task", "%s is a %s: a verification task is a manual-task component", task, comp.Type)
	}
	return nil
}

// resourceField names the field an invalid environment setting error is about (its message starts with it),
// else def.
func resourceField(err error, def string) string {
	for _, f := range []string{"replicas", "cpus", "memoryBytes", "deployTimeoutSeconds", "dataPlane", "kubernetes.namespace",
		"kubernetes.ingressNamespaces", "kubernetes.maxSurge", "kubernetes.maxUnavailable", "kubernetes"} {
		if strings.HasPrefix(err.Error(), f+" of ") {
			return f
		}
	}
	return def
}

// reorderEnvironments answers PUT /api/v1/projects/{p}/environments/order with the new order. The order decides
// what reaches a production environment (promotion goes to the next environment, auto-deploy to the first), so
// only an admin may reorder a project that has one.
func (s *Server) reorderEnvironments(c echo.Context) error {
	var req api.EnvironmentOrder
	if err := bind(c, &req); err != nil {
		return err
	}
	if len(req.Order) == 0 {
		return invalid("order", "order is required: list every environment of the project once")
	}
	ctx, p := c.Request().Context(), c.Param("project")
	if !s.isAdmin(c) {
		current, err := s.store.ListEnvironments(ctx, p)
		if err != nil {
			return err
		}
		if i := slices.IndexFunc(current, func(e store.Environment) bool { return e.Production }); i >= 0 {
			return errNeedsAdmin("order", "project %s has a production environment (%s): reordering its environments needs an admin token",
				p, current[i].Name)
		}
	}
	envs, err := s.store.ReorderEnvironments(ctx, p, req.Order)
	if err != nil {
		return withField(err, "order")
	}
	return c.JSON(http.StatusOK, api.Page[api.Environment]{Items: nonNil(environmentsOf(envs))})
}

// stopOrStart stops (with reason) or starts the environment's line, audits it and, on a start, wakes the
// requests waiting for it. Starting a line that runs, or stopping one again, is no error.
func (s *Server) stopOrStart(c echo.Context, env store.Environment, stop bool, reason *string) (store.Environment, error) {
	ctx := c.Request().Context()
	if stop {
		st, err := s.store.StopLine(ctx, env.Project, env.Name, *reason, tokenName(c))
		if err != nil {
			return env, err
		}
		env.Rules.Stopped = &st
		s.audit(c, store.AuditEntry{Action: api.AuditStop, Project: env.Project, Environment: env.Name, Reason: *reason})
		return env, nil
	}
	if err := s.store.StartLine(ctx, env.Project, env.Name); err != nil && !errors.Is(err, store.ErrNotFound) {
		return env, err
	}
	env.Rules.Stopped = nil
	s.audit(c, store.AuditEntry{Action: api.AuditStart, Project: env.Project, Environment: env.Name})
	s.recheck(c, env.Project)
	return env, nil
}
