package server

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/slipway-dev/slipway/secretbox"
	"github.com/slipway-dev/slipway/store"
)

// syncBuffer is a bytes.Buffer safe for the logger and the test to share.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// testEnv is a Server over a real SQLite store and a real keyring in t.TempDir(), with one token per role.
type testEnv struct {
	t       *testing.T
	srv     *Server
	h       http.Handler
	st      *store.Store
	keys    *secretbox.Keyring
	logs    *syncBuffer
	rewraps atomic.Int32

	admin, developer, viewer string
}

// newTestEnv builds a testEnv; adjust may change the Deps before New.
func newTestEnv(t *testing.T, adjust ...func(*Deps)) *testEnv {
	t.Helper()
	dir := t.TempDir()
	st, err := store.Open(context.Background(), "sqlite://"+filepath.Join(dir, "s.db"))
	if err != nil {
		t.Fatalf("opening store: %v", err)
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Errorf("closing store: %v", err)
		}
	})
	keys, err := secretbox.LoadOrCreateKeyring(filepath.Join(dir, "keys", "keyring.json"))
	if err != nil {
		t.Fatalf("creating keyring: %v", err)
	}
	e := &testEnv{t: t, st: st, keys: keys, logs: &syncBuffer{}}
	d := Deps{
		Store:  st,
		Keys:   keys,
		Logger: slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Rewrap: func(ctx context.Context) (int, error) {
			e.rewraps.Add(1)
			return st.RewrapConfigs(ctx, 2, keys.Rewrap)
		},
	}
	for _, f := range adjust {
		f(&d)
	}
	e.srv = New(d)
	// Every answer of the tests is checked against the OpenAPI document (openapi_check_test.go).
	e.h = checkedHandler(t, e.srv.Handler())
	e.admin = e.newToken("root", RoleAdmin)
	e.developer = e.newToken("dev", RoleDeveloper)
	e.viewer = e.newToken("watcher", RoleViewer)
	return e
}

// newToken stores a token with the given name and role straight in the store and returns its secret.
func (e *testEnv) newToken(name, role string) string {
	e.t.Helper()
	token, t, err := MintToken(name, role)
	if err != nil {
		e.t.Fatalf("MintToken: %v", err)
	}
	if err := e.st.CreateToken(context.Background(), t); err != nil {
		e.t.Fatalf("creating token %q: %v", name, err)
	}
	return token
}

// do sends one request. body may be nil, a string or []byte (sent as is) or any value (sent as JSON);
// token "" sends no Authorization header.
func (e *testEnv) do(method, path, token string, body any) *httptest.ResponseRecorder {
	e.t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	case []byte:
		r = bytes.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			e.t.Fatalf("encoding request body: %v", err)
		}
		r = bytes.NewReader(data)
	}
	req := httptest.NewRequest(method, path, r)
	if r != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	return rec
}

// must sends a request and fails the test unless the status is want; it decodes the body into out when non-nil.
func (e *testEnv) must(want int, method, path, token string, body, out any) *httptest.ResponseRecorder {
	e.t.Helper()
	rec := e.do(method, path, token, body)
	if rec.Code != want {
		e.t.Fatalf("%s %s: status %d, want %d; body: %s", method, path, rec.Code, want, rec.Body)
	}
	if out != nil {
		if err := json.Unmarshal(rec.Body.Bytes(), out); err != nil {
			e.t.Fatalf("%s %s: decoding body %s: %v", method, path, rec.Body, err)
		}
	}
	return rec
}

// wantError fails the test unless rec is the JSON error shape with this status, code and field.
func wantError(t *testing.T, rec *httptest.ResponseRecorder, status int, code, field string) *APIError {
	t.Helper()
	if rec.Code != status {
		t.Fatalf("status %d, want %d; body: %s", rec.Code, status, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	var body struct {
		Error *APIError `json:"error"`
	}
	dec := json.NewDecoder(bytes.NewReader(rec.Body.Bytes()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil || body.Error == nil {
		t.Fatalf("body %s is not the error shape: %v", rec.Body, err)
	}
	if body.Error.Code != code || body.Error.Field != field {
		t.Errorf("error code %q field %q, want code %q field %q (message %q)", body.Error.Code, body.Error.Field, code, field, body.Error.Message)
	}
	if body.Error.Message == "" {
		t.Errorf("error has no message")
	}
	return body.Error
}

// createProject creates a project as the developer.
func (e *testEnv) createProject(name string) {
	e.t.Helper()
	e.must(http.StatusCreated, http.MethodPost, "/api/v1/projects", e.developer, map[string]any{"name": name}, nil)
}

// createComponent creates a component with only the required fields as the developer.
func (e *testEnv) createComponent(project, name string) {
	e.t.Helper()
	e.must(http.StatusCreated, http.MethodPost, "/api/v1/projects/"+project+"/components", e.developer,
		map[string]any{"name": name, "repo": "https://git.example.com/acme/" + name + ".git"}, nil)
}

func TestNewPanicsWithoutStoreOrKeys(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("New(Deps{}) did not panic")
		}
	}()
	New(Deps{})
}

// newRequest builds a request with an optional raw body.
func newRequest(method, path, body string) *http.Request {
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	return httptest.NewRequest(method, path, r)
}

// serve runs req through h.
func serve(h http.Handler, req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}
