package cli

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// fakeDeployAPI answers deploy and promote with deployment d-1 and lists it as running, then as ended
// with the given status.
type fakeDeployAPI struct {
	mu     sync.Mutex
	status string
	polls  int
	bodies []string
}

func (f *fakeDeployAPI) start(t *testing.T) *httptest.Server {
	mux := http.NewServeMux()
	accept := func(env string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			f.mu.Lock()
			f.bodies = append(f.bodies, r.URL.Path+" "+string(b))
			f.mu.Unlock()
			w.WriteHeader(http.StatusAccepted)
			_ = json.NewEncoder(w).Encode(map[string]any{"id": "d-1", "environment": env, "build": "b-1", "status": "queued"})
		}
	}
	mux.HandleFunc("POST /api/v1/projects/shop/components/api/environments/development/deploy", accept("development"))
	mux.HandleFunc("POST /api/v1/projects/shop/components/api/promote", accept("production"))
	mux.HandleFunc("GET /api/v1/projects/shop/components/api/deployments", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.polls++
		status := "running"
		if f.polls > 1 {
			status = f.status
		}
		f.mu.Unlock()
		d := map[string]any{"id": "d-1", "environment": "production", "build": "b-1", "digest": fakeDigest, "status": status,
			"url": "http://127.0.0.1:4000", "message": "not ready: GET /healthz: 404", "deployedAt": "2030-01-02T03:04:05Z"}
		_ = json.NewEncoder(w).Encode(map[string]any{"items": []any{
			map[string]any{"environment": "development", "current": nil, "history": []any{}},
			map[string]any{"environment": "production", "current": d, "history": []any{d},
				"drift": map[string]any{"detected": true, "message": "spec.replicas changed by kubectl-scale"}},
		}})
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func TestDeployPromoteAndDeployments(t *testing.T) {
	f := &fakeDeployAPI{status: "succeeded"}
	srv := f.start(t)
	code, stdout, stderr := runCLI(t, srv, "deploy", "shop/api", "--env", "development", "--build", "b-1")
	if code != 0 || stdout != "d-1\n" || !strings.Contains(stderr, "deployment d-1 of build b-1 to development queued") {
		t.Fatalf("deploy: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	code, _, stderr = runCLI(t, srv, "promote", "shop/api", "--to", "production", "--wait")
	if code != 0 || !strings.Contains(stderr, "succeeded: production serves build b-1 at http://127.0.0.1:4000") {
		t.Fatalf("promote --wait: exit %d, stderr %q", code, stderr)
	}
	if got := strings.Join(f.bodies, "|"); got != `/api/v1/projects/shop/components/api/environments/development/deploy {"build":"b-1"}`+
		`|/api/v1/projects/shop/components/api/promote {"to":"production"}` {
		t.Fatalf("requests %q", got)
	}
	code, stdout, _ = runCLI(t, srv, "deployments", "shop/api")
	want := "ENVIRONMENT  BUILD  DIGEST               URL                    DEPLOYED              LAST\n" +
		"development  -      -                    -                      -                     -\n" +
		"production   b-1    sha256:fedcba987654  http://127.0.0.1:4000  2030-01-02T03:04:05Z  succeeded b-1\n" +
		"drift in production: spec.replicas changed by kubectl-scale\n"
	if code != 0 || stdout != want {
		t.Fatalf("deployments: exit %d\n%s\nwant\n%s", code, stdout, want)
	}

	f = &fakeDeployAPI{status: "failed"}
	srv = f.start(t)
	code, _, stderr = runCLI(t, srv, "promote", "shop/api", "--wait")
	if code != 1 || !strings.Contains(stderr, "deployment d-1 failed: not ready: GET /healthz: 404") {
		t.Fatalf("failed promote --wait: exit %d, stderr %q", code, stderr)
	}
	if code, _, stderr = runCLI(t, srv, "deploy", "shop/api", "--env", "development"); code != 2 || !strings.Contains(stderr, `required flag(s) "build" not set`) {
		t.Fatalf("deploy without --build: exit %d, stderr %q", code, stderr)
	}
}
