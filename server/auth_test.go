package server

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"

	"github.com/slipway-dev/slipway/api"
)

func TestNewTokenAndHashToken(t *testing.T) {
	a, hashA, err := NewToken()
	if err != nil {
		t.Fatal(err)
	}
	b, _, err := NewToken()
	if err != nil {
		t.Fatal(err)
	}
	if a == b {
		t.Fatal("two tokens are equal")
	}
	if !strings.HasPrefix(a, "slw_") {
		t.Errorf("token %q lacks the slw_ prefix", a)
	}
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(a, "slw_"))
	if err != nil || len(raw) != 32 {
		t.Errorf("token body is not 32 bytes of base64url: %d bytes, %v", len(raw), err)
	}
	sum := sha256.Sum256([]byte(a))
	if string(hashA) != string(sum[:]) || string(HashToken(a)) != string(sum[:]) {
		t.Errorf("hash is not SHA-256 of the token")
	}
}

func TestAuthenticationRequired(t *testing.T) {
	e := newTestEnv(t)
	e.createProject("shop")
	activeKEK := e.keys.ActiveID()
	cases := []struct{ name, header string }{
		{"no header", ""},
		{"wrong token", "Bearer slw_thisIsNotAToken"},
		{"wrong scheme", "Basic " + e.admin},
		{"empty bearer", "Bearer "},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, r := range []struct{ method, path, body string }{
				{http.MethodPost, "/api/v1/projects", `{"name":"sneaky"}`},
				{http.MethodGet, "/api/v1/projects", ""},
				{http.MethodPost, "/api/v1/tokens", `{"name":"sneaky","role":"admin"}`},
				{http.MethodDelete, "/api/v1/projects/shop", ""},
				{http.MethodPost, "/api/v1/keys/rotate", ""},
			} {
				req := newRequest(r.method, r.path, r.body)
				if tc.header != "" {
					req.Header.Set("Authorization", tc.header)
				}
				rec := serve(e.h, req)
				wantError(t, rec, http.StatusUnauthorized, "unauthorized", "")
				if !strings.HasPrefix(rec.Header().Get("WWW-Authenticate"), "Bearer") {
					t.Errorf("%s %s: no WWW-Authenticate: Bearer header", r.method, r.path)
				}
			}
		})
	}
	// Nothing changed.
	ps, err := e.st.ListProjects(context.Background(), "", 10)
	if err != nil || len(ps) != 1 || ps[0].Name != "shop" {
		t.Errorf("projects after unauthorised calls: %v, %v; want only shop", ps, err)
	}
	if e.keys.ActiveID() != activeKEK || e.rewraps.Load() != 0 {
		t.Errorf("unauthorised rotate changed the keyring")
	}
	n, err := e.st.CountTokens(context.Background())
	if err != nil || n != 3 {
		t.Errorf("tokens after unauthorised calls: %d, %v; want the 3 test tokens", n, err)
	}
}

func TestViewerCannotWrite(t *testing.T) {
	e := newTestEnv(t)
	e.createProject("shop")
	e.createComponent("shop", "api")
	cfg := "/api/v1/projects/shop/components/api/environments/development/configs"
	writes := []struct {
		method, path string
		body         any
	}{
		{http.MethodPost, "/api/v1/projects", map[string]any{"name": "other"}},
		{http.MethodDelete, "/api/v1/projects/shop", nil},
		{http.MethodPost, "/api/v1/projects/shop/environments", map[string]any{"name": "staging"}},
		{http.MethodPut, "/api/v1/projects/shop/environments/order", map[string]any{"order": []string{"production", "development"}}},
		{http.MethodPost, "/api/v1/projects/shop/components", map[string]any{"name": "web", "repo": "https://x.example/y.git"}},
		{http.MethodPatch, "/api/v1/projects/shop/components/api", map[string]any{"branch": "dev"}},
		{http.MethodDelete, "/api/v1/projects/shop/components/api", nil},
		{http.MethodPut, cfg + "/LOG_LEVEL", map[string]any{"value": "debug"}},
		{http.MethodDelete, cfg + "/LOG_LEVEL", nil},
		{http.MethodPost, "/api/v1/tokens", map[string]any{"name": "x", "role": "admin"}},
		{http.MethodPost, "/api/v1/keys/rotate", nil},
	}
	for _, w := range writes {
		wantError(t, e.do(w.method, w.path, e.viewer, w.body), http.StatusForbidden, "forbidden", "")
	}

	// Nothing changed, and reads still work for the viewer.
	var p api.ProjectResponse
	e.must(http.StatusOK, http.MethodGet, "/api/v1/projects/shop", e.viewer, nil, &p)
	if len(p.Environments) != 2 || p.Environments[0].Name != "development" {
		t.Errorf("environments changed: %+v", p.Environments)
	}
	var comps api.Page[map[string]any]
	e.must(http.StatusOK, http.MethodGet, "/api/v1/projects/shop/components", e.viewer, nil, &comps)
	if len(comps.Items) != 1 || comps.Items[0]["branch"] != "main" {
		t.Errorf("components changed: %+v", comps.Items)
	}
	var cfgs api.Page[api.Config]
	e.must(http.StatusOK, http.MethodGet, cfg, e.viewer, nil, &cfgs)
	if len(cfgs.Items) != 0 {
		t.Errorf("configs changed: %+v", cfgs.Items)
	}
	wantError(t, e.do(http.MethodGet, "/api/v1/projects/other", e.viewer, nil), http.StatusNotFound, "not_found", "")
	if e.rewraps.Load() != 0 {
		t.Errorf("viewer's rotate called Rewrap")
	}
}

func TestDeveloperCannotManageTokensOrKeys(t *testing.T) {
	e := newTestEnv(t)
	before := e.keys.ActiveID()
	wantError(t, e.do(http.MethodPost, "/api/v1/tokens", e.developer, map[string]any{"name": "x", "role": "admin"}), http.StatusForbidden, "forbidden", "")
	wantError(t, e.do(http.MethodGet, "/api/v1/tokens", e.developer, nil), http.StatusForbidden, "forbidden", "")
	wantError(t, e.do(http.MethodPost, "/api/v1/keys/rotate", e.developer, nil), http.StatusForbidden, "forbidden", "")
	if e.keys.ActiveID() != before || e.rewraps.Load() != 0 {
		t.Errorf("developer's rotate changed the keyring")
	}
	if n, err := e.st.CountTokens(context.Background()); err != nil || n != 3 {
		t.Errorf("tokens: %d, %v; want 3", n, err)
	}
	// Developers may write everything else.
	e.createProject("shop")
}
