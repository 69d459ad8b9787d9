package server

import (
	"net/http"
	"strings"
	"testing"

	"github.com/slipway-dev/slipway/api"
	"github.com/slipway-dev/slipway/store"
)

// envNames lists the project's environments through the API, in promotion order.
func (e *testEnv) envNames(project string) []string {
	e.t.Helper()
	var p api.Page[store.Environment]
	e.must(http.StatusOK, http.MethodGet, "/api/v1/projects/"+project+"/environments", e.viewer, nil, &p)
	var names []string
	for i, env := range p.Items {
		if env.Position != i {
			e.t.Errorf("environment %q at index %d has position %d", env.Name, i, env.Position)
		}
		names = append(names, env.Name)
	}
	return names
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestEnvironmentsCreateAppendsAndReorder(t *testing.T) {
	e := newTestEnv(t)
	e.createProject("shop")
	var env store.Environment
	e.must(http.StatusCreated, http.MethodPost, "/api/v1/projects/shop/environments", e.developer,
		map[string]any{"name": "staging"}, &env)
	if env.Name != "staging" || env.Position != 2 || env.Production {
		t.Errorf("created %+v, want staging at position 2", env)
	}
	e.must(http.StatusCreated, http.MethodPost, "/api/v1/projects/shop/environments", e.admin,
		map[string]any{"name": "dr", "production": true}, &env)
	if !env.Production || env.Position != 3 {
		t.Errorf("created %+v, want production flag at position 3", env)
	}
	if got := e.envNames("shop"); !equal(got, []string{"development", "production", "staging", "dr"}) {
		t.Errorf("order %v", got)
	}

	want := []string{"development", "staging", "production", "dr"}
	var p api.Page[store.Environment]
	e.must(http.StatusOK, http.MethodPut, "/api/v1/projects/shop/environments/order", e.admin,
		map[string]any{"order": want}, &p)
	if len(p.Items) != 4 || p.Items[1].Name != "staging" || p.Items[1].Position != 1 || !p.Items[2].Production {
		t.Errorf("reorder answered %+v", p.Items)
	}
	if got := e.envNames("shop"); !equal(got, want) {
		t.Errorf("order after reorder %v, want %v", got, want)
	}
}

func TestEnvironmentErrors(t *testing.T) {
	e := newTestEnv(t)
	e.createProject("shop")
	envs := "/api/v1/projects/shop/environments"

	wantError(t, e.do(http.MethodPost, envs, e.developer, map[string]any{"name": "development"}), http.StatusConflict, "already_exists", "name")
	wantError(t, e.do(http.MethodPost, envs, e.developer, map[string]any{"name": "Staging"}), http.StatusUnprocessableEntity, "invalid", "name")
	wantError(t, e.do(http.MethodPost, envs, e.developer, map[string]any{"production": true}), http.StatusUnprocessableEntity, "invalid", "name")
	wantError(t, e.do(http.MethodPost, envs, e.developer, map[string]any{"name": "qa", "production": "yes"}), http.StatusUnprocessableEntity, "invalid", "production")
	wantError(t, e.do(http.MethodPost, "/api/v1/projects/nope/environments", e.developer, map[string]any{"name": "qa"}), http.StatusNotFound, "not_found", "")
	wantError(t, e.do(http.MethodGet, "/api/v1/projects/nope/environments", e.viewer, nil), http.StatusNotFound, "not_found", "")
	wantError(t, e.do(http.MethodPut, "/api/v1/projects/nope/environments/order", e.developer,
		map[string]any{"order": []string{"development", "production"}}), http.StatusNotFound, "not_found", "")

	for _, order := range [][]string{
		nil,
		{},
		{"production"},
		{"production", "production"},
		{"production", "development", "staging"},
		{"production", "staging"},
	} {
		rec := e.do(http.MethodPut, envs+"/order", e.admin, map[string]any{"order": order})
		wantError(t, rec, http.StatusUnprocessableEntity, "invalid", "order")
	}
	if got := e.envNames("shop"); !equal(got, []string{"development", "production"}) {
		t.Errorf("failed reorders changed the order to %v", got)
	}
}

func TestEnvironmentSettings(t *testing.T) {
	e := newTestEnv(t)
	e.createProject("shop")
	var env store.Environment
	e.must(http.StatusCreated, http.MethodPost, "/api/v1/projects/shop/environments", e.developer,
		map[string]any{"name": "staging", "replicas": 3, "cpus": 0.5, "memoryBytes": 64 << 20}, &env)
	if env.Replicas != 3 || env.CPUs != 0.5 || env.MemoryBytes != 64<<20 {
		t.Fatalf("created %+v", env)
	}
	rec := e.must(http.StatusUnprocessableEntity, http.MethodPatch, "/api/v1/projects/shop/environments/staging", e.developer,
		map[string]any{"replicas": 99}, nil)
	if !strings.Contains(rec.Body.String(), `"field":"replicas"`) {
		t.Fatalf("bad replicas: %s", rec.Body)
	}
	e.must(http.StatusOK, http.MethodPatch, "/api/v1/projects/shop/environments/staging", e.developer,
		map[string]any{"replicas": 2}, &env)
	if env.Replicas != 2 || env.CPUs != 0.5 {
		t.Fatalf("patched %+v", env)
	}
	// Only an admin may change what is production (deploying there needs one).
	e.must(http.StatusForbidden, http.MethodPatch, "/api/v1/projects/shop/environments/production", e.developer,
		map[string]any{"production": false}, nil)
	e.must(http.StatusOK, http.MethodPatch, "/api/v1/projects/shop/environments/staging", e.admin,
		map[string]any{"production": true}, &env)
	if !env.Production {
		t.Fatalf("patched %+v", env)
	}
	e.must(http.StatusNotFound, http.MethodPatch, "/api/v1/projects/shop/environments/qa", e.developer, map[string]any{}, nil)
}

// Only an admin creates a production environment, flags or unflags one, or reorders a project that has one; a
// developer does everything else with environments.
func TestProductionEnvironmentsNeedAnAdmin(t *testing.T) {
	e := newTestEnv(t)
	e.createProject("shop")
	envs := "/api/v1/projects/shop/environments"

	apiErr := wantError(t, e.do(http.MethodPost, envs, e.developer, map[string]any{"name": "live", "production": true}),
		http.StatusForbidden, "forbidden", "production")
	if !strings.Contains(apiErr.Message, "admin") {
		t.Errorf("create refusal %q does not say who may", apiErr.Message)
	}
	wantError(t, e.do(http.MethodPatch, envs+"/production", e.developer, map[string]any{"production": false}),
		http.StatusForbidden, "forbidden", "production")
	e.must(http.StatusCreated, http.MethodPost, envs, e.developer, map[string]any{"name": "staging", "production": false}, nil)
	wantError(t, e.do(http.MethodPatch, envs+"/staging", e.developer, map[string]any{"production": true}),
		http.StatusForbidden, "forbidden", "production")
	for _, order := range [][]string{
		{"production", "development", "staging"}, // production first
		{"development", "staging", "production"}, // production stays last
	} {
		apiErr = wantError(t, e.do(http.MethodPut, envs+"/order", e.developer, map[string]any{"order": order}),
			http.StatusForbidden, "forbidden", "order")
		if !strings.Contains(apiErr.Message, "production environment (production)") {
			t.Errorf("reorder refusal %q does not name the production environment", apiErr.Message)
		}
	}
	if got := e.envNames("shop"); !equal(got, []string{"development", "production", "staging"}) {
		t.Fatalf("refused changes reordered the environments to %v", got)
	}
	var list api.Page[store.Environment]
	e.must(http.StatusOK, http.MethodGet, envs, e.viewer, nil, &list)
	for _, env := range list.Items {
		if env.Production != (env.Name == "production") {
			t.Fatalf("refused changes flagged %+v", env)
		}
	}

	// An admin may do each of them.
	e.must(http.StatusCreated, http.MethodPost, envs, e.admin, map[string]any{"name": "live", "production": true}, nil)
	e.must(http.StatusOK, http.MethodPut, envs+"/order", e.admin, map[string]any{"order": []string{"live", "development", "staging", "production"}}, nil)
	var env store.Environment
	for _, name := range []string{"live", "production"} {
		e.must(http.StatusOK, http.MethodPatch, envs+"/"+name, e.admin, map[string]any{"production": false}, &env)
		if env.Production {
			t.Fatalf("unflagged %+v", env)
		}
	}
	// Without a production environment a developer reorders.
	e.must(http.StatusOK, http.MethodPut, envs+"/order", e.developer, map[string]any{"order": []string{"development", "staging", "live", "production"}}, nil)
	if got := e.envNames("shop"); !equal(got, []string{"development", "staging", "live", "production"}) {
		t.Fatalf("developer's reorder gave %v", got)
	}
}
