package server

import (
	"net/http"
	"reflect"
	"testing"

	"github.com/slipway-dev/slipway/api"
	"github.com/slipway-dev/slipway/store"
)

func TestCreateComponentDefaultsAndGet(t *testing.T) {
	e := newTestEnv(t)
	e.createProject("shop")
	var c store.Component
	e.must(http.StatusCreated, http.MethodPost, "/api/v1/projects/shop/components", e.developer,
		map[string]any{"name": "api", "repo": "git@github.com:acme/api.git"}, &c)
	if c.Project != "shop" || c.Name != "api" || c.Repo != "git@github.com:acme/api.git" ||
		c.Branch != "main" || c.Dockerfile != "Dockerfile" || c.Context != "." || c.AutoBuild || c.AutoDeploy {
		t.Errorf("created %+v, want defaults branch main, Dockerfile, context .", c)
	}
	if c.CreatedAt.IsZero() || c.UpdatedAt.IsZero() {
		t.Errorf("timestamps missing: %+v", c)
	}

	full := map[string]any{
		"name": "web", "repo": "https://git.example.com/acme/web.git", "branch": "release/1.x",
		"dockerfile": "build/web.Dockerfile", "context": "web", "autoBuild": true, "autoDeploy": true,
	}
	e.must(http.StatusCreated, http.MethodPost, "/api/v1/projects/shop/components", e.developer, full, &c)
	var got store.Component
	e.must(http.StatusOK, http.MethodGet, "/api/v1/projects/shop/components/web", e.viewer, nil, &got)
	if got.Branch != "release/1.x" || got.Dockerfile != "build/web.Dockerfile" || got.Context != "web" || !got.AutoBuild || !got.AutoDeploy {
		t.Errorf("GET %+v", got)
	}

	var list api.Page[store.Component]
	e.must(http.StatusOK, http.MethodGet, "/api/v1/projects/shop/components", e.viewer, nil, &list)
	if len(list.Items) != 2 || list.Items[0].Name != "api" || list.Items[1].Name != "web" {
		t.Errorf("list %+v, want api, web", list.Items)
	}
}

func TestCreateComponentValidation(t *testing.T) {
	e := newTestEnv(t)
	e.createProject("shop")
	ok := func() map[string]any {
		return map[string]any{"name": "api", "repo": "https://git.example.com/acme/api.git"}
	}
	cases := []struct {
		field string
		value any
	}{
		{"name", "API"},
		{"name", ""},
		{"repo", ""},
		{"repo", "api.git"},
		{"repo", "http://git.example.com/acme/api.git"},
		{"repo", "ftp://git.example.com/acme/api.git"},
		{"repo", "https://git.example.com"},
		{"repo", "file://relative/path"},
		{"repo", "https://git.example.com/acme/a b.git"},
		{"branch", "has space"},
		{"branch", "a..b"},
		{"branch", "-x"},
		{"branch", "x.lock"},
		{"dockerfile", "../Dockerfile"},
		{"dockerfile", "a/../../Dockerfile"},
		{"dockerfile", "/etc/Dockerfile"},
		{"dockerfile", "."},
		{"context", "/abs"},
		{"context", ".."},
		{"context", `a\b`},
		{"autoBuild", "yes"},
	}
	for _, tc := range cases {
		body := ok()
		body[tc.field] = tc.value
		rec := e.do(http.MethodPost, "/api/v1/projects/shop/components", e.developer, body)
		if rec.Code != http.StatusUnprocessableEntity {
			t.Errorf("%s=%v: status %d, want 422; body %s", tc.field, tc.value, rec.Code, rec.Body)
			continue
		}
		wantError(t, rec, http.StatusUnprocessableEntity, "invalid", tc.field)
	}
	body := ok()
	delete(body, "repo")
	wantError(t, e.do(http.MethodPost, "/api/v1/projects/shop/components", e.developer, body), http.StatusUnprocessableEntity, "invalid", "repo")

	var list api.Page[store.Component]
	e.must(http.StatusOK, http.MethodGet, "/api/v1/projects/shop/components", e.viewer, nil, &list)
	if len(list.Items) != 0 {
		t.Errorf("invalid requests created %+v", list.Items)
	}

	for name, repo := range map[string]string{
		"over-ssh":  "ssh://git@git.example.com:2222/acme/api.git",
		"from-file": "file:///srv/git/api",
		"scp-like":  "deploy@git.example.com:acme/api.git",
	} {
		e.must(http.StatusCreated, http.MethodPost, "/api/v1/projects/shop/components", e.developer,
			map[string]any{"name": name, "repo": repo}, nil)
	}
}

func TestComponentConflictsAndMissing(t *testing.T) {
	e := newTestEnv(t)
	e.createProject("shop")
	e.createComponent("shop", "api")
	body := map[string]any{"name": "api", "repo": "https://git.example.com/acme/api.git"}
	wantError(t, e.do(http.MethodPost, "/api/v1/projects/shop/components", e.developer, body), http.StatusConflict, "already_exists", "name")
	wantError(t, e.do(http.MethodPost, "/api/v1/projects/nope/components", e.developer, body), http.StatusNotFound, "not_found", "")
	wantError(t, e.do(http.MethodGet, "/api/v1/projects/nope/components", e.viewer, nil), http.StatusNotFound, "not_found", "")
	wantError(t, e.do(http.MethodGet, "/api/v1/projects/shop/components/nope", e.viewer, nil), http.StatusNotFound, "not_found", "")
	wantError(t, e.do(http.MethodPatch, "/api/v1/projects/shop/components/nope", e.developer, map[string]any{"branch": "x"}), http.StatusNotFound, "not_found", "")
	wantError(t, e.do(http.MethodDelete, "/api/v1/projects/shop/components/nope", e.developer, nil), http.StatusNotFound, "not_found", "")

	e.must(http.StatusNoContent, http.MethodDelete, "/api/v1/projects/shop/components/api", e.developer, nil, nil)
	wantError(t, e.do(http.MethodGet, "/api/v1/projects/shop/components/api", e.viewer, nil), http.StatusNotFound, "not_found", "")
}

func TestPatchComponentMerges(t *testing.T) {
	e := newTestEnv(t)
	e.createProject("shop")
	path := "/api/v1/projects/shop/components/api"
	var orig store.Component
	e.must(http.StatusCreated, http.MethodPost, "/api/v1/projects/shop/components", e.developer, map[string]any{
		"name": "api", "repo": "https://git.example.com/acme/api.git", "dockerfile": "docker/api.Dockerfile",
		"context": "svc", "autoBuild": true,
	}, &orig)

	var c store.Component
	e.must(http.StatusOK, http.MethodPatch, path, e.developer, map[string]any{"branch": "develop", "autoDeploy": true}, &c)
	if c.Branch != "develop" || !c.AutoDeploy {
		t.Errorf("patched fields not applied: %+v", c)
	}
	if c.Repo != orig.Repo || c.Dockerfile != "docker/api.Dockerfile" || c.Context != "svc" || !c.AutoBuild || c.Name != "api" {
		t.Errorf("fields not in the patch changed: %+v", c)
	}
	if !c.UpdatedAt.After(orig.UpdatedAt) {
		t.Errorf("UpdatedAt %v did not move past %v", c.UpdatedAt, orig.UpdatedAt)
	}
	if !c.CreatedAt.Equal(orig.CreatedAt) {
		t.Errorf("CreatedAt changed: %v -> %v", orig.CreatedAt, c.CreatedAt)
	}

	// null resets a field to its default; repeating the same name is allowed.
	e.must(http.StatusOK, http.MethodPatch, path, e.developer, `{"dockerfile":null,"autoBuild":null,"name":"api"}`, &c)
	if c.Dockerfile != "Dockerfile" || c.AutoBuild || c.Branch != "develop" {
		t.Errorf("after null patch: %+v", c)
	}

	var got store.Component
	e.must(http.StatusOK, http.MethodGet, path, e.viewer, nil, &got)
	if got.Dockerfile != "Dockerfile" || got.Branch != "develop" || !got.AutoDeploy || got.Context != "svc" {
		t.Errorf("stored after patches: %+v", got)
	}
}

func TestPatchComponentErrorsChangeNothing(t *testing.T) {
	e := newTestEnv(t)
	e.createProject("shop")
	e.createComponent("shop", "api")
	path := "/api/v1/projects/shop/components/api"
	var before store.Component
	e.must(http.StatusOK, http.MethodGet, path, e.viewer, nil, &before)

	wantError(t, e.do(http.MethodPatch, path, e.developer, map[string]any{"name": "web"}), http.StatusUnprocessableEntity, "invalid", "name")
	wantError(t, e.do(http.MethodPatch, path, e.developer, map[string]any{"branch": "ok", "context": "../up"}), http.StatusUnprocessableEntity, "invalid", "context")
	wantError(t, e.do(http.MethodPatch, path, e.developer, map[string]any{"repo": nil}), http.StatusUnprocessableEntity, "invalid", "repo")
	wantError(t, e.do(http.MethodPatch, path, e.developer, map[string]any{"branch": "x", "project": "other"}), http.StatusBadRequest, "unknown_field", "project")
	wantError(t, e.do(http.MethodPatch, path, e.developer, `{"branch":`), http.StatusBadRequest, "malformed_json", "")

	var after store.Component
	e.must(http.StatusOK, http.MethodGet, path, e.viewer, nil, &after)
	if !reflect.DeepEqual(after, before) {
		t.Errorf("failed patches changed the component:\n before %+v\n after  %+v", before, after)
	}
}
