package server

import (
	"errors"
	"log/slog"
	"time"

	"github.com/labstack/echo/v4"
)

// unmatchedRoute is the route label of requests no route matched, so paths cannot blow up metric cardinality.
const unmatchedRoute = "unmatched"

// observe is the outermost middleware: it answers a handler's error through the central error handler, then
// counts the request and writes its one log line (method, route, status, latency, token name; never the body).
func (s *Server) observe(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		elapsed := time.Since(start)

		req := c.Request()
		route := c.Path()
		if route == "" || errors.Is(err, echo.ErrNotFound) {
			route = unmatchedRoute
		}
		status := c.Response().Status
		s.metrics.observe(req.Method, route, status, elapsed)

		attrs := []slog.Attr{
			slog.String("method", req.Method),
			slog.String("route", route),
			slog.String("path", req.URL.Path),
			slog.Int("status", status),
			slog.Duration("latency", elapsed),
			slog.String("token", tokenName(c)),
		}
		level := slog.LevelInfo
		if cause, ok := c.Get(causeKey).(error); ok {
			level = slog.LevelError
			attrs = append(attrs, slog.String("error", cause.Error()))
		}
		s.log.LogAttrs(req.Context(), level, "http request", attrs...)
		return nil
	}
}
