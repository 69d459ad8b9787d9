package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/slipway-dev/slipway/secretbox"
	"github.com/slipway-dev/slipway/server"
	"github.com/slipway-dev/slipway/store"
)

// benchKeys is how many config keys BenchmarkPutConfigHTTP cycles over, and benchProjects how many projects
// BenchmarkListProjectsHTTP lists from.
const (
	benchKeys     = 100
	benchProjects = 100
)

// benchAPI is the whole API over a real SQLite store and a real keyring in b.TempDir(), with a developer token.
// Request log lines are formatted as in production but thrown away.
type benchAPI struct {
	h     http.Handler
	st    *store.Store
	token string
}

func newBenchAPI(b *testing.B) *benchAPI {
	b.Helper()
	dir := b.TempDir()
	st, err := store.Open(context.Background(), "sqlite://"+filepath.Join(dir, "slipway.db"))
	if err != nil {
		b.Fatalf("opening store: %v", err)
	}
	b.Cleanup(func() {
		if err := st.Close(); err != nil {
			b.Errorf("closing store: %v", err)
		}
	})
	keys, err := secretbox.LoadOrCreateKeyring(filepath.Join(dir, "keys", "keyring.json"))
	if err != nil {
		b.Fatalf("creating keyring: %v", err)
	}
	token, t, err := server.MintToken("bench", server.RoleDeveloper)
	if err != nil {
		b.Fatalf("MintToken: %v", err)
	}
	if err := st.CreateToken(context.Background(), t); err != nil {
		b.Fatalf("CreateToken: %v", err)
	}
	srv := server.New(server.Deps{
		Store:  st,
		Keys:   keys,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	return &benchAPI{h: srv.Handler(), st: st, token: token}
}

// do serves one authenticated request and fails unless the status is one of want.
func (a *benchAPI) do(b *testing.B, method, path, body string, want ...int) *httptest.ResponseRecorder {
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, path, r)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+a.token)
	rec := httptest.NewRecorder()
	a.h.ServeHTTP(rec, req)
	for _, w := range want {
		if rec.Code == w {
			return rec
		}
	}
	b.Errorf("%s %s: status %d, want %v; body: %s", method, path, rec.Code, want, rec.Body)
	return rec
}

// reportRate adds requests per second, over all goroutines, to the benchmark's result line.
func reportRate(b *testing.B, requests int) {
	if s := b.Elapsed().Seconds(); s > 0 {
		b.ReportMetric(float64(requests)/s, "req/s")
	}
}

// BenchmarkPutConfigHTTP measures a full authenticated PUT of a 1 KiB config value: routing, bearer-token lookup,
// JSON decoding, validation, sealing, the store's update-or-insert transaction (which also decides the kind), the
// JSON answer, metrics and the request log line. It cycles over benchKeys keys, so nearly every put replaces a
// value (200).
func BenchmarkPutConfigHTTP(b *testing.B) {
	body, err := json.Marshal(map[string]string{"value": strings.Repeat("v", 1<<10)})
	if err != nil {
		b.Fatal(err)
	}
	setup := func(b *testing.B) *benchAPI {
		a := newBenchAPI(b)
		a.do(b, http.MethodPost, "/api/v1/projects", `{"name":"shop"}`, http.StatusCreated)
		a.do(b, http.MethodPost, "/api/v1/projects/shop/components",
			`{"name":"api","repo":"https://git.example.com/acme/api.git"}`, http.StatusCreated)
		return a
	}
	const path = "/api/v1/projects/shop/components/api/environments/production/configs/"

	b.Run("serial", func(b *testing.B) {
		a := setup(b)
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			a.do(b, http.MethodPut, fmt.Sprintf("%sKEY_%03d", path, i%benchKeys), string(body), http.StatusOK, http.StatusCreated)
			i++
		}
		reportRate(b, b.N)
	})
	b.Run("parallel", func(b *testing.B) {
		a := setup(b)
		var next atomic.Int64
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				i := next.Add(1)
				a.do(b, http.MethodPut, fmt.Sprintf("%sKEY_%03d", path, i%benchKeys), string(body), http.StatusOK, http.StatusCreated)
			}
		})
		reportRate(b, b.N)
	})
}

// BenchmarkListProjectsHTTP measures an authenticated GET /api/v1/projects with benchProjects projects stored:
// the default first page (50 projects and a next cursor).
func BenchmarkListProjectsHTTP(b *testing.B) {
	setup := func(b *testing.B) *benchAPI {
		a := newBenchAPI(b)
		for i := range benchProjects {
			if _, err := a.st.CreateProject(context.Background(), store.Project{Name: fmt.Sprintf("project-%03d", i)},
				[]store.Environment{{Name: "development"}, {Name: "production", Production: true}}); err != nil {
				b.Fatalf("CreateProject: %v", err)
			}
		}
		rec := a.do(b, http.MethodGet, "/api/v1/projects", "", http.StatusOK)
		var page struct {
			Items []json.RawMessage `json:"items"`
			Next  string            `json:"next"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &page); err != nil || len(page.Items) == 0 || page.Next == "" {
			b.Fatalf("GET /api/v1/projects = %s (%v), want a full first page with a next cursor", rec.Body, err)
		}
		return a
	}

	b.Run("serial", func(b *testing.B) {
		a := setup(b)
		b.ReportAllocs()
		for b.Loop() {
			a.do(b, http.MethodGet, "/api/v1/projects", "", http.StatusOK)
		}
		reportRate(b, b.N)
	})
	b.Run("parallel", func(b *testing.B) {
		a := setup(b)
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				a.do(b, http.MethodGet, "/api/v1/projects", "", http.StatusOK)
			}
		})
		reportRate(b, b.N)
	})
}
