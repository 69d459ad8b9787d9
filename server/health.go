package server

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"go.temporal.io/sdk/client"

	"github.com/slipway-dev/slipway/api"
)

// readyTimeout bounds each readiness check.
const readyTimeout = 3 * time.Second

// healthz answers GET /healthz: the process is up.
func (s *Server) healthz(c echo.Context) error {
	return c.JSON(http.StatusOK, api.Health{Status: "ok"})
}

// readyz answers GET /readyz: 200 when the store and Temporal answer, else 503 naming the part that does not.
// Failures are logged here (with their detail) and not returned: the response itself is the report.
func (s *Server) readyz(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), readyTimeout)
	defer cancel()

	r := api.Readiness{Status: "ready", Checks: map[string]string{"store": "ok", "temporal": "ok"}}
	var notReady []string
	if err := s.store.Ping(ctx); err != nil {
		s.log.WarnContext(ctx, "readiness: store not reachable", "error", err)
		r.Checks["store"] = "unavailable"
		notReady = append(notReady, "store")
	}
	switch s.temporal {
	case nil:
		r.Checks["temporal"] = "not configured"
		notReady = append(notReady, "temporal")
	default:
		if _, err := s.temporal.CheckHealth(ctx, &client.CheckHealthRequest{}); err != nil {
			s.log.WarnContext(ctx, "readiness: temporal not healthy", "error", err)
			r.Checks["temporal"] = "unavailable"
			notReady = append(notReady, "temporal")
		}
	}
	if len(notReady) == 0 {
		return c.JSON(http.StatusOK, r)
	}
	r.Status = "not_ready"
	for i, part := range notReady {
		notReady[i] = part + " " + r.Checks[part]
	}
	r.Error = &api.Error{Code: "not_ready", Message: "not ready: " + strings.Join(notReady, "; ")}
	return c.JSON(http.StatusServiceUnavailable, r)
}
