package server

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"go.temporal.io/sdk/client"

	"github.com/slipway-dev/slipway/api"
)

// healthClient is a Temporal client whose only working method is CheckHealth.
type healthClient struct {
	client.Client
	err error
}

func (h healthClient) CheckHealth(context.Context, *client.CheckHealthRequest) (*client.CheckHealthResponse, error) {
	return &client.CheckHealthResponse{}, h.err
}

func TestHealthz(t *testing.T) {
	e := newTestEnv(t)
	var body map[string]string
	e.must(http.StatusOK, http.MethodGet, "/healthz", "", nil, &body)
	if body["status"] != "ok" {
		t.Errorf("healthz %v", body)
	}
}

func TestReadyzWithoutTemporal(t *testing.T) {
	e := newTestEnv(t)
	var r api.Readiness
	e.must(http.StatusServiceUnavailable, http.MethodGet, "/readyz", "", nil, &r)
	if r.Status != "not_ready" || r.Checks["store"] != "ok" || r.Checks["temporal"] != "not configured" {
		t.Errorf("readyz %+v", r)
	}
	if r.Error == nil || r.Error.Code != "not_ready" || r.Error.Message != "not ready: temporal not configured" {
		t.Errorf("readyz error %+v", r.Error)
	}
}

func TestReadyzWithTemporal(t *testing.T) {
	e := newTestEnv(t, func(d *Deps) { d.Temporal = healthClient{} })
	var r api.Readiness
	e.must(http.StatusOK, http.MethodGet, "/readyz", "", nil, &r)
	if r.Status != "ready" || r.Checks["store"] != "ok" || r.Checks["temporal"] != "ok" || r.Error != nil {
		t.Errorf("readyz %+v", r)
	}

	down := newTestEnv(t, func(d *Deps) { d.Temporal = healthClient{err: errors.New("connection refused")} })
	down.must(http.StatusServiceUnavailable, http.MethodGet, "/readyz", "", nil, &r)
	if r.Checks["temporal"] != "unavailable" || r.Checks["store"] != "ok" {
		t.Errorf("readyz with Temporal down %+v", r)
	}
}

func TestReadyzStoreDown(t *testing.T) {
	e := newTestEnv(t, func(d *Deps) { d.Temporal = healthClient{} })
	if err := e.st.Close(); err != nil {
		t.Fatal(err)
	}
	var r api.Readiness
	e.must(http.StatusServiceUnavailable, http.MethodGet, "/readyz", "", nil, &r)
	if r.Checks["store"] != "unavailable" || r.Checks["temporal"] != "ok" {
		t.Errorf("readyz with store closed %+v", r)
	}
}
