package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"go.temporal.io/api/serviceerror"

	"github.com/slipway-dev/slipway/api"
	"github.com/slipway-dev/slipway/delivery"
	"github.com/slipway-dev/slipway/store"
	"github.com/slipway-dev/slipway/workflows"
)

// Time limits of the calls a build request makes to Temporal.
const (
	// temporalTimeout bounds cancelling a build workflow.
	temporalTimeout = delivery.TemporalTimeout
	// queryTimeout bounds the steps query of a running build; the stored steps are shown after it.
	queryTimeout = 2 * time.Second
)

// triggerManual is the trigger kind (and SlipwayTrigger search attribute value) of a build started through the API.
const triggerManual = "manual"

// buildFinished reports whether a build in this status can no longer change.
func buildFinished(status string) bool {
	return status == api.BuildSucceeded || status == api.BuildFailed || status == api.BuildCancelled
}

// errTemporalUnavailable is the 503 for a build request that needs Temporal when it cannot be reached.
func errTemporalUnavailable(format string, args ...any) *APIError {
	return &APIError{Status: http.StatusServiceUnavailable, Code: "temporal_unavailable", Message: fmt.Sprintf(format, args...)}
}

// triggerBuild answers POST /api/v1/projects/{p}/components/{c}/builds {"commit"?, "rebuild"?}: 202 with the new
// build, or 200 with "existing": true when the commit has a build already and no rebuild was asked (see
// delivery.Builds.Start: a commit is built once however often it is asked for).
func (s *Server) triggerBuild(c echo.Context) error {
	data, err := readBody(c)
	if err != nil {
		return err
	}
	var req api.BuildRequest
	if len(bytes.TrimSpace(data)) > 0 {
		if err := decodeStrict(data, &req); err != nil {
			return err
		}
	}
	if req.Commit != "" {
		if err := checkBranch("commit", req.Commit); err != nil {
			err.Message = fmt.Sprintf("commit %q is not a valid SHA, branch or tag name", req.Commit)
			return err
		}
	}
	ctx := c.Request().Context()
	comp, err := s.store.GetComponent(ctx, c.Param("project"), c.Param("component"))
	if err != nil {
		return err
	}
	if err := s.builds.Ready(); err != nil {
		return err
	}
	sha, err := s.builds.ResolveCommit(ctx, comp, req.Commit)
	if err != nil {
		return err
	}
	if req.Deploy {
		comp.AutoDeploy = true // this build deploys itself to the first environment, as an auto-deploy would
	}
	got, err := s.builds.Start(ctx, comp, sha, store.Trigger{Kind: triggerManual, Actor: tokenName(c)}, req.Rebuild)
	if err != nil {
		return err
	}
	if !got.Existing {
		return c.JSON(http.StatusAccepted, newBuildAccepted(got))
	}
	out := newBuildAccepted(got)
	if req.Deploy {
		d, err := s.deployExisting(c, comp, got.Build)
		if err != nil {
			return err
		}
		out.Deployment = &d
	}
	return c.JSON(http.StatusOK, out)
}

// deployExisting deploys b, the build a commit had already, to comp's first environment, for a build request
// that asked to deploy: a build still under way cannot be deployed yet (409).
func (s *Server) deployExisting(c echo.Context, comp store.Component, b store.Build) (api.Deployment, error) {
	if !buildFinished(b.Status) {
		return api.Deployment{}, &APIError{Status: http.StatusConflict, Code: "build_not_finished", Field: "deploy", Message: fmt.Sprintf(
			"commit %s is being built by %s (%s): deploy that build when it has succeeded, or ask with rebuild", b.Commit, b.ID, b.Status)}
	}
	envs, err := s.store.ListEnvironments(c.Request().Context(), comp.Project)
	if err != nil {
		return api.Deployment{}, err
	}
	if len(envs) == 0 {
		return api.Deployment{}, invalid("deploy", "project %s has no environment to deploy to", comp.Project)
	}
	d, err := s.deploys.Deploy(c.Request().Context(), comp, envs[0], b.ID, tokenName(c), s.isAdmin(c))
	if err != nil {
		return api.Deployment{}, err
	}
	return deploymentOf(d), nil
}

func newBuildAccepted(s delivery.Started) api.BuildAccepted {
	return api.BuildAccepted{ID: s.Build.ID, WorkflowID: s.Build.WorkflowID, Commit: s.Build.Commit, Status: s.Build.Status, Existing: s.Existing}
}

// scanBuilds calls fn with the component's builds newest first, starting after the build with ID after, until fn
// returns false or the builds run out.
func (s *Server) scanBuilds(ctx context.Context, project, component, after string, fn func(store.Build) bool) error {
	const batch = 200
	for {
		bs, err := s.store.ListBuilds(ctx, project, component, after, batch)
		if err != nil {
			return err
		}
		for _, b := range bs {
			if !fn(b) {
				return nil
			}
		}
		if len(bs) < batch {
			return nil
		}
		after = bs[len(bs)-1].ID
	}
}

// getBuild answers GET /api/v1/builds/{id}. While the build is queued or running, its steps come from its
// workflow's steps query, which is live; when the query fails (no worker, Temporal down) the stored steps are shown.
func (s *Server) getBuild(c echo.Context) error {
	ctx := c.Request().Context()
	b, err := s.store.GetBuild(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	v, err := s.buildView(ctx, b)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}

// buildView is b as GET /api/v1/builds/{id} shows it: with the newer run of its commit named and, while it
// runs, the steps its workflow reports now (the stored ones when the workflow does not answer).
func (s *Server) buildView(ctx context.Context, b store.Build) (api.Build, error) {
	views := []api.Build{delivery.BuildOf(b)}
	if err := s.markSuperseded(ctx, b.Project, b.Component, views); err != nil {
		return api.Build{}, err
	}
	v := views[0]
	if !buildFinished(b.Status) && s.temporal != nil && b.WorkflowID != "" {
		steps, err := s.querySteps(ctx, b)
		if err != nil {
			s.log.DebugContext(ctx, "build steps query failed; answering with the stored steps", "build", b.ID, "error", err)
		} else {
			v.Steps = steps
		}
	}
	return v, nil
}

// getBuildScan answers GET /api/v1/builds/{id}/scan: the full scan report, 404 until the build was scanned.
func (s *Server) getBuildScan(c echo.Context) error {
	r, err := s.store.GetBuildScan(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, r)
}

// querySteps asks the build's workflow for its steps.
func (s *Server) querySteps(ctx context.Context, b store.Build) ([]api.Step, error) {
	ctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	val, err := s.temporal.QueryWorkflow(ctx, b.WorkflowID, b.RunID, workflows.QueryBuildSteps)
	if err != nil {
		return nil, fmt.Errorf("querying the steps of %s: %w", b.WorkflowID, err)
	}
	var ws []api.Step
	if err := val.Get(&ws); err != nil {
		return nil, fmt.Errorf("decoding the steps of %s: %w", b.WorkflowID, err)
	}
	return append(make([]api.Step, 0, len(ws)), ws...), nil // [], not null, when the workflow has none
}

// listBuilds answers GET /api/v1/projects/{p}/components/{c}/builds?limit=&cursor=&status=: newest first; cursor
// is the ID of the last build of the previous page ("next"); status is one status or several, comma-separated.
func (s *Server) listBuilds(c echo.Context) error {
	limit := defaultPageSize
	if v := c.QueryParam("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxPageSize {
			return invalid("limit", "limit must be a whole number from 1 to %d", maxPageSize)
		}
		limit = n
	}
	keep := map[string]bool{}
	if v := c.QueryParam("status"); v != "" {
		for st := range strings.SplitSeq(v, ",") {
			switch st = strings.TrimSpace(st); st {
			case api.BuildQueued, api.BuildRunning, api.BuildSucceeded, api.BuildFailed, api.BuildCancelled:
				keep[st] = true
			default:
				return invalid("status", "status %q is not one of queued, running, succeeded, failed, cancelled", st)
			}
		}
	}
	ctx := c.Request().Context()
	p, name := c.Param("project"), c.Param("component")
	if _, err := s.store.GetComponent(ctx, p, name); err != nil {
		return err
	}
	cursor := c.QueryParam("cursor")
	if cursor != "" {
		b, err := s.store.GetBuild(ctx, cursor)
		if errors.Is(err, store.ErrNotFound) || err == nil && (b.Project != p || b.Component != name) {
			return invalid("cursor", "cursor is not one this list returned in \"next\"")
		}
		if err != nil {
			return err
		}
	}

	resp, err := s.buildsPage(ctx, p, name, cursor, limit, keep)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, resp)
}

// buildsPage is one page of the builds of component name of project p, newest first: limit builds after cursor
// (a build ID; "" means from the newest), only those whose status keep holds (every status when it is empty).
// Next is set when there are more.
func (s *Server) buildsPage(ctx context.Context, p, name, cursor string, limit int, keep map[string]bool) (api.Page[api.Build], error) {
	resp := api.Page[api.Build]{Items: []api.Build{}}
	if len(keep) == 0 {
		bs, err := s.store.ListBuilds(ctx, p, name, cursor, limit+1)
		if err != nil {
			return resp, err
		}
		for _, b := range bs[:min(len(bs), limit)] {
			resp.Items = append(resp.Items, delivery.BuildOf(b))
		}
		if len(bs) > limit {
			resp.Next = bs[limit-1].ID
		}
		return resp, s.markSuperseded(ctx, p, name, resp.Items)
	}
	// Filtered: read on until one match past the page shows that there is a next page.
	err := s.scanBuilds(ctx, p, name, cursor, func(b store.Build) bool {
		if !keep[b.Status] {
			return true
		}
		if len(resp.Items) == limit {
			resp.Next = resp.Items[limit-1].ID
			return false
		}
		resp.Items = append(resp.Items, delivery.BuildOf(b))
		return true
	})
	if err != nil {
		return resp, err
	}
	return resp, s.markSuperseded(ctx, p, name, resp.Items)
}

// markSuperseded sets SupersededBy on the views (builds of one component) that a newer run of their commit
// replaced, with one read of those commits' builds.
func (s *Server) markSuperseded(ctx context.Context, project, component string, views []api.Build) error {
	var commits []string
	for _, v := range views {
		if !slices.Contains(commits, v.Commit) {
			commits = append(commits, v.Commit)
		}
	}
	runs, err := s.store.BuildsOfCommits(ctx, project, component, commits...)
	if err != nil {
		return err
	}
	current := map[string]string{} // commit → its newest run that started (runs come newest first)
	for _, b := range runs {
		if _, seen := current[b.Commit]; !seen && !delivery.NeverStarted(b) {
			current[b.Commit] = b.ID
		}
	}
	for i, v := range views {
		if id := current[v.Commit]; id != "" && id != v.ID {
			views[i].SupersededBy = id
		}
	}
	return nil
}

// cancelBuild answers POST /api/v1/builds/{id}/cancel: 202 when cancellation was requested from the build's
// workflow (the build becomes cancelled when the workflow has stopped its work), 409 when the build has ended.
func (s *Server) cancelBuild(c echo.Context) error {
	ctx := c.Request().Context()
	b, err := s.store.GetBuild(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	if buildFinished(b.Status) {
		return errBuildFinished(b.ID, b.Status)
	}
	if s.temporal == nil {
		return errTemporalUnavailable("Temporal is not configured on this server, so builds cannot be cancelled")
	}
	tctx, cancel := context.WithTimeout(ctx, temporalTimeout)
	defer cancel()
	err = s.temporal.CancelWorkflow(tctx, b.WorkflowID, b.RunID)
	var notFound *serviceerror.NotFound
	var already *serviceerror.CancellationAlreadyRequested
	switch {
	case errors.As(err, &already):
		// Asked before: the answer is the same.
	case errors.As(err, &notFound):
		return &APIError{Status: http.StatusConflict, Code: "build_finished",
			Message: fmt.Sprintf("build %s has no running workflow: it has ended (or has not started yet)", b.ID)}
	case err != nil && delivery.Unreachable(err):
		return errTemporalUnavailable("Temporal is unavailable, so the build could not be cancelled; try again: %s", err)
	case err != nil:
		return fmt.Errorf("cancelling workflow %s of build %s: %w", b.WorkflowID, b.ID, err)
	}
	return c.JSON(http.StatusAccepted, api.BuildCancellation{ID: b.ID, WorkflowID: b.WorkflowID, Status: b.Status, CancelRequested: true})
}

// errBuildFinished is the 409 for changing a build that has ended.
func errBuildFinished(id, status string) *APIError {
	return &APIError{Status: http.StatusConflict, Code: "build_finished",
		Message: fmt.Sprintf("build %s has already ended (%s)", id, status)}
}
