package server

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/slipway-dev/slipway/api"
	"github.com/slipway-dev/slipway/store"
)

func TestCreateProjectStartsWithDevelopmentThenProduction(t *testing.T) {
	e := newTestEnv(t)
	var p api.ProjectResponse
	e.must(http.StatusCreated, http.MethodPost, "/api/v1/projects", e.developer, map[string]any{"name": "shop"}, &p)
	if p.Name != "shop" || p.CreatedAt.IsZero() {
		t.Errorf("project %+v", p.Project)
	}
	if len(p.Environments) != 2 {
		t.Fatalf("environments %+v, want development and production", p.Environments)
	}
	dev, prod := p.Environments[0], p.Environments[1]
	if dev.Name != "development" || dev.Position != 0 || dev.Production {
		t.Errorf("first environment %+v, want development at 0, not production", dev)
	}
	if prod.Name != "production" || prod.Position != 1 || !prod.Production {
		t.Errorf("second environment %+v, want production at 1 with the production flag", prod)
	}

	var got api.ProjectResponse
	e.must(http.StatusOK, http.MethodGet, "/api/v1/projects/shop", e.viewer, nil, &got)
	if got.Name != "shop" || len(got.Environments) != 2 || got.Environments[1].Name != "production" {
		t.Errorf("GET project %+v", got)
	}
}

func TestCreateProjectInvalidName(t *testing.T) {
	e := newTestEnv(t)
	for _, name := range []string{"", "Shop", "-shop", "shop-", "sh_op", "sh.op", "shöp", strings.Repeat("a", 64)} {
		rec := e.do(http.MethodPost, "/api/v1/projects", e.developer, map[string]any{"name": name})
		wantError(t, rec, http.StatusUnprocessableEntity, "invalid", "name")
	}
	if ps, _ := e.st.ListProjects(context.Background(), "", 10); len(ps) != 0 {
		t.Errorf("invalid names created projects: %+v", ps)
	}
	e.createProject(strings.Repeat("a", 63))
	e.createProject("0")
}

func TestCreateProjectDuplicate(t *testing.T) {
	e := newTestEnv(t)
	e.createProject("shop")
	wantError(t, e.do(http.MethodPost, "/api/v1/projects", e.developer, map[string]any{"name": "shop"}),
		http.StatusConflict, "already_exists", "name")
}

func TestGetAndDeleteProjectNotFound(t *testing.T) {
	e := newTestEnv(t)
	wantError(t, e.do(http.MethodGet, "/api/v1/projects/nope", e.viewer, nil), http.StatusNotFound, "not_found", "")
	wantError(t, e.do(http.MethodDelete, "/api/v1/projects/nope", e.developer, nil), http.StatusNotFound, "not_found", "")
}

func TestDeleteProjectCascades(t *testing.T) {
	e := newTestEnv(t)
	e.createProject("shop")
	e.createComponent("shop", "api")
	e.must(http.StatusCreated, http.MethodPut, "/api/v1/projects/shop/components/api/environments/development/configs/A", e.developer,
		map[string]any{"value": "1"}, nil)
	rec := e.must(http.StatusNoContent, http.MethodDelete, "/api/v1/projects/shop", e.developer, nil, nil)
	if rec.Body.Len() != 0 {
		t.Errorf("204 with a body: %s", rec.Body)
	}
	wantError(t, e.do(http.MethodGet, "/api/v1/projects/shop", e.viewer, nil), http.StatusNotFound, "not_found", "")
	wantError(t, e.do(http.MethodGet, "/api/v1/projects/shop/components/api", e.viewer, nil), http.StatusNotFound, "not_found", "")
	if _, err := e.st.GetComponent(context.Background(), "shop", "api"); err == nil {
		t.Error("component survived its project")
	}
	// The name is free again.
	e.createProject("shop")
}

func TestListProjectsPaginates(t *testing.T) {
	e := newTestEnv(t)
	var empty api.Page[store.Project]
	rec := e.must(http.StatusOK, http.MethodGet, "/api/v1/projects", e.viewer, nil, &empty)
	if !strings.Contains(rec.Body.String(), `"items":[]`) || empty.Next != "" {
		t.Errorf("empty list %s, want items [] and no next", rec.Body)
	}

	names := []string{"e", "a", "d", "b", "c"}
	for _, n := range names {
		e.createProject(n)
	}
	var got []string
	path := "/api/v1/projects?limit=2"
	for pages := 0; ; pages++ {
		if pages > 5 {
			t.Fatal("pagination does not end")
		}
		var p api.Page[store.Project]
		e.must(http.StatusOK, http.MethodGet, path, e.viewer, nil, &p)
		if len(p.Items) > 2 {
			t.Fatalf("page of %d items with limit 2", len(p.Items))
		}
		for _, it := range p.Items {
			got = append(got, it.Name)
		}
		if p.Next == "" {
			break
		}
		path = "/api/v1/projects?limit=2&cursor=" + p.Next
	}
	if strings.Join(got, ",") != "a,b,c,d,e" {
		t.Errorf("paginated names %v, want a..e in order", got)
	}

	var all api.Page[store.Project]
	e.must(http.StatusOK, http.MethodGet, "/api/v1/projects", e.viewer, nil, &all)
	if len(all.Items) != 5 || all.Next != "" {
		t.Errorf("default page: %d items, next %q", len(all.Items), all.Next)
	}
}

func TestListProjectsBadQuery(t *testing.T) {
	e := newTestEnv(t)
	for _, q := range []string{"limit=0", "limit=-1", "limit=x", "limit=501"} {
		wantError(t, e.do(http.MethodGet, "/api/v1/projects?"+q, e.viewer, nil), http.StatusUnprocessableEntity, "invalid", "limit")
	}
	wantError(t, e.do(http.MethodGet, "/api/v1/projects?cursor=!!!", e.viewer, nil), http.StatusUnprocessableEntity, "invalid", "cursor")
}
