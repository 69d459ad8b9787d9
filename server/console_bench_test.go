package server

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/slipway-dev/slipway/api"
	"github.com/slipway-dev/slipway/scan"
	"github.com/slipway-dev/slipway/secretbox"
	"github.com/slipway-dev/slipway/store"
)

// consoleBenchBuilds is how many builds the component of the console benchmarks has.
const consoleBenchBuilds = 1000

// BenchmarkConsoleComponentPage measures the server time of a component's Build Area and Deploy pages with
// consoleBenchBuilds finished builds (steps, digest, scan summary) on SQLite, signed in with a session cookie, and
// beside them the REST read of the same first page of builds (GET …/builds?limit=20, JSON): the ratio is what the
// HTML costs over the API. The goal is ≤ 50 ms a page.
func BenchmarkConsoleComponentPage(b *testing.B) {
	dir := b.TempDir()
	ctx := context.Background()
	st, err := store.Open(ctx, "sqlite://"+filepath.Join(dir, "s.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = st.Close() })
	keys, err := secretbox.LoadOrCreateKeyring(filepath.Join(dir, "keys", "keyring.json"))
	if err != nil {
		b.Fatal(err)
	}
	h := New(Deps{Store: st, Keys: keys, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}).Handler()
	token, tok, err := MintToken("bench", RoleAdmin)
	if err != nil {
		b.Fatal(err)
	}
	if err := st.CreateToken(ctx, tok); err != nil {
		b.Fatal(err)
	}
	call := func(method, path, body string) {
		req := httptest.NewRequest(method, path, nil)
		if body != "" {
			req = newRequest(method, path, body)
			req.Header.Set("Content-Type", "application/json")
		}
		req.Header.Set("Authorization", "Bearer "+token)
		if rec := serve(h, req); rec.Code/100 != 2 {
			b.Fatalf("%s %s: %d %s", method, path, rec.Code, rec.Body)
		}
	}
	call(http.MethodPost, "/api/v1/projects", `{"name":"shop"}`)
	call(http.MethodPost, "/api/v1/projects/shop/components", `{"name":"api","repo":"https://git.example.com/acme/api.git"}`)
	start := time.Now()
	for i := range consoleBenchBuilds {
		id := fmt.Sprintf("b-%04d", i)
		if _, err := st.CreateBuild(ctx, store.Build{ID: id, Project: "shop", Component: "api", Commit: fmt.Sprintf("%040x", i),
			Trigger: store.Trigger{Kind: "webhook", Actor: "dev@example.com"}}); err != nil {
			b.Fatal(err)
		}
		if err := st.PutBuildScan(ctx, id, scan.Report{}, scan.Summary{Passed: true}); err != nil {
			b.Fatal(err)
		}
		if _, err := st.UpdateBuild(ctx, id, func(bd *store.Build) error {
			t0 := start.Add(time.Duration(i) * time.Second)
			t1 := t0.Add(40 * time.Second)
			bd.Status, bd.Digest, bd.ImageSize = api.BuildSucceeded, fmt.Sprintf("sha256:%064x", i), 5<<20
			bd.StartedAt, bd.EndedAt = &t0, &t1
			bd.Steps = []store.Step{{Name: "checkout", Status: "succeeded", StartedAt: &t0, EndedAt: &t0},
				{Name: "build", Status: "succeeded", StartedAt: &t0, EndedAt: &t1}, {Name: "scan", Status: "succeeded"}, {Name: "push", Status: "succeeded"}}
			return nil
		}); err != nil {
			b.Fatal(err)
		}
	}
	secret := randomString(32)
	if _, err := st.CreateSession(ctx, HashToken(secret), tok.ID, "csrf", time.Now().Add(time.Hour)); err != nil {
		b.Fatal(err)
	}
	cookie := &http.Cookie{Name: sessionCookie, Value: secret}

	for _, c := range []struct{ name, path string }{
		{"BuildArea", "/projects/shop/components/api"},
		{"Deploy", "/projects/shop/components/api/deploy"},
		{"RESTBuilds", "/api/v1/projects/shop/components/api/builds?limit=20"},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				req := httptest.NewRequest(http.MethodGet, c.path, nil)
				req.AddCookie(cookie)
				if rec := serve(h, req); rec.Code != http.StatusOK {
					b.Fatalf("GET %s: %d %s", c.path, rec.Code, rec.Body)
				}
			}
			ms := float64(b.Elapsed().Microseconds()) / 1000 / float64(b.N)
			b.ReportMetric(ms, "ms/page")
			if c.name != "RESTBuilds" && ms > 50 {
				b.Errorf("%s takes %.1f ms with %d builds, over the 50 ms goal", c.path, ms, consoleBenchBuilds)
			}
		})
	}
}
