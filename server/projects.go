package server

import (
	"encoding/base64"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/slipway-dev/slipway/api"
	"github.com/slipway-dev/slipway/store"
)

// Page sizes of GET /api/v1/projects.
const (
	defaultPageSize = 50
	maxPageSize     = 500
)

// projectOf is p as the API shows it.
func projectOf(p store.Project) api.Project { return api.Project(p) }

// projectsOf is ps as the API shows them; nil stays nil.
func projectsOf(ps []store.Project) []api.Project { return mapSlice(ps, projectOf) }

// projectResponse is p with its environments envs as the API shows them; [] when it has none.
func projectResponse(p store.Project, envs []store.Environment) api.ProjectResponse {
	return api.ProjectResponse{Project: projectOf(p), Environments: nonNil(environmentsOf(envs))}
}

// defaultEnvironments are the environments every new project starts with, in promotion order.
func defaultEnvironments() []store.Environment {
	return []store.Environment{
		{Name: "development"},
		{Name: "production", Production: true},
	}
}

// createProject answers POST /api/v1/projects: the project with development then production.
func (s *Server) createProject(c echo.Context) error {
	var req api.ProjectRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	if err := checkName("name", req.Name); err != nil {
		return err
	}
	if err := req.ScanPolicy.Validate(); err != nil {
		return invalid("scanPolicy.failOn", "%v", err)
	}
	ctx := c.Request().Context()
	p, err := s.store.CreateProject(ctx, store.Project{Name: req.Name, ScanPolicy: req.ScanPolicy}, defaultEnvironments())
	if err != nil {
		return withField(err, "name")
	}
	envs, err := s.store.ListEnvironments(ctx, p.Name)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, projectResponse(p, nonNil(envs)))
}

// listProjects answers GET /api/v1/projects?limit=&cursor=, by name.
func (s *Server) listProjects(c echo.Context) error {
	limit := defaultPageSize
	if v := c.QueryParam("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxPageSize {
			return invalid("limit", "limit must be a whole number from 1 to %d", maxPageSize)
		}
		limit = n
	}
	var after string
	if v := c.QueryParam("cursor"); v != "" {
		b, err := base64.RawURLEncoding.DecodeString(v)
		if err != nil || len(b) == 0 {
			return invalid("cursor", "cursor is not one this API returned in \"next\"")
		}
		after = string(b)
	}
	ps, err := s.store.ListProjects(c.Request().Context(), after, limit+1)
	if err != nil {
		return err
	}
	resp := api.Page[api.Project]{Items: nonNil(projectsOf(ps))}
	if len(ps) > limit {
		resp.Items = resp.Items[:limit]
		resp.Next = base64.RawURLEncoding.EncodeToString([]byte(ps[limit-1].Name))
	}
	return c.JSON(http.StatusOK, resp)
}

// getProject answers GET /api/v1/projects/{p}, with its environments.
func (s *Server) getProject(c echo.Context) error {
	ctx := c.Request().Context()
	p, err := s.store.GetProject(ctx, c.Param("project"))
	if err != nil {
		return err
	}
	envs, err := s.store.ListEnvironments(ctx, p.Name)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, projectResponse(p, nonNil(envs)))
}

// updateProject answers PATCH /api/v1/projects/{p}: today only the scan policy changes. Builds already
// started keep the policy they started with.
func (s *Server) updateProject(c echo.Context) error {
	var req api.ProjectUpdate
	if err := bind(c, &req); err != nil {
		return err
	}
	if req.ScanPolicy != nil {
		if err := req.ScanPolicy.Validate(); err != nil {
			return invalid("scanPolicy.failOn", "%v", err)
		}
	}
	ctx := c.Request().Context()
	p, err := s.store.UpdateProject(ctx, c.Param("project"), func(p *store.Project) error {
		if req.ScanPolicy != nil {
			p.ScanPolicy = *req.ScanPolicy
		}
		return nil
	})
	if err != nil {
		return err
	}
	envs, err := s.store.ListEnvironments(ctx, p.Name)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, projectResponse(p, envs))
}

// deleteProject answers DELETE /api/v1/projects/{p}; everything below the project goes with it, and the webhooks
// of repositories no other project builds automatically. While something runs it answers 409, unless
// ?force=true removes it first (undeployFirst).
func (s *Server) deleteProject(c echo.Context) error {
	ctx := c.Request().Context()
	comps, err := s.store.ListComponents(ctx, c.Param("project"))
	if err != nil {
		return err
	}
	if err := s.undeployFirst(c, c.Param("project"), comps, ""); err != nil {
		return err
	}
	if err := s.store.DeleteProject(ctx, c.Param("project")); err != nil {
		return err
	}
	for _, comp := range comps {
		if comp.AutoBuild {
			if err := s.releaseWebhook(ctx, comp.Repo); err != nil {
				return err
			}
		}
	}
	return c.NoContent(http.StatusNoContent)
}

// nonNil makes an empty list encode as [] rather than null.
func nonNil[T any](xs []T) []T {
	if xs == nil {
		return []T{}
	}
	return xs
}

// mapSlice is xs with f applied to each; nil stays nil, so that nonNil decides how an empty list encodes.
func mapSlice[S, T any](xs []S, f func(S) T) []T {
	if xs == nil {
		return nil
	}
	out := make([]T, len(xs))
	for i, x := range xs {
		out[i] = f(x)
	}
	return out
}
