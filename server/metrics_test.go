package server

import (
	"bufio"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// metricValue scrapes /metrics and returns the value of the sample whose line starts with series (0 if absent).
func (e *testEnv) metricValue(series string) float64 {
	e.t.Helper()
	rec := e.must(http.StatusOK, http.MethodGet, "/metrics", "", nil, nil)
	sc := bufio.NewScanner(strings.NewReader(rec.Body.String()))
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, series+" "); ok {
			v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
			if err != nil {
				e.t.Fatalf("metric line %q: %v", line, err)
			}
			return v
		}
	}
	return 0
}

func TestMetricsCountRequests(t *testing.T) {
	e := newTestEnv(t)
	healthz := `slipway_http_requests_total{method="GET",route="/healthz",status="200"}`
	before := e.metricValue(healthz)
	for range 3 {
		e.must(http.StatusOK, http.MethodGet, "/healthz", "", nil, nil)
	}
	if got := e.metricValue(healthz); got != before+3 {
		t.Errorf("healthz counter went from %v to %v, want +3", before, got)
	}

	e.createProject("shop")
	wantError(t, e.do(http.MethodGet, "/api/v1/projects/nope", e.viewer, nil), http.StatusNotFound, "not_found", "")
	if got := e.metricValue(`slipway_http_requests_total{method="GET",route="/api/v1/projects/:project",status="404"}`); got != 1 {
		t.Errorf("404 on a route template counted %v times, want 1", got)
	}
	if got := e.metricValue(`slipway_http_requests_total{method="POST",route="/api/v1/projects",status="201"}`); got != 1 {
		t.Errorf("project creation counted %v times, want 1", got)
	}
	e.do(http.MethodGet, "/no/such/path/123", "", nil)
	if got := e.metricValue(`slipway_http_requests_total{method="GET",route="unmatched",status="404"}`); got != 1 {
		t.Errorf("unmatched path counted %v times, want 1", got)
	}
	if got := e.metricValue(`slipway_http_request_duration_seconds_count{method="GET",route="/healthz"}`); got != 3 {
		t.Errorf("latency histogram count %v, want 3", got)
	}
}

func TestMetricsRegistriesArePrivate(t *testing.T) {
	a, b := newTestEnv(t), newTestEnv(t)
	a.must(http.StatusOK, http.MethodGet, "/healthz", "", nil, nil)
	if got := b.metricValue(`slipway_http_requests_total{method="GET",route="/healthz",status="200"}`); got != 0 {
		t.Errorf("second server sees the first one's requests: %v", got)
	}
}
