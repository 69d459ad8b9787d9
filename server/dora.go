package server

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/slipway-dev/slipway/api"
	"github.com/slipway-dev/slipway/delivery"
)

// dora is the DORA figures' use case over the server's store, on the wall clock.
func (s *Server) dora() *delivery.DORA { return &delivery.DORA{Store: s.store} }

// getDORA answers GET /api/v1/projects/{p}/dora?component=&days=: the DORA figures of the project, or of one
// component, over the last days UTC days (api.DORADefaultDays when absent). A days that is not a whole number from
// 1 to api.DORAMaxDays is a 400 invalid_query naming it; an unknown project or component a 404.
func (s *Server) getDORA(c echo.Context) error {
	days := api.DORADefaultDays
	if v := c.QueryParam("days"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > api.DORAMaxDays {
			return &APIError{Status: http.StatusBadRequest, Code: "invalid_query", Field: "days",
				Message: fmt.Sprintf("days %q: want a whole number from 1 to %d", v, api.DORAMaxDays)}
		}
		days = n
	}
	f, err := s.dora().Figures(c.Request().Context(), c.Param("project"), c.QueryParam("component"), days)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, f)
}
