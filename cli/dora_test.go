package cli

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/slipway-dev/slipway/api"
	"github.com/slipway-dev/slipway/store"
)

func TestDORA(t *testing.T) {
	a := newRealAPI(t)
	ctx := t.Context()
	if _, err := a.st.CreateProject(ctx, store.Project{Name: "shop"}, []store.Environment{{Name: "development"}, {Name: "production"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.st.CreateComponent(ctx, store.Component{Project: "shop", Name: "api", Repo: "https://git.example/api.git", Branch: "main"}); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	ago := func(d time.Duration) *time.Time { t := now.Add(-d); return &t }
	for i, committed := range []*time.Time{ago(5 * time.Hour), ago(4 * time.Hour)} {
		id := "b-" + string(rune('1'+i))
		if _, err := a.st.CreateBuild(ctx, store.Build{ID: id, Project: "shop", Component: "api",
			Commit: strings.Repeat(string(rune('a'+i)), 40), CommittedAt: committed}); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range []store.Deployment{
		{ID: "d-1", BuildID: "b-1", Status: api.DeploymentSucceeded, EndedAt: ago(3 * time.Hour)}, // 2h after its commit
		{ID: "d-2", BuildID: "b-2", Status: api.DeploymentRolledBack, EndedAt: ago(2 * time.Hour)},
		{ID: "d-3", BuildID: "b-1", Status: api.DeploymentSucceeded, EndedAt: ago(time.Hour)}, // the rollback: restored in 1h
	} {
		d.Project, d.Component, d.Environment = "shop", "api", "production"
		if _, err := a.st.CreateDeployment(ctx, d); err != nil {
			t.Fatal(err)
		}
	}

	code, stdout, stderr := a.run("", "dora", "shop", "--days", "7")
	if code != 0 {
		t.Fatalf("dora: exit %d, stderr %s", code, stderr)
	}
	for _, want := range []string{
		"DORA figures of shop in production, the last 7 days",
		"deployment frequency   0.29 a day (2 succeeded)",
		"lead time for changes  median 2h, p90 2h (1 changes)",
		"change failure rate    33% (1 of 3: 0 failed, 1 rolled back)",
		"time to restore        median 1h (1 restored)",
		"production   2          0       1            33%           1h",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("dora table lacks %q:\n%s", want, stdout)
		}
	}

	code, stdout, stderr = a.run("", "dora", "shop", "--component", "api", "-o", "json")
	var f api.DORA
	if code != 0 || json.Unmarshal([]byte(stdout), &f) != nil {
		t.Fatalf("dora -o json: exit %d, stdout %s, stderr %s", code, stdout, stderr)
	}
	if f.Days != api.DORADefaultDays || f.Component != "api" || f.ChangeFailureRate.RolledBack != 1 || len(f.Daily) != api.DORADefaultDays {
		t.Errorf("dora -o json: %+v", f)
	}

	if code, _, stderr := a.run("", "dora", "shop", "--days", "400"); code != exitUsage || !strings.Contains(stderr, "--days 400") {
		t.Errorf("dora --days 400: exit %d, stderr %s; want a usage error", code, stderr)
	}
	if code, _, stderr := a.run("", "dora", "shop", "--component", "nope"); code == 0 || !strings.Contains(stderr, "not found") {
		t.Errorf("dora --component nope: exit %d, stderr %s; want not found", code, stderr)
	}
}
