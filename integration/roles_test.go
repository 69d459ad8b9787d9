package integration

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slipway-dev/slipway/baseimages"
)

// refused sends the request with a's token and wants 403 forbidden in the JSON error shape, naming field when it
// is not "".
func refused(t *testing.T, a api, method, path string, body any, field string) {
	t.Helper()
	var out struct {
		Error struct{ Code, Message, Field string } `json:"error"`
	}
	if err := json.Unmarshal(a.call(method, path, body, http.StatusForbidden, nil), &out); err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	if out.Error.Code != "forbidden" || out.Error.Field != field || !strings.Contains(out.Error.Message, "admin") {
		t.Fatalf("%s %s: refused with %+v, want forbidden naming %q and who may", method, path, out.Error, field)
	}
}

// TestOnlyAnAdminReachesProduction walks every way into a production environment with a developer's token
// against slipway dev — creating one, flagging and unflagging one, reordering, a build's auto-deploy into a
// production-first project, promotion, a rollback or redeploy — and wants each refused (nothing deployed there),
// then does the same with the admin token, which may.
func TestOnlyAnAdminReachesProduction(t *testing.T) {
	if _, err := os.Stat(baseimages.BusyboxBinary); err != nil {
		t.Skipf("%s missing: %v", baseimages.BusyboxBinary, err)
	}
	dockerEngine(t)
	dir := t.TempDir()
	cfg := devConfig(filepath.Join(dir, "data"))
	cfg.Deploy.ReadyTimeout = 8 * time.Second
	dev := startDevWith(t, cfg)
	admin := newAPI(t, dev, filepath.Join(dir, "data"))
	var minted struct {
		Token string `json:"token"`
	}
	admin.call("POST", "/api/v1/tokens", map[string]any{"name": "dev", "role": "developer"}, http.StatusCreated, &minted)
	developer := api{t: t, base: admin.base, token: minted.Token}

	project := "roles" + strings.ToLower(time.Now().Format("150405"))
	developer.call("POST", "/api/v1/projects", map[string]any{"name": project}, http.StatusCreated, nil)
	withoutApprovals(t, admin, project)
	t.Cleanup(func() { removeContainersOf(t, project) })
	envs := "/api/v1/projects/" + project + "/environments"
	base := "/api/v1/projects/" + project + "/components/hello"

	// Environments: a developer adds a plain one, but neither creates, flags nor unflags a production one.
	developer.call("POST", envs, map[string]any{"name": "staging"}, http.StatusCreated, nil)
	refused(t, developer, "POST", envs, map[string]any{"name": "live", "production": true}, "production")
	refused(t, developer, "PATCH", envs+"/staging", map[string]any{"production": true}, "production")
	refused(t, developer, "PATCH", envs+"/production", map[string]any{"production": false}, "production")
	admin.call("POST", envs, map[string]any{"name": "live", "production": true}, http.StatusCreated, nil)
	admin.call("PATCH", envs+"/live", map[string]any{"production": false}, http.StatusOK, nil)
	admin.call("PATCH", envs+"/live", map[string]any{"production": true}, http.StatusOK, nil)

	// Reorder: production first is an admin's call.
	productionFirst := map[string]any{"order": []string{"production", "development", "staging", "live"}}
	refused(t, developer, "PUT", envs+"/order", productionFirst, "order")
	admin.call("PUT", envs+"/order", productionFirst, http.StatusOK, nil)

	// Auto-deploy into the production-first project: the build fails at its deploy step saying why, and nothing
	// is deployed (every value the build requires is there, so that is not why).
	src := filepath.Join(dir, "hello")
	gitRepo(t, src, filesUnder(t, filepath.Join("..", "examples", "hello")))
	developer.call("POST", "/api/v1/projects/"+project+"/components", map[string]any{"name": "hello", "repo": "file://" + src},
		http.StatusCreated, nil)
	for _, env := range []string{"development", "production"} {
		developer.call("PUT", base+"/environments/"+env+"/configs/GREETING", map[string]any{"value": "hi " + env}, http.StatusCreated, nil)
		developer.call("PUT", base+"/environments/"+env+"/configs/API_TOKEN", map[string]any{"value": "s3cret", "secret": true}, http.StatusCreated, nil)
	}
	developer.call("PATCH", base, map[string]any{"autoDeploy": true}, http.StatusOK, nil)
	build := func(a api) buildDetail {
		t.Helper()
		var started struct{ ID string }
		a.call("POST", base+"/builds", map[string]any{"rebuild": true}, http.StatusAccepted, &started)
		return waitBuild(t, a, started.ID, 3*time.Minute)
	}
	auto := build(developer)
	if auto.Status != "failed" || !strings.Contains(auto.Error, "AutoDeployToProduction") ||
		!strings.Contains(auto.Error, "production environment production") {
		t.Fatalf("auto-deploy into production: build %+v, want it failed saying why", auto)
	}
	steps := map[string]string{}
	for _, s := range auto.Steps {
		steps[s.Name] = s.Status
	}
	if steps["push"] != "succeeded" || steps["deploy"] != "failed" {
		t.Fatalf("auto-deploy into production: steps %+v, want push succeeded and deploy failed", auto.Steps)
	}
	noneInProduction := func(when string) {
		t.Helper()
		var deps struct {
			Items []struct {
				Environment string            `json:"environment"`
				Current     *deploymentState  `json:"current"`
				History     []deploymentState `json:"history"`
			} `json:"items"`
		}
		admin.call("GET", base+"/deployments", nil, http.StatusOK, &deps)
		for _, e := range deps.Items {
			if (e.Environment == "production" || e.Environment == "live") && (e.Current != nil || len(e.History) != 0) {
				t.Fatalf("%s: %s has deployments %+v", when, e.Environment, e.History)
			}
		}
	}
	noneInProduction("after the auto-deploy")

	// With development first again the same build auto-deploys there.
	admin.call("PUT", envs+"/order", map[string]any{"order": []string{"development", "staging", "production", "live"}}, http.StatusOK, nil)
	good := build(developer)
	if good.Status != "succeeded" {
		t.Fatalf("build %+v", good)
	}
	if got := waitDeployment(t, admin, base, "d-auto-"+strings.TrimPrefix(good.ID, "b-"), 2*time.Minute); got.Status != "succeeded" ||
		got.Environment != "development" {
		t.Fatalf("auto-deploy into development %+v", got)
	}
	noneInProduction("after the auto-deploy into development")

	// Promotion and rollback/redeploy of a succeeded build: the admin's, not the developer's.
	refused(t, developer, "POST", base+"/promote", map[string]any{"build": good.ID, "to": "production"}, "")
	refused(t, developer, "POST", base+"/promote", map[string]any{"to": "production"}, "")
	refused(t, developer, "POST", base+"/environments/production/deploy", map[string]any{"build": good.ID}, "")
	refused(t, developer, "POST", base+"/environments/production/deploy", map[string]any{"build": auto.ID}, "")
	noneInProduction("after the developer's promotion and deploys")

	if got := deployedBy(t, admin, base, admin.call("POST", base+"/promote", map[string]any{"build": good.ID, "to": "production"},
		http.StatusAccepted, nil), 2*time.Minute); got.Status != "succeeded" || got.Environment != "production" {
		t.Fatalf("admin's promotion %+v", got)
	}
	if got := deployedBy(t, admin, base, admin.call("POST", base+"/environments/production/deploy", map[string]any{"build": good.ID},
		http.StatusAccepted, nil), 2*time.Minute); got.Status != "succeeded" || got.Build != good.ID {
		t.Fatalf("admin's redeploy %+v", got)
	}
}
