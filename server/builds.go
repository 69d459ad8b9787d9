package server

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/slipway-dev/slipway/api"
	"github.com/slipway-dev/slipway/descriptor"
	"github.com/slipway-dev/slipway/gitsource"
	"github.com/slipway-dev/slipway/store"
	"github.com/slipway-dev/slipway/workflows"
)

// Time limits of the calls a build request makes to Git and Temporal.
const (
	// resolveTimeout bounds resolving the requested commit in the component's repository.
	resolveTimeout = 30 * time.Second
	// temporalTimeout bounds starting and cancelling a build workflow, and recording the outcome.
	temporalTimeout = 10 * time.Second
	// queryTimeout bounds the steps query of a running build; the stored steps are shown after it.
	queryTimeout = 2 * time.Second
)

// startAttempts is how many build IDs a trigger tries before giving up (IDs of builds that never started are
// skipped).
const startAttempts = 3

// triggerManual is the trigger kind (and SlipwayTrigger search attribute value) of a build started through the API.
const triggerManual = "manual"

// buildOf is b as the API shows it.
func buildOf(b store.Build) api.Build {
	v := api.Build{
		ID: b.ID, Project: b.Project, Component: b.Component, Status: b.Status, Commit: b.Commit,
		Trigger: api.Trigger(b.Trigger), Digest: b.Digest, ImageSize: b.ImageSize, Steps: nonNil(b.Steps), Scan: b.Scan,
		Required: []api.RequiredConfig{}, Error: b.Error, WorkflowID: b.WorkflowID, RunID: b.RunID,
		CreatedAt: b.CreatedAt, StartedAt: b.StartedAt, EndedAt: b.EndedAt,
	}
	if d := b.Descriptor; d != nil {
		v.Descriptor = &api.DescriptorSource{Source: api.DescriptorRepository, Endpoints: len(d.Endpoints)}
		if d.Default {
			v.Descriptor.Source = api.DescriptorDefault
			v.Descriptor.Note = "no " + descriptor.Path + " at this commit: endpoints come from the image's EXPOSE; " +
				"no health check beyond the process running; nothing required"
		}
		for _, r := range d.Required.Configs {
			v.Required = append(v.Required, api.RequiredConfig{Name: r.Name})
		}
		for _, r := range d.Required.Secrets {
			v.Required = append(v.Required, api.RequiredConfig{Name: r.Name, Secret: true})
		}
	}
	return v
}

// buildID is the API's ID of the build run by the workflow with this ID: "b-" and 16 hex digits of its SHA-256.
// Deterministic, so that a repeated trigger finds the build it already made.
func buildID(workflowID string) string {
	sum := sha256.Sum256([]byte(workflowID))
	return "b-" + hex.EncodeToString(sum[:8])
}

// buildFinished reports whether a build in this status can no longer change.
func buildFinished(status string) bool {
	return status == api.BuildSucceeded || status == api.BuildFailed || status == api.BuildCancelled
}

// neverStarted reports whether b is a build whose workflow the API failed to start: only then is a build failed
// without a run. Such a build does not count as the commit's build, so the next trigger makes a new one.
func neverStarted(b store.Build) bool { return b.Status == api.BuildFailed && b.RunID == "" }

// errTemporalUnavailable is the 503 for a build request that needs Temporal when it cannot be reached.
func errTemporalUnavailable(format string, args ...any) *APIError {
	return &APIError{Status: http.StatusServiceUnavailable, Code: "temporal_unavailable", Message: fmt.Sprintf(format, args...)}
}

// temporalUnreachable reports whether err means Temporal did not answer (down, overloaded or too slow), as opposed
// to answering with a refusal.
func temporalUnreachable(err error) bool {
	var unavailable *serviceerror.Unavailable
	var deadline *serviceerror.DeadlineExceeded
	var exhausted *serviceerror.ResourceExhausted
	return errors.As(err, &unavailable) || errors.As(err, &deadline) || errors.As(err, &exhausted) ||
		errors.Is(err, context.DeadlineExceeded)
}

// resolveError explains why the commit could not be resolved; gitsource's messages carry no credentials.
// withCredential says whether the component's stored credential was used.
func resolveError(ref string, withCredential bool, err error) error {
	access := "anonymous access"
	if withCredential {
		access = "the component's repo credential"
	}
	switch {
	case errors.Is(err, gitsource.ErrUnknownRef):
		return &APIError{Status: http.StatusUnprocessableEntity, Code: "unknown_commit", Field: "commit",
			Message: fmt.Sprintf("commit %q names no commit of the component's repository: %s", ref, err)}
	case errors.Is(err, gitsource.ErrAuth):
		return &APIError{Status: http.StatusUnprocessableEntity, Code: "repo_auth_failed", Field: "repo",
			Message: fmt.Sprintf("the component's repository refused %s: %s", access, err)}
	case errors.Is(err, gitsource.ErrRepoNotFound):
		return &APIError{Status: http.StatusUnprocessableEntity, Code: "repo_not_found", Field: "repo",
			Message: fmt.Sprintf("the component's repository was not found: %s", err)}
	}
	return &APIError{Status: http.StatusBadGateway, Code: "git_unavailable",
		Message: fmt.Sprintf("the component's repository could not be read; try again: %s", err)}
}

// triggerBuild answers POST /api/v1/projects/{p}/components/{c}/builds {"commit"?, "rebuild"?}: 202 with the new
// build, or 200 with "existing": true when the commit has a build already and no rebuild was asked.
//
// The build row is created before the workflow is started, under an ID derived from the workflow ID, so a
// repeated or concurrent trigger finds it; the workflow is started with USE_EXISTING, so it never runs twice.
// When Temporal cannot start it, the row is marked failed (never left queued) and the next trigger of the commit
// makes a new build.
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
	if s.temporal == nil {
		return errTemporalUnavailable("Temporal is not configured on this server, so builds cannot run")
	}
	if s.registry == "" {
		return &APIError{Status: http.StatusServiceUnavailable, Code: "registry_not_configured",
			Message: "no image registry is configured on this server, so builds cannot be pushed"}
	}

	ref := req.Commit
	if ref == "" {
		ref = comp.Branch
	}
	cred, withCredential, err := s.repoCredential(ctx, comp.Project, comp.Name)
	if err != nil {
		return err
	}
	rctx, cancel := context.WithTimeout(ctx, resolveTimeout)
	sha, err := s.resolve(rctx, comp.Repo, ref, cred.Auth())
	cancel()
	if err != nil {
		return resolveError(ref, withCredential, err)
	}

	got, err := s.buildCommit(ctx, comp, sha, store.Trigger{Kind: triggerManual, Actor: tokenName(c)}, req.Rebuild)
	if err != nil {
		return err
	}
	if got.Existing {
		return c.JSON(http.StatusOK, got)
	}
	return c.JSON(http.StatusAccepted, got)
}

// buildCommit builds commit sha of the component once: it answers with the commit's newest build when it has one
// (Existing, unless rebuild asks for a new one), else stores a build and starts its workflow. A rebuild is the
// commit's next attempt; builds whose workflow never started do not count as the commit's build.
func (s *Server) buildCommit(ctx context.Context, comp store.Component, sha string, trigger store.Trigger, rebuild bool) (api.BuildAccepted, error) {
	for range startAttempts {
		// Most triggers of a commit that has a build (redeliveries, a second webhook) end here, on a read.
		builds, err := s.store.BuildsOfCommits(ctx, comp.Project, comp.Name, sha)
		if err != nil {
			return api.BuildAccepted{}, err
		}
		if newest, ok := newestRun(builds); ok && !rebuild {
			return s.answerExisting(ctx, comp, newest), nil
		}
		wid := workflows.BuildWorkflowID(comp.Project, comp.Name, sha, len(builds)+1)
		b, err := s.store.CreateBuild(ctx, store.Build{
			ID: buildID(wid), Project: comp.Project, Component: comp.Name, Commit: sha, Trigger: trigger, WorkflowID: wid,
		})
		if err == nil {
			return s.startBuild(ctx, comp, b)
		}
		if !errors.Is(err, store.ErrExists) {
			return api.BuildAccepted{}, err
		}
		// A concurrent trigger stored this attempt first: it is the answer, unless its workflow never started.
		existing, err := s.store.GetBuild(ctx, buildID(wid))
		if err != nil {
			return api.BuildAccepted{}, err
		}
		if !neverStarted(existing) {
			return s.answerExisting(ctx, comp, existing), nil
		}
	}
	return api.BuildAccepted{}, fmt.Errorf("no free build ID for commit %s of %s/%s after %d attempts", sha, comp.Project, comp.Name, startAttempts)
}

// newestRun returns the newest of a commit's builds (given newest first) that is not one whose workflow never
// started: the commit's current build.
func newestRun(builds []store.Build) (store.Build, bool) {
	i := slices.IndexFunc(builds, func(b store.Build) bool { return !neverStarted(b) })
	if i < 0 {
		return store.Build{}, false
	}
	return builds[i], true
}

// answerExisting answers a trigger with the build the commit already has ("existing": true). A build still
// queued without a run long after it was stored may be one whose trigger died between storing it and starting
// its workflow: its workflow is started (USE_EXISTING makes that a no-op when it runs already), so it cannot stay
// queued for ever.
func (s *Server) answerExisting(ctx context.Context, comp store.Component, b store.Build) api.BuildAccepted {
	// A build queued moments ago is its trigger's to start (which is under way): only one left queued longer
	// than a start can take is started here.
	if b.Status == api.BuildQueued && b.RunID == "" && time.Since(b.CreatedAt) >= s.queuedGrace {
		if runID, err := s.executeBuild(ctx, comp, b); err == nil {
			s.recordRun(ctx, b.ID, runID)
		} else {
			s.log.WarnContext(ctx, "starting the workflow of a queued build failed",
				"build", b.ID, "workflow", b.WorkflowID, "error", err)
		}
	}
	return api.BuildAccepted{ID: b.ID, WorkflowID: b.WorkflowID, Commit: b.Commit, Status: b.Status, Existing: true}
}

// startBuild starts the workflow of the build just stored. When Temporal cannot start it, the build is marked
// failed with the reason and the request fails.
func (s *Server) startBuild(ctx context.Context, comp store.Component, b store.Build) (api.BuildAccepted, error) {
	runID, err := s.executeBuild(ctx, comp, b)
	if err != nil {
		var apiErr *APIError
		var started *serviceerror.WorkflowExecutionAlreadyStarted
		switch {
		case errors.As(err, &started):
			apiErr = &APIError{Status: http.StatusConflict, Code: "workflow_exists", Message: fmt.Sprintf(
				"workflow %s has already run (Temporal keeps closed workflows until their retention ends); trigger again to build under a new ID", b.WorkflowID)}
		case temporalUnreachable(err):
			apiErr = errTemporalUnavailable("Temporal is unavailable, so the build could not start; try again: %s", err)
		}
		s.failUnstarted(ctx, b.ID, err)
		if apiErr != nil {
			return api.BuildAccepted{}, apiErr
		}
		return api.BuildAccepted{}, err
	}
	s.recordRun(ctx, b.ID, runID)
	return api.BuildAccepted{ID: b.ID, WorkflowID: b.WorkflowID, Commit: b.Commit, Status: b.Status}, nil
}

// executeBuild starts (or, with USE_EXISTING, finds) the build's workflow and returns its run ID. The input
// holds the component's settings as they are now and no secret.
func (s *Server) executeBuild(ctx context.Context, comp store.Component, b store.Build) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, temporalTimeout)
	defer cancel()
	opts := client.StartWorkflowOptions{
		ID:                       b.WorkflowID,
		TaskQueue:                workflows.TaskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		// With a worker in this process (slipway dev) the first workflow task runs at once, skipping a trip
		// through Temporal's matching; elsewhere this does nothing.
		EnableEagerStart: true,
		TypedSearchAttributes: temporal.NewSearchAttributes(
			temporal.NewSearchAttributeKeyKeyword(workflows.SearchAttrProject).ValueSet(b.Project),
			temporal.NewSearchAttributeKeyKeyword(workflows.SearchAttrComponent).ValueSet(b.Component),
			temporal.NewSearchAttributeKeyKeyword(workflows.SearchAttrCommit).ValueSet(b.Commit),
			temporal.NewSearchAttributeKeyKeyword(workflows.SearchAttrTrigger).ValueSet(b.Trigger.Kind),
		),
	}
	project, err := s.store.GetProject(ctx, b.Project)
	if err != nil {
		return "", fmt.Errorf("reading the scan policy: %w", err)
	}
	in := workflows.BuildPipelineInput{
		BuildID: b.ID, Project: b.Project, Component: b.Component, Repo: comp.Repo, Commit: b.Commit,
		Dockerfile: comp.Dockerfile, Context: comp.Context, Repository: s.registry + "/" + b.Project + "/" + b.Component,
		ScanPolicy: project.ScanPolicy, AutoDeploy: comp.AutoDeploy,
	}
	run, err := s.temporal.ExecuteWorkflow(ctx, opts, workflows.BuildPipeline, in)
	if err != nil {
		return "", fmt.Errorf("starting workflow %s: %w", b.WorkflowID, err)
	}
	return run.GetRunID(), nil
}

// recordRun stores the run ID of the build's workflow unless the worker has already (it records it too, when
// the run starts). A failure is logged, not returned: the workflow runs whatever the row says.
func (s *Server) recordRun(ctx context.Context, id, runID string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), temporalTimeout)
	defer cancel()
	_, err := s.store.UpdateBuild(ctx, id, func(b *store.Build) error {
		if b.RunID == "" {
			b.RunID = runID
		}
		return nil
	})
	if err != nil && !errors.Is(err, store.ErrInvalid) { // ErrInvalid: the build has finished already.
		s.log.WarnContext(ctx, "recording the run of a build failed", "build", id, "run", runID, "error", err)
	}
}

// failUnstarted marks a build whose workflow could not be started as failed, so it is not left queued. It runs
// even when the client has gone away.
func (s *Server) failUnstarted(ctx context.Context, id string, cause error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), temporalTimeout)
	defer cancel()
	_, err := s.store.UpdateBuild(ctx, id, func(b *store.Build) error {
		now := time.Now().UTC()
		b.Status, b.Error, b.EndedAt = api.BuildFailed, "the build could not start: "+cause.Error(), &now
		return nil
	})
	if err != nil {
		s.log.ErrorContext(ctx, "marking a build that could not start as failed failed", "build", id, "cause", cause, "error", err)
	}
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
	views := []api.Build{buildOf(b)}
	if err := s.markSuperseded(ctx, b.Project, b.Component, views); err != nil {
		return err
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
	return c.JSON(http.StatusOK, v)
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

	resp := api.Page[api.Build]{Items: []api.Build{}}
	if len(keep) == 0 {
		bs, err := s.store.ListBuilds(ctx, p, name, cursor, limit+1)
		if err != nil {
			return err
		}
		for _, b := range bs[:min(len(bs), limit)] {
			resp.Items = append(resp.Items, buildOf(b))
		}
		if len(bs) > limit {
			resp.Next = bs[limit-1].ID
		}
		if err := s.markSuperseded(ctx, p, name, resp.Items); err != nil {
			return err
		}
		return c.JSON(http.StatusOK, resp)
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
		resp.Items = append(resp.Items, buildOf(b))
		return true
	})
	if err != nil {
		return err
	}
	if err := s.markSuperseded(ctx, p, name, resp.Items); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, resp)
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
		if _, seen := current[b.Commit]; !seen && !neverStarted(b) {
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
	case err != nil && temporalUnreachable(err):
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
