package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/slipway-dev/slipway/store"
)

func TestMalformedBodies(t *testing.T) {
	e := newTestEnv(t)
	cases := []struct {
		name, body, code, field string
		status                  int
	}{
		{"syntax error", `{"name": "shop",}`, "malformed_json", "", http.StatusBadRequest},
		{"truncated", `{"name": "sh`, "malformed_json", "", http.StatusBadRequest},
		{"empty", ``, "malformed_json", "", http.StatusBadRequest},
		{"not an object", `["shop"]`, "malformed_json", "", http.StatusBadRequest},
		{"trailing data", `{"name":"shop"} {"name":"x"}`, "malformed_json", "", http.StatusBadRequest},
		{"unknown field", `{"name":"shop","nmae":"x"}`, "unknown_field", "nmae", http.StatusBadRequest},
		{"wrong type", `{"name":42}`, "invalid", "name", http.StatusUnprocessableEntity},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := e.do(http.MethodPost, "/api/v1/projects", e.developer, tc.body)
			apiErr := wantError(t, rec, tc.status, tc.code, tc.field)
			if tc.field != "" && !strings.Contains(apiErr.Message, tc.field) {
				t.Errorf("message %q does not name field %q", apiErr.Message, tc.field)
			}
		})
	}
	if ps, _ := e.st.ListProjects(context.Background(), "", 10); len(ps) != 0 {
		t.Errorf("malformed bodies created %+v", ps)
	}
}

func TestBodyTooLarge(t *testing.T) {
	e := newTestEnv(t)
	big := `{"name":"` + strings.Repeat("a", maxBodyBytes) + `"}`

	// Refused from Content-Length, before anything is read.
	rec := e.do(http.MethodPost, "/api/v1/projects", e.developer, big)
	wantError(t, rec, http.StatusRequestEntityTooLarge, "body_too_large", "")

	// Refused while reading when the length is not announced.
	req := httptest.NewRequest(http.MethodPost, "/api/v1/projects", io.MultiReader(strings.NewReader(big)))
	req.ContentLength = -1
	req.Header.Set("Authorization", "Bearer "+e.developer)
	wantError(t, serve(e.h, req), http.StatusRequestEntityTooLarge, "body_too_large", "")

	// Same for a config value, which must not be half-written.
	e.createProject("shop")
	e.createComponent("shop", "api")
	req = httptest.NewRequest(http.MethodPut, cfgPath+"/A", io.MultiReader(strings.NewReader(`{"value":"`+strings.Repeat("v", maxBodyBytes)+`"}`)))
	req.ContentLength = -1
	req.Header.Set("Authorization", "Bearer "+e.developer)
	wantError(t, serve(e.h, req), http.StatusRequestEntityTooLarge, "body_too_large", "")
	if vals, _ := e.st.ListConfigs(context.Background(), "shop", "api", "development"); len(vals) != 0 {
		t.Errorf("oversized body stored %d values", len(vals))
	}
	if ps, _ := e.st.ListProjects(context.Background(), "", 10); len(ps) != 1 {
		t.Errorf("projects %+v, want only shop", ps)
	}
}

func TestUnknownRouteAndMethod(t *testing.T) {
	e := newTestEnv(t)
	wantError(t, e.do(http.MethodGet, "/api/v1/nothing-here", e.viewer, nil), http.StatusNotFound, "not_found", "")
	apiErr := wantError(t, e.do(http.MethodGet, "/nothing-here", "", nil), http.StatusNotFound, "not_found", "")
	if apiErr.Message != "no route for GET /nothing-here" {
		t.Errorf("404 message %q", apiErr.Message)
	}
	rec := e.do(http.MethodPut, "/api/v1/projects", e.admin, nil)
	apiErr = wantError(t, rec, http.StatusMethodNotAllowed, "method_not_allowed", "")
	if allow := rec.Header().Get("Allow"); !strings.Contains(allow, "GET") || !strings.Contains(allow, "POST") || !strings.Contains(apiErr.Message, allow) {
		t.Errorf("405 Allow header %q, message %q", allow, apiErr.Message)
	}
}

func TestClassify(t *testing.T) {
	cases := []struct {
		err    error
		status int
		code   string
	}{
		{fmt.Errorf("getting: %w", fmt.Errorf("project %q: %w", "x", store.ErrNotFound)), 404, "not_found"},
		{fmt.Errorf("project %q: %w", "x", store.ErrExists), 409, "already_exists"},
		{fmt.Errorf("order: %w", store.ErrInvalid), 422, "invalid"},
		{fmt.Errorf("wrapped: %w", invalid("f", "bad")), 422, "invalid"},
		{echo.ErrUnsupportedMediaType, 415, "unsupported_media_type"},
		{&http.MaxBytesError{Limit: 1}, 413, "body_too_large"},
		{echo.NewHTTPError(http.StatusBadGateway, "upstream"), 500, "internal"},
		{errors.New("disk on fire"), 500, "internal"},
	}
	for _, tc := range cases {
		got := classify(tc.err)
		if got.Status != tc.status || got.Code != tc.code {
			t.Errorf("classify(%v) = %d %s, want %d %s", tc.err, got.Status, got.Code, tc.status, tc.code)
		}
	}
	if got := classify(fmt.Errorf("project %q: %w", "x", store.ErrNotFound)); got.Message != `project "x": not found` {
		t.Errorf("not-found message %q, want the store's description", got.Message)
	}
}

func TestInternalErrorsAreHiddenAndLoggedOnce(t *testing.T) {
	e := newTestEnv(t)
	e.srv.echo.GET("/boom", func(echo.Context) error { return errors.New("db password is hunter2") })
	e.srv.echo.GET("/panic", func(echo.Context) error { panic("kaboom-hunter2") })
	for _, path := range []string{"/boom", "/panic"} {
		rec := e.do(http.MethodGet, path, "", nil)
		wantError(t, rec, http.StatusInternalServerError, "internal", "")
		if strings.Contains(rec.Body.String(), "hunter2") {
			t.Errorf("%s: 500 body leaks the cause: %s", path, rec.Body)
		}
	}
	logs := e.logs.String()
	if n := strings.Count(logs, "hunter2"); n != 2 {
		t.Errorf("causes logged %d times, want once per request:\n%s", n, logs)
	}
	if !strings.Contains(logs, "level=ERROR") || !strings.Contains(logs, "route=/panic") {
		t.Errorf("500s not logged at error level with their route:\n%s", logs)
	}
}

func TestOneLogLinePerRequestWithoutBody(t *testing.T) {
	e := newTestEnv(t)
	e.createProject("shop")
	e.createComponent("shop", "api")
	before := strings.Count(e.logs.String(), "\n")
	e.do(http.MethodPut, cfgPath+"/DB_PASSWORD", e.developer, map[string]any{"value": canary, "secret": true})
	logs := e.logs.String()
	lines := strings.Split(strings.TrimSpace(logs), "\n")
	if len(lines) != before+1 {
		t.Fatalf("%d log lines for one request:\n%s", len(lines)-before, logs)
	}
	last := lines[len(lines)-1]
	for _, want := range []string{
		"method=PUT",
		"route=/api/v1/projects/:project/components/:component/environments/:environment/configs/:key",
		"status=201",
		"latency=",
		"token=dev",
	} {
		if !strings.Contains(last, want) {
			t.Errorf("log line %q lacks %q", last, want)
		}
	}
	if bytes.Contains([]byte(logs), []byte(canary)) {
		t.Errorf("logs contain a request body: %s", logs)
	}
}

// errorIDRE finds the error ID a 5xx names.
var errorIDRE = regexp.MustCompile(`error ID (e-[0-9a-f]{12})`)

// A 5xx names a fresh error ID, logged with the real error. An internal error shows no cause to anyone; a
// handler's 5xx message shows the host's paths, sockets and network details to an admin only.
func TestServerErrorsNameAnIDAndHideHostDetails(t *testing.T) {
	e := newTestEnv(t)
	const leaky = "Temporal is unavailable, so the build could not start; try again: dial tcp 10.1.2.3:7233: connect: connection refused"
	e.srv.echo.GET("/boom", func(echo.Context) error {
		return fmt.Errorf("opening /srv/slipway/data/buildkitd.sock: %w", errors.New("no such file"))
	}, e.srv.allow(roleViewer))
	e.srv.echo.GET("/unavailable", func(echo.Context) error {
		return &APIError{Status: http.StatusServiceUnavailable, Code: "temporal_unavailable", Message: leaky}
	}, e.srv.allow(roleViewer))

	ids := map[string]bool{}
	for _, token := range []string{e.viewer, e.developer, e.admin} {
		rec := e.do(http.MethodGet, "/boom", token, nil)
		apiErr := wantError(t, rec, http.StatusInternalServerError, "internal", "")
		m := errorIDRE.FindStringSubmatch(apiErr.Message)
		if m == nil || strings.Contains(rec.Body.String(), "buildkitd.sock") || strings.Contains(rec.Body.String(), "/srv/") {
			t.Fatalf("500 body %s: want an error ID and no cause", rec.Body)
		}
		ids[m[1]] = true
		if !strings.Contains(e.logs.String(), "error ID "+m[1]+": opening /srv/slipway/data/buildkitd.sock") {
			t.Fatalf("error ID %s not logged with its cause:\n%s", m[1], e.logs)
		}
	}
	if len(ids) != 3 {
		t.Errorf("error IDs %v, want a fresh one per request", ids)
	}

	for _, token := range []string{e.viewer, e.developer} {
		rec := e.do(http.MethodGet, "/unavailable", token, nil)
		apiErr := wantError(t, rec, http.StatusServiceUnavailable, "temporal_unavailable", "")
		m := errorIDRE.FindStringSubmatch(apiErr.Message)
		if m == nil || !strings.HasPrefix(apiErr.Message, "Temporal is unavailable, so the build could not start; try again; the details are in the server log") {
			t.Fatalf("503 message for a non-admin %q", apiErr.Message)
		}
		for _, detail := range []string{"10.1.2.3", "7233", "dial", "refused"} {
			if strings.Contains(rec.Body.String(), detail) {
				t.Fatalf("503 body for a non-admin names %q: %s", detail, rec.Body)
			}
		}
		if !strings.Contains(e.logs.String(), "error ID "+m[1]+": "+leaky) {
			t.Fatalf("error ID %s not logged with the whole message:\n%s", m[1], e.logs)
		}
	}
	apiErr := wantError(t, e.do(http.MethodGet, "/unavailable", e.admin, nil), http.StatusServiceUnavailable, "temporal_unavailable", "")
	if !strings.HasPrefix(apiErr.Message, leaky+" (error ID e-") {
		t.Fatalf("503 message for an admin %q, want the whole of it and the ID", apiErr.Message)
	}
}
