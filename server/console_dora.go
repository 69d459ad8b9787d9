package server

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/slipway-dev/slipway/api"
	"github.com/slipway-dev/slipway/console"
)

// doraPage is GET /projects/{p}/dora[?component=&days=]: the project's (or one component's) DORA figures over the
// last days (api.DORADefaultDays when absent), with a chart of the deployments per day.
func (s *Server) doraPage(c echo.Context) error {
	ctx := c.Request().Context()
	p, err := s.store.GetProject(ctx, c.Param("project"))
	if err != nil {
		return err
	}
	days := api.DORADefaultDays
	if v := c.QueryParam("days"); v != "" {
		if days, err = strconv.Atoi(v); err != nil || days < 1 || days > api.DORAMaxDays {
			return &APIError{Status: http.StatusBadRequest, Code: "invalid_query", Field: "days",
				Message: fmt.Sprintf("days %q: want a whole number from 1 to %d", v, api.DORAMaxDays)}
		}
	}
	f, err := s.dora().Figures(ctx, p.Name, c.QueryParam("component"), days)
	if err != nil {
		return err
	}
	comps, err := s.store.ListComponents(ctx, p.Name)
	if err != nil {
		return err
	}
	nav, err := s.projectNav(ctx, p.Name, console.TabDORA)
	if err != nil {
		return err
	}
	l := layout(c, p.Name+" · DORA", console.Crumb{Label: p.Name, Href: projectPath(p.Name)}, console.Crumb{Label: "DORA"})
	l.FollowProject = p.Name
	names := make([]string, len(comps))
	for i, comp := range comps {
		names[i] = comp.Name
	}
	return s.render(c, http.StatusOK, "dora", console.NewDORAPage(l, nav, f, names))
}
