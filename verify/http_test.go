package verify

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/slipway-dev/slipway/api"
)

// release is a stand-in release: /version answers version, /slow answers after a while, /flaky fails its first
// answer, and every request is counted.
func release(t *testing.T, version string) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var n, flaky atomic.Int64
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		switch r.URL.Path {
		case "/version":
			_, _ = w.Write([]byte(version))
		case "/slow":
			time.Sleep(300 * time.Millisecond)
			_, _ = w.Write([]byte("ok"))
		case "/flaky":
			if flaky.Add(1) == 1 {
				http.Error(w, "warming up", http.StatusServiceUnavailable)
				return
			}
			_, _ = w.Write([]byte("ok"))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(s.Close)
	return s, &n
}

func TestHTTPChecks(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		version string
		checks  []api.HTTPCheck
		window  time.Duration
		passed  bool
		message string
		// tries bounds how many requests the run made, from below.
		tries int64
	}{
		{name: "passes for the window", version: "good v2", window: 2 * time.Second, passed: true, message: "1 check(s) passed", tries: 2,
			checks: []api.HTTPCheck{{Path: "/version", BodyContains: "good", Successes: 2, IntervalSeconds: 1}}},
		{name: "body does not match", version: "broken", window: time.Minute, message: `check "/version" failed 2 tries in a row: the body (status 200) does not contain "good"`, tries: 2,
			checks: []api.HTTPCheck{{Path: "/version", BodyContains: "good", Failures: 2, IntervalSeconds: 1}}},
		{name: "wrong status", version: "good", window: time.Minute, message: `check "home" failed 1 tries in a row: status 404, want 2xx`, tries: 1,
			checks: []api.HTTPCheck{{Name: "home", Path: "/nothing", Failures: 1}}},
		{name: "status given", version: "good", window: time.Second, passed: true, tries: 1,
			checks: []api.HTTPCheck{{Path: "/nothing", Status: 404, Successes: 1}}},
		{name: "over the latency bound", version: "good", window: time.Minute, message: "no answer within 100ms", tries: 1,
			checks: []api.HTTPCheck{{Path: "/slow", MaxLatencyMs: 100, Failures: 1}}},
		{name: "a failure inside the window is outlived", version: "good", window: time.Second, passed: true, tries: 3,
			checks: []api.HTTPCheck{{Path: "/flaky", Successes: 2, IntervalSeconds: 1}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, n := release(t, tc.version)
			out := HTTP(t.Context(), s.Client(), s.URL+"/", tc.checks, tc.window, nil)
			if out.Passed != tc.passed || !strings.Contains(out.Message, tc.message) {
				t.Fatalf("outcome %+v, want passed=%v with %q", out, tc.passed, tc.message)
			}
			if n.Load() < tc.tries {
				t.Fatalf("%d tries, want at least %d", n.Load(), tc.tries)
			}
		})
	}
}

// A verification stopped (its activity cancelled) ends at once, failed.
func TestHTTPStops(t *testing.T) {
	t.Parallel()
	s, _ := release(t, "good")
	ctx, cancel := context.WithCancel(t.Context())
	var said atomic.Int64
	began := time.Now()
	out := HTTP(ctx, s.Client(), s.URL, []api.HTTPCheck{{Path: "/version", IntervalSeconds: 1}}, time.Hour, func(string) {
		if said.Add(1) == 2 {
			cancel()
		}
	})
	if out.Passed || !strings.Contains(out.Message, "stopped") || time.Since(began) > 10*time.Second {
		t.Fatalf("outcome %+v after %s", out, time.Since(began))
	}
}
