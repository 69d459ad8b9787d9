package server

import (
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/slipway-dev/slipway/api"
	"github.com/slipway-dev/slipway/delivery"
	"github.com/slipway-dev/slipway/store"
)

// runFinished says whether a task run has its outcome.
func runFinished(status string) bool { return status == api.RunSucceeded || status == api.RunFailed }

// taskRunOf is r as the API shows it.
func taskRunOf(r store.TaskRun) api.TaskRun {
	out := api.TaskRun{ID: r.ID, Project: r.Project, Component: r.Component, Environment: r.Environment, Build: r.BuildID,
		Deployment: r.DeploymentID, Trigger: r.Trigger, Actor: r.Actor, Status: r.Status, ExitCode: r.ExitCode, Message: r.Message,
		WorkflowID: r.WorkflowID,
		CreatedAt:  r.CreatedAt, StartedAt: r.StartedAt, EndedAt: r.EndedAt}
	if r.StartedAt != nil && r.EndedAt != nil {
		out.DurationSeconds = r.EndedAt.Sub(*r.StartedAt).Seconds()
	}
	return out
}

// taskScheduleOf is ts as the API shows it, with its next runs after now.
func taskScheduleOf(ts store.TaskSchedule) api.TaskSchedule {
	return api.TaskSchedule{Environment: ts.Environment, Cron: ts.Cron, TimeZone: ts.TimeZone, Overlap: ts.Overlap,
		Paused: ts.Paused, Next: delivery.NextRuns(ts, time.Now(), 3), UpdatedAt: ts.UpdatedAt}
}

// putSchedule answers PUT /api/v1/projects/{p}/components/{c}/environments/{e}/schedule: when the scheduled task
// runs there; its Temporal Schedule is made or changed to match.
func (s *Server) putSchedule(c echo.Context) error {
	var f api.TaskScheduleFields
	if err := bind(c, &f); err != nil {
		return err
	}
	ctx := c.Request().Context()
	comp, err := s.store.GetComponent(ctx, c.Param("project"), c.Param("component"))
	if err != nil {
		return err
	}
	ts, err := s.tasks.SetSchedule(ctx, comp, c.Param("environment"), f)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, taskScheduleOf(ts))
}

// getSchedule answers GET …/environments/{e}/schedule.
func (s *Server) getSchedule(c echo.Context) error {
	ts, err := s.store.GetTaskSchedule(c.Request().Context(), c.Param("project"), c.Param("component"), c.Param("environment"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, taskScheduleOf(ts))
}

// deleteSchedule answers DELETE …/environments/{e}/schedule: no run starts there after.
func (s *Server) deleteSchedule(c echo.Context) error {
	ctx := c.Request().Context()
	comp, err := s.store.GetComponent(ctx, c.Param("project"), c.Param("component"))
	if err != nil {
		return err
	}
	if err := s.tasks.DeleteSchedule(ctx, comp, c.Param("environment")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// listSchedules answers GET /api/v1/projects/{p}/components/{c}/schedules: the task's schedules, by environment.
func (s *Server) listSchedules(c echo.Context) error {
	ctx := c.Request().Context()
	comp, err := s.store.GetComponent(ctx, c.Param("project"), c.Param("component"))
	if err != nil {
		return err
	}
	list, err := s.store.ListTaskSchedules(ctx, comp.Project, comp.Name)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, api.Page[api.TaskSchedule]{Items: nonNil(mapSlice(list, taskScheduleOf))})
}

// startRun answers POST /api/v1/projects/{p}/components/{c}/environments/{e}/runs: the task's release current
// there runs now; 202 with the run, queued.
func (s *Server) startRun(c echo.Context) error {
	ctx := c.Request().Context()
	comp, err := s.store.GetComponent(ctx, c.Param("project"), c.Param("component"))
	if err != nil {
		return err
	}
	run, err := s.tasks.Run(ctx, comp, c.Param("environment"), tokenName(c), s.isAdmin(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusAccepted, taskRunOf(run))
}

// listRuns answers GET /api/v1/projects/{p}/components/{c}/runs[?environment=][&cursor=][&limit=]: the task's
// runs, newest first.
func (s *Server) listRuns(c echo.Context) error {
	limit := defaultPageSize
	if v := c.QueryParam("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxPageSize {
			return invalid("limit", "limit must be a whole number from 1 to %d", maxPageSize)
		}
		limit = n
	}
	runs, err := s.store.ListTaskRuns(c.Request().Context(), c.Param("project"), c.Param("component"),
		c.QueryParam("environment"), c.QueryParam("cursor"), limit+1)
	if err != nil {
		return withField(err, "cursor")
	}
	page := api.Page[api.TaskRun]{Items: nonNil(mapSlice(runs[:min(len(runs), limit)], taskRunOf))}
	if len(runs) > limit {
		page.Next = runs[limit-1].ID
	}
	return c.JSON(http.StatusOK, page)
}

// getRun answers GET /api/v1/runs/{run}.
func (s *Server) getRun(c echo.Context) error {
	r, err := s.store.GetTaskRun(c.Request().Context(), c.Param("run"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, taskRunOf(r))
}
