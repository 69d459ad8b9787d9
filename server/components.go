package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"path"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/slipway-dev/slipway/api"
	"github.com/slipway-dev/slipway/store"
	"github.com/slipway-dev/slipway/webhooks"
)

// Component defaults applied when a field is absent, empty or (in PATCH) null.
const (
	defaultBranch     = "main"
	defaultDockerfile = "Dockerfile"
	defaultContext    = "."
)

// componentOf is c as the API shows it: its paths [] when it has none.
func componentOf(c store.Component) api.Component {
	out := api.Component(c)
	out.Paths = nonNil(out.Paths)
	return out
}

// applyComponent copies the fields f gives onto c (the merge of JSON merge patch).
func applyComponent(f api.ComponentFields, c *store.Component) {
	set := func(dst *string, src *string) {
		if src != nil {
			*dst = *src
		}
	}
	set(&c.Repo, f.Repo)
	set(&c.Branch, f.Branch)
	set(&c.Dockerfile, f.Dockerfile)
	set(&c.Context, f.Context)
	if f.AutoBuild != nil {
		c.AutoBuild = *f.AutoBuild
	}
	if f.AutoDeploy != nil {
		c.AutoDeploy = *f.AutoDeploy
	}
	if f.Paths != nil {
		c.Paths = *f.Paths
	}
	set(&c.Type, f.Type)
}

// nullsToZero makes the fields the patch sets to JSON null explicit zero values, so that applyComponent resets
// them (to their defaults, for the string fields) as JSON merge patch says. data has already been decoded into f.
func nullsToZero(f *api.ComponentFields, data []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return fmt.Errorf("re-reading component patch: %w", err)
	}
	for name, v := range raw {
		if !bytes.Equal(bytes.TrimSpace(v), []byte("null")) {
			continue
		}
		empty, off := "", false
		switch name {
		case "name":
			f.Name = &empty
		case "repo":
			f.Repo = &empty
		case "branch":
			f.Branch = &empty
		case "dockerfile":
			f.Dockerfile = &empty
		case "context":
			f.Context = &empty
		case "autoBuild":
			f.AutoBuild = &off
		case "autoDeploy":
			f.AutoDeploy = &off
		case "paths":
			f.Paths = &[]string{}
		case "type":
			f.Type = &empty
		}
	}
	return nil
}

// checkComponent fills in defaults for empty fields, then validates every field of c.
func checkComponent(c *store.Component) *APIError {
	if c.Branch == "" {
		c.Branch = defaultBranch
	}
	if c.Dockerfile == "" {
		c.Dockerfile = defaultDockerfile
	}
	if c.Context == "" {
		c.Context = defaultContext
	}
	if c.Type == "" {
		c.Type = api.ComponentService
	}
	if !slices.Contains(api.ComponentTypes, c.Type) {
		return invalid("type", "type %q is none of %s", c.Type, strings.Join(api.ComponentTypes, ", "))
	}
	if err := checkName("name", c.Name); err != nil {
		return err
	}
	if err := checkRepo("repo", c.Repo); err != nil {
		return err
	}
	if err := checkBranch("branch", c.Branch); err != nil {
		return err
	}
	if err := checkRepoPath("dockerfile", c.Dockerfile, true); err != nil {
		return err
	}
	if err := checkPaths(c.Paths); err != nil {
		return err
	}
	return checkRepoPath("context", c.Context, false)
}

// maxPathFilters bounds a component's path filters.
const maxPathFilters = 50

// checkPaths validates path filters: relative, slash-separated patterns path.Match understands.
func checkPaths(paths []string) *APIError {
	if len(paths) > maxPathFilters {
		return invalid("paths", "at most %d path filters, got %d", maxPathFilters, len(paths))
	}
	for i, p := range paths {
		if p == "" || strings.HasPrefix(p, "/") {
			return invalid(fmt.Sprintf("paths[%d]", i), "path filter %q must be a non-empty path relative to the repository root", p)
		}
		if _, err := path.Match(p, ""); err != nil {
			return invalid(fmt.Sprintf("paths[%d]", i), "path filter %q is not a valid pattern: %v", p, err)
		}
	}
	return nil
}

// webhookFor keeps the repository's webhook in step with the component's auto-build: made (and shown) when
// it is on, released when no component builds that repository automatically any more.
func (s *Server) webhookFor(c echo.Context, comp store.Component, before *store.Component) (*api.Webhook, error) {
	ctx := c.Request().Context()
	if before != nil && before.AutoBuild && (!comp.AutoBuild || webhooks.RepoKey(before.Repo) != webhooks.RepoKey(comp.Repo)) {
		if err := s.releaseWebhook(ctx, before.Repo); err != nil {
			return nil, err
		}
	}
	if !comp.AutoBuild {
		return nil, nil
	}
	return s.ensureWebhook(ctx, comp, c.Scheme()+"://"+c.Request().Host)
}

// createComponent answers POST /api/v1/projects/{p}/components.
func (s *Server) createComponent(c echo.Context) error {
	var f api.ComponentFields
	if err := bind(c, &f); err != nil {
		return err
	}
	comp := store.Component{Project: c.Param("project")}
	if f.Name != nil {
		comp.Name = *f.Name
	}
	applyComponent(f, &comp)
	if err := checkComponent(&comp); err != nil {
		return err
	}
	created, err := s.store.CreateComponent(c.Request().Context(), comp)
	if err != nil {
		return withField(err, "name")
	}
	hook, err := s.webhookFor(c, created, nil)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, api.ComponentResponse{Component: componentOf(created), Webhook: hook})
}

// listComponents answers GET /api/v1/projects/{p}/components, by name.
func (s *Server) listComponents(c echo.Context) error {
	comps, err := s.store.ListComponents(c.Request().Context(), c.Param("project"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, api.Page[api.Component]{Items: nonNil(mapSlice(comps, componentOf))})
}

// getComponent answers GET /api/v1/projects/{p}/components/{c}.
func (s *Server) getComponent(c echo.Context) error {
	comp, err := s.store.GetComponent(c.Request().Context(), c.Param("project"), c.Param("component"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, componentOf(comp))
}

// getWebhook answers GET /api/v1/projects/{p}/components/{c}/webhook: where the repository's pushes are
// delivered and whether slipway registered the webhook itself, never its secret. 404 while auto-build is off.
func (s *Server) getWebhook(c echo.Context) error {
	ctx := c.Request().Context()
	comp, err := s.store.GetComponent(ctx, c.Param("project"), c.Param("component"))
	if err != nil {
		return err
	}
	if !comp.AutoBuild {
		return &APIError{Status: http.StatusNotFound, Code: "not_found",
			Message: fmt.Sprintf("component %s/%s has no webhook: its auto-build is off", comp.Project, comp.Name)}
	}
	w, err := s.store.GetWebhook(ctx, webhooks.RepoKey(comp.Repo))
	if err != nil {
		return err
	}
	info := api.Webhook{URL: s.webhookURL(c.Scheme()+"://"+c.Request().Host, w.Provider, w.Key), Registered: w.HookID != ""}
	if !info.Registered {
		info.Note = "add this webhook to the repository by hand (content type JSON, push events) with the secret shown when auto-build was first turned on"
	}
	return c.JSON(http.StatusOK, info)
}

// updateComponent answers PATCH /api/v1/projects/{p}/components/{c}: a JSON merge patch of the given fields.
// The name cannot change.
func (s *Server) updateComponent(c echo.Context) error {
	data, err := readBody(c)
	if err != nil {
		return err
	}
	var f api.ComponentFields
	if err := decodeStrict(data, &f); err != nil {
		return err
	}
	if err := nullsToZero(&f, data); err != nil {
		return err
	}
	ctx := c.Request().Context()
	comp, err := s.store.GetComponent(ctx, c.Param("project"), c.Param("component"))
	if err != nil {
		return err
	}
	if f.Name != nil && *f.Name != comp.Name {
		return invalid("name", "name cannot be changed (it is %q); create a new component instead", comp.Name)
	}
	before := comp
	applyComponent(f, &comp)
	if err := checkComponent(&comp); err != nil {
		return err
	}
	updated, err := s.store.UpdateComponent(ctx, comp)
	if err != nil {
		return err
	}
	hook, err := s.webhookFor(c, updated, &before)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, api.ComponentResponse{Component: componentOf(updated), Webhook: hook})
}

// deleteComponent answers DELETE /api/v1/projects/{p}/components/{c}; while it runs somewhere it answers 409,
// unless ?force=true removes what runs first (undeployFirst).
func (s *Server) deleteComponent(c echo.Context) error {
	ctx := c.Request().Context()
	comp, err := s.store.GetComponent(ctx, c.Param("project"), c.Param("component"))
	if err != nil {
		return err
	}
	if err := s.undeployFirst(c, comp.Project, []store.Component{comp}, comp.Name); err != nil {
		return err
	}
	if err := s.tasks.DeleteSchedules(ctx, comp); err != nil {
		return err
	}
	if err := s.store.DeleteComponent(ctx, comp.Project, comp.Name); err != nil {
		return err
	}
	if comp.AutoBuild {
		if err := s.releaseWebhook(ctx, comp.Repo); err != nil {
			return err
		}
	}
	return c.NoContent(http.StatusNoContent)
}
