package server

import (
	"encoding/base64"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/slipway-dev/slipway/scan"
	"github.com/slipway-dev/slipway/store"
)

// Page sizes of GET /api/v1/projects.
const (
	defaultPageSize = 50
	maxPageSize     = 500
)

// projectRequest is the body of POST /api/v1/projects.
type projectRequest struct {
	Name string `json:"name"`
	// ScanPolicy is optional: zero is the default policy.
	ScanPolicy scan.Policy `json:"scanPolicy"`
}

// projectUpdate is the body of PATCH /api/v1/projects/{p}: absent fields stay as they are.
type projectUpdate struct {
	ScanPolicy *scan.Policy `json:"scanPolicy"`
}

// projectResponse is a project with its environments in promotion order.
type projectResponse struct {
	store.Project
	Environments []store.Environment `json:"environments"`
}

// page is a list response; Next is the cursor of the following page, "" on the last one.
type page[T any] struct {
	Items []T    `json:"items"`
	Next  string `json:"next,omitempty"`
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
	var req projectRequest
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
	return c.JSON(http.StatusCreated, projectResponse{Project: p, Environments: nonNil(envs)})
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
	resp := page[store.Project]{Items: nonNil(ps)}
	if len(ps) > limit {
		resp.Items = ps[:limit]
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
	return c.JSON(http.StatusOK, projectResponse{Project: p, Environments: nonNil(envs)})
}

// updateProject answers PATCH /api/v1/projects/{p}: today only the scan policy changes. Builds already
// started keep the policy they started with.
func (s *Server) updateProject(c echo.Context) error {
	var req projectUpdate
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
	return c.JSON(http.StatusOK, projectResponse{Project: p, Environments: envs})
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
