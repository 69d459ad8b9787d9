package server

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/slipway-dev/slipway/api"
	"github.com/slipway-dev/slipway/descriptor"
	"github.com/slipway-dev/slipway/gitsource"
	"github.com/slipway-dev/slipway/scan"
	"github.com/slipway-dev/slipway/store"
)

// session is a browser signed in to the console: its cookie and the CSRF token its pages carry.
type session struct {
	e      *testEnv
	cookie *http.Cookie
	csrf   string
}

var csrfMeta = regexp.MustCompile(`<meta name="csrf-token" content="([^"]+)">`)

// signIn signs in with token through the sign-in form and reads the CSRF token off the projects page.
func (e *testEnv) signIn(token string) *session {
	e.t.Helper()
	rec := e.form(http.MethodPost, "/sign-in", nil, url.Values{"token": {token}, "next": {"/projects"}})
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/projects" {
		e.t.Fatalf("POST /sign-in: status %d Location %q; body %s", rec.Code, rec.Header().Get("Location"), rec.Body)
	}
	s := &session{e: e, cookie: sessionCookieOf(e.t, rec)}
	page := s.page(http.StatusOK, "/projects")
	m := csrfMeta.FindStringSubmatch(page)
	if m == nil {
		e.t.Fatalf("the projects page has no csrf-token meta: %s", page)
	}
	s.csrf = m[1]
	return s
}

// form posts (or sends) a form with an optional cookie.
func (e *testEnv) form(method, path string, cookie *http.Cookie, v url.Values) *httptest.ResponseRecorder {
	e.t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if cookie != nil {
		req.AddCookie(cookie)
	}
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	return rec
}

func sessionCookieOf(t *testing.T, rec *httptest.ResponseRecorder) *http.Cookie {
	t.Helper()
	for _, c := range rec.Result().Cookies() {
		if c.Name == sessionCookie {
			return c
		}
	}
	t.Fatalf("no %s cookie in %v", sessionCookie, rec.Header().Values("Set-Cookie"))
	return nil
}

// get requests path with the session's cookie.
func (s *session) get(path string) *httptest.ResponseRecorder {
	s.e.t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.AddCookie(s.cookie)
	rec := httptest.NewRecorder()
	s.e.h.ServeHTTP(rec, req)
	return rec
}

// page gets a console page, fails unless its status is want and it is HTML, and returns its body.
func (s *session) page(want int, path string) string {
	s.e.t.Helper()
	rec := s.get(path)
	if rec.Code != want {
		s.e.t.Fatalf("GET %s: status %d, want %d; body %s", path, rec.Code, want, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		s.e.t.Fatalf("GET %s: Content-Type %q, want text/html", path, ct)
	}
	return rec.Body.String()
}

// write sends a JSON API write with the session's cookie, csrf (as given) and origin ("" sends none).
func (s *session) write(method, path, csrf, origin string, body any) *httptest.ResponseRecorder {
	s.e.t.Helper()
	data, err := json.Marshal(body)
	if err != nil {
		s.e.t.Fatal(err)
	}
	req := httptest.NewRequest(method, path, strings.NewReader(string(data)))
	req.Header.Set("Content-Type", "application/json")
	req.AddCookie(s.cookie)
	if csrf != "" {
		req.Header.Set(csrfHeader, csrf)
	}
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	rec := httptest.NewRecorder()
	s.e.h.ServeHTTP(rec, req)
	return rec
}

func TestConsoleNeedsASession(t *testing.T) {
	e := newTestEnv(t)
	for _, path := range []string{"/projects", "/projects/shop/components/api?cursor=x", "/tokens", "/builds/b-1"} {
		rec := e.do(http.MethodGet, path, "", nil)
		want := "/sign-in?next=" + url.QueryEscape(path)
		if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != want {
			t.Errorf("GET %s without a session: %d Location %q, want 303 to %q", path, rec.Code, rec.Header().Get("Location"), want)
		}
	}
	// A bearer token is for the API, not the pages.
	if rec := e.do(http.MethodGet, "/projects", e.admin, nil); rec.Code != http.StatusSeeOther {
		t.Errorf("GET /projects with a bearer token: %d, want 303 to the sign-in", rec.Code)
	}
	if rec := e.do(http.MethodGet, "/", "", nil); rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/projects" {
		t.Errorf("GET /: %d Location %q", rec.Code, rec.Header().Get("Location"))
	}
	rec := e.do(http.MethodGet, "/sign-in", "", nil)
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `<label for="token"`) {
		t.Errorf("GET /sign-in: %d %s", rec.Code, rec.Body)
	}
}

func TestConsoleSignIn(t *testing.T) {
	e := newTestEnv(t)
	for _, token := range []string{"", "slw_not-a-token"} {
		rec := e.form(http.MethodPost, "/sign-in", nil, url.Values{"token": {token}})
		if rec.Code != http.StatusUnauthorized || !strings.Contains(rec.Body.String(), "That token is not valid") {
			t.Errorf("sign-in with %q: %d %s", token, rec.Code, rec.Body)
		}
		if len(rec.Result().Cookies()) != 0 {
			t.Errorf("sign-in with %q set a cookie", token)
		}
	}
	// next never leaves this server.
	for next, want := range map[string]string{"//evil.example/": "/projects", "https://evil.example/": "/projects",
		"/\\evil.example": "/projects", "/tokens": "/tokens"} {
		rec := e.form(http.MethodPost, "/sign-in", nil, url.Values{"token": {e.admin}, "next": {next}})
		if rec.Header().Get("Location") != want {
			t.Errorf("sign-in with next %q went to %q, want %q", next, rec.Header().Get("Location"), want)
		}
	}

	rec := e.form(http.MethodPost, "/sign-in", nil, url.Values{"token": {e.admin}})
	c := sessionCookieOf(t, rec)
	if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Secure || c.Path != "/" || c.MaxAge != int(sessionLifetime/time.Second) {
		t.Errorf("cookie %+v, want HttpOnly, SameSite=Strict, Path=/, MaxAge %v and not Secure over plain HTTP", c, sessionLifetime)
	}
	if strings.Contains(e.logs.String(), e.admin) || strings.Contains(e.logs.String(), c.Value) {
		t.Error("the log holds the token or the session secret")
	}
	req := httptest.NewRequest(http.MethodPost, "/sign-in", strings.NewReader(url.Values{"token": {e.admin}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.TLS = &tls.ConnectionState{}
	if c := sessionCookieOf(t, serve(e.h, req)); !c.Secure {
		t.Error("the cookie set over TLS is not Secure")
	}
	// A signed-in browser asking for the sign-in page goes on.
	s := &session{e: e, cookie: c}
	if rec := s.get("/sign-in?next=/tokens"); rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/tokens" {
		t.Errorf("GET /sign-in when signed in: %d %q", rec.Code, rec.Header().Get("Location"))
	}
}

func TestConsoleWritesNeedCSRFAndThisOrigin(t *testing.T) {
	e := newTestEnv(t)
	s := e.signIn(e.developer)
	body := map[string]any{"name": "shop"}
	wantError(t, s.write(http.MethodPost, "/api/v1/projects", "", "", body), http.StatusForbidden, "csrf", "")
	wantError(t, s.write(http.MethodPost, "/api/v1/projects", "wrong", "", body), http.StatusForbidden, "csrf", "")
	wantError(t, s.write(http.MethodPost, "/api/v1/projects", s.csrf, "https://evil.example", body), http.StatusForbidden, "csrf", "")
	if _, err := e.st.GetProject(context.Background(), "shop"); err == nil {
		t.Fatal("a refused write created the project")
	}
	if rec := s.write(http.MethodPost, "/api/v1/projects", s.csrf, "http://example.com", body); rec.Code != http.StatusCreated {
		t.Fatalf("a write with the CSRF token from this origin: %d %s", rec.Code, rec.Body)
	}
	// Reads with the cookie need no CSRF token.
	if rec := s.get("/api/v1/projects/shop"); rec.Code != http.StatusOK {
		t.Errorf("GET with the session cookie: %d %s", rec.Code, rec.Body)
	}
}

// oneCommit is a delivery.CommitReader of a branch with one commit, the one seedConsole's build built.
func oneCommit(context.Context, string, string, int, gitsource.Auth) ([]gitsource.Commit, error) {
	return []gitsource.Commit{{SHA: strings.Repeat("ab", 20), Message: "the first\n", Author: "Ann", At: time.Now()}}, nil
}

func TestConsoleViewerSeesNoWriteControls(t *testing.T) {
	e := newTestEnv(t, func(d *Deps) { d.RecentCommits = oneCommit })
	seedConsole(t, e)
	admin, viewer := e.signIn(e.admin), e.signIn(e.viewer)
	pages := []string{"/projects", "/projects/shop", "/projects/shop/components/api", "/projects/shop/components/api/commits",
		"/projects/shop/components/api/deploy", "/projects/shop/components/api/configs", "/builds/b-1"}
	if body := admin.page(http.StatusOK, "/projects/shop/components/api/commits"); !strings.Contains(body, "the first") || !strings.Contains(body, "/builds/b-1") {
		t.Errorf("the commit cards lack the commit or its build: %s", body)
	}
	for _, p := range pages {
		if body := admin.page(http.StatusOK, p); !strings.Contains(body, "data-api=") && p != "/builds/b-1" { // nothing to cancel
			t.Errorf("the admin's %s has no write controls", p)
		}
		if body := viewer.page(http.StatusOK, p); strings.Contains(body, "data-api=") {
			t.Errorf("the viewer's %s has write controls", p)
		}
	}
	// Each page follows the events of what it shows.
	for p, want := range map[string]string{"/projects/shop": `data-project="shop" data-component=""`,
		"/projects/shop/components/api/deploy": `data-project="shop" data-component="api"`,
		"/builds/b-1":                          `data-project="shop" data-component="api"`} {
		if body := viewer.page(http.StatusOK, p); !strings.Contains(body, want) {
			t.Errorf("%s does not follow %s", p, want)
		}
	}
	viewer.page(http.StatusForbidden, "/tokens")
	if body := admin.page(http.StatusOK, "/tokens"); !strings.Contains(body, "watcher") {
		t.Error("the tokens page does not list the viewer's token")
	}
	// The server refuses the viewer's writes anyway.
	wantError(t, viewer.write(http.MethodPost, "/api/v1/projects", viewer.csrf, "", map[string]any{"name": "x"}), http.StatusForbidden, "forbidden", "")
}

func TestConsoleSecretValueNeverShown(t *testing.T) {
	e := newTestEnv(t)
	seedConsole(t, e)
	s := e.signIn(e.developer)
	const secret = "s3cr3t-value-never-shown"
	if rec := s.write(http.MethodPut, "/api/v1/projects/shop/components/api/environments/development/configs/API_TOKEN", s.csrf, "",
		map[string]any{"value": secret, "secret": true}); rec.Code/100 != 2 {
		t.Fatalf("setting the secret: %d %s", rec.Code, rec.Body)
	}
	body := s.page(http.StatusOK, "/projects/shop/components/api/configs")
	if !strings.Contains(body, "API_TOKEN") || strings.Contains(body, secret) {
		t.Errorf("the configs page shows API_TOKEN: %v, its value: %v", strings.Contains(body, "API_TOKEN"), strings.Contains(body, secret))
	}
}

func TestConsoleSignOutAndExpiry(t *testing.T) {
	e := newTestEnv(t)
	s := e.signIn(e.admin)
	if rec := e.form(http.MethodPost, "/sign-out", s.cookie, url.Values{"csrf": {"wrong"}}); rec.Code != http.StatusForbidden {
		t.Errorf("sign-out without the CSRF token: %d", rec.Code)
	}
	rec := e.form(http.MethodPost, "/sign-out", s.cookie, url.Values{"csrf": {s.csrf}})
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/sign-in" || sessionCookieOf(t, rec).MaxAge >= 0 {
		t.Errorf("sign-out: %d %q %v", rec.Code, rec.Header().Get("Location"), rec.Header().Values("Set-Cookie"))
	}
	if rec := s.get("/projects"); rec.Code != http.StatusSeeOther {
		t.Errorf("the signed-out cookie still opens a page: %d", rec.Code)
	}
	if rec := s.write(http.MethodPost, "/api/v1/projects", s.csrf, "", map[string]any{"name": "x"}); rec.Code != http.StatusUnauthorized {
		t.Errorf("the signed-out cookie still writes: %d", rec.Code)
	}

	// A session past its expiry has ended.
	tok, err := e.st.TokenByHash(context.Background(), HashToken(e.admin))
	if err != nil {
		t.Fatal(err)
	}
	secret := randomString(32)
	if _, err := e.st.CreateSession(context.Background(), HashToken(secret), tok.ID, "c", time.Now().Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	old := &session{e: e, cookie: &http.Cookie{Name: sessionCookie, Value: secret}}
	if rec := old.get("/projects"); rec.Code != http.StatusSeeOther {
		t.Errorf("an expired session opens a page: %d", rec.Code)
	}
}

func TestConsoleErrorsArePages(t *testing.T) {
	e := newTestEnv(t)
	s := e.signIn(e.admin)
	body := s.page(http.StatusNotFound, "/projects/nope")
	if !strings.Contains(body, "nope") {
		t.Errorf("the 404 page does not name what is missing: %s", body)
	}
	// The API still answers JSON.
	wantError(t, e.do(http.MethodGet, "/api/v1/projects/nope", e.admin, nil), http.StatusNotFound, "not_found", "")
	rec := e.do(http.MethodGet, "/assets/console.js", "", nil)
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "EventSource") {
		t.Errorf("GET /assets/console.js: %d", rec.Code)
	}
}

func TestOperationsOf(t *testing.T) {
	sp := descriptor.Spec{Format: descriptor.OpenAPI3, JSON: json.RawMessage(`{"openapi":"3.0.0","paths":{
		"/b":{"post":{"operationId":"makeB"},"get":{"summary":"read b"}},
		"/a":{"delete":{"summary":"drop a"},"parameters":[]}}}`)}
	got := operationsOf(sp)
	want := "DELETE /a drop a|GET /b read b|POST /b makeB"
	var parts []string
	for _, op := range got {
		parts = append(parts, op.Method+" "+op.Path+" "+op.Summary)
	}
	if strings.Join(parts, "|") != want {
		t.Errorf("operationsOf = %q, want %q", strings.Join(parts, "|"), want)
	}
	if operationsOf(descriptor.Spec{Format: descriptor.GraphQLSchema}) != nil {
		t.Error("a GraphQL schema has operations")
	}
}

// seedConsole makes project shop (with its default environments), component api and one
// succeeded build b-1 of it with an endpoint and an OpenAPI spec.
func seedConsole(t *testing.T, e *testEnv) {
	t.Helper()
	e.createProject("shop") // with its default environments, development first
	e.createComponent("shop", "api")
	ctx := context.Background()
	if _, err := e.st.CreateBuild(ctx, store.Build{ID: "b-1", Project: "shop", Component: "api", Commit: strings.Repeat("ab", 20),
		Trigger: store.Trigger{Kind: "manual"}}); err != nil {
		t.Fatal(err)
	}
	d := descriptor.Descriptor{Endpoints: []descriptor.Endpoint{{Name: "greeter", Port: 8080, Type: descriptor.REST, SchemaFilePath: "openapi.json"}}}
	specs := []descriptor.Spec{{Endpoint: "greeter", Path: "openapi.json", Format: descriptor.OpenAPI3,
		JSON: json.RawMessage(`{"openapi":"3.0.0","paths":{"/hello":{"get":{"summary":"say hello"}}}}`)}}
	if err := e.st.PutBuildSpec(ctx, "b-1", d, specs); err != nil {
		t.Fatal(err)
	}
	if err := e.st.PutBuildScan(ctx, "b-1", scan.Report{}, scan.Summary{Passed: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.UpdateBuild(ctx, "b-1", func(b *store.Build) error {
		b.Status = api.BuildSucceeded
		b.Digest = "sha256:" + strings.Repeat("0", 64)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}
