package server

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/slipway-dev/slipway/api"
	"github.com/slipway-dev/slipway/store"
)

// doraHistory stores, in shop's production, api's b1 serving 2h after its commit, b2 failing and b3 (which has no
// commit time) restoring 30 minutes later; and one success in development.
func (e *testEnv) doraHistory() {
	e.t.Helper()
	ctx := context.Background()
	e.createProject("shop")
	e.createComponent("shop", "api")
	now := time.Now().UTC()
	ago := func(d time.Duration) *time.Time { t := now.Add(-d); return &t }
	for i, b := range []store.Build{
		{ID: "b-1", CommittedAt: ago(3 * time.Hour)}, {ID: "b-2", CommittedAt: ago(2 * time.Hour)}, {ID: "b-3"},
	} {
		b.Project, b.Component, b.Commit, b.Status = "shop", "api", string(rune('a'+i))+shaMain[1:], api.BuildSucceeded
		if _, err := e.st.CreateBuild(ctx, b); err != nil {
			e.t.Fatal(err)
		}
	}
	for _, d := range []store.Deployment{
		{ID: "d-1", Environment: "production", BuildID: "b-1", Status: api.DeploymentSucceeded, EndedAt: ago(time.Hour)},
		{ID: "d-2", Environment: "production", BuildID: "b-2", Status: api.DeploymentFailed, EndedAt: ago(50 * time.Minute)},
		{ID: "d-3", Environment: "production", BuildID: "b-3", Status: api.DeploymentSucceeded, EndedAt: ago(20 * time.Minute)},
		{ID: "d-4", Environment: "development", BuildID: "b-3", Status: api.DeploymentSucceeded, EndedAt: ago(40 * time.Minute)},
	} {
		d.Project, d.Component = "shop", "api"
		if _, err := e.st.CreateDeployment(ctx, d); err != nil {
			e.t.Fatal(err)
		}
	}
}

func TestDORA(t *testing.T) {
	e := newTestEnv(t)
	e.doraHistory()

	var f api.DORA
	e.must(http.StatusOK, http.MethodGet, "/api/v1/projects/shop/dora?days=7", e.viewer, nil, &f)
	if f.Project != "shop" || f.Environment != "production" || f.Days != 7 || len(f.Daily) != 7 {
		t.Fatalf("figures %+v: want production's over 7 days", f)
	}
	if df := f.DeploymentFrequency; df.Deployments != 2 || df.Band != api.BandHigh {
		t.Errorf("deployment frequency %+v, want 2 in 7 days: high", df)
	}
	if lt := f.LeadTime; lt.Changes != 2 || lt.Fallbacks != 1 || lt.P90Seconds < 6000 || lt.P90Seconds > 7200 || lt.Band != api.BandElite {
		t.Errorf("lead time %+v, want 2 changes (b-3's from its build), p90 near 2h", lt)
	}
	if cfr := f.ChangeFailureRate; cfr.Deployments != 3 || cfr.Failed != 1 || cfr.Band != api.BandLow {
		t.Errorf("change failure rate %+v, want 1 of 3: low", cfr)
	}
	if r := f.TimeToRestore; r.Restored != 1 || r.MedianSeconds != 1800 || r.Band != api.BandElite {
		t.Errorf("time to restore %+v, want 30 minutes once: elite", r)
	}
	if len(f.Environments) != 2 || f.Environments[0] != (api.EnvironmentDORA{Environment: "development", Succeeded: 1}) {
		t.Errorf("environments %+v, want development's success first", f.Environments)
	}
	succeeded, failed := 0, 0
	for _, d := range f.Daily {
		succeeded, failed = succeeded+d.Succeeded, failed+d.Failed
	}
	if last := f.Daily[6].Day; last != f.Until.Format(time.DateOnly) || succeeded != 2 || failed != 1 {
		t.Errorf("daily %+v: want 2 succeeded and 1 failed, ending today", f.Daily)
	}

	// The default period, one component, and the build shows its commit time.
	e.must(http.StatusOK, http.MethodGet, "/api/v1/projects/shop/dora?component=api", e.viewer, nil, &f)
	if f.Days != api.DORADefaultDays || f.Component != "api" || f.DeploymentFrequency.Deployments != 2 {
		t.Errorf("api's figures over the default period %+v", f)
	}
	var b api.Build
	e.must(http.StatusOK, http.MethodGet, "/api/v1/builds/b-1", e.viewer, nil, &b)
	if b.CommittedAt == nil {
		t.Errorf("build %+v has no committedAt", b)
	}

	for _, days := range []string{"0", "366", "a week"} {
		wantError(t, e.do(http.MethodGet, "/api/v1/projects/shop/dora?days="+url.QueryEscape(days), e.viewer, nil), http.StatusBadRequest, "invalid_query", "days")
	}
	wantError(t, e.do(http.MethodGet, "/api/v1/projects/shop/dora?component=nope", e.viewer, nil), http.StatusNotFound, "not_found", "")
	wantError(t, e.do(http.MethodGet, "/api/v1/projects/nope/dora", e.viewer, nil), http.StatusNotFound, "not_found", "")
	wantError(t, e.do(http.MethodGet, "/api/v1/projects/shop/dora", "", nil), http.StatusUnauthorized, "unauthorized", "")
}
