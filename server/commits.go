package server

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/slipway-dev/slipway/api"
	"github.com/slipway-dev/slipway/delivery"
)

// defaultCommits is how many commits GET …/commits lists without ?limit=; delivery.MaxCommits is the most.
const defaultCommits = 20

// listCommits answers GET /api/v1/projects/{p}/components/{c}/commits?limit=: the newest limit commits of the
// component's branch (default 20, at most delivery.MaxCommits), newest first along first parents, each with the
// commit's build when it has one (see delivery.Builds.Commits). A limit that is not a whole number in range is a
// 400 invalid_query; a branch or repository that cannot be read is delivery's refusal (422 or 502).
func (s *Server) listCommits(c echo.Context) error {
	limit := defaultCommits
	if v := c.QueryParam("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > delivery.MaxCommits {
			return &APIError{Status: http.StatusBadRequest, Code: "invalid_query", Field: "limit",
				Message: fmt.Sprintf("limit %q: want a whole number from 1 to %d", v, delivery.MaxCommits)}
		}
		limit = n
	}
	ctx := c.Request().Context()
	comp, err := s.store.GetComponent(ctx, c.Param("project"), c.Param("component"))
	if err != nil {
		return err
	}
	commits, err := s.builds.Commits(ctx, comp, limit)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, api.Commits{Items: nonNil(commits)})
}
