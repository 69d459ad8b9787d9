package entry

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// slowServer answers its name after a short pause, so requests are in flight when the entry switches.
func slowServer(t *testing.T, name string) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(20 * time.Millisecond)
		_, _ = io.WriteString(w, name)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func addr(s *httptest.Server) string { return strings.TrimPrefix(s.URL, "http://") }

// load sends requests to url from several clients until stop is closed, counting answers by body
// and failures.
type load struct {
	mu       sync.Mutex
	bodies   map[string]int
	failures []string
	total    atomic.Int64
}

func startLoad(t *testing.T, url string, clients int, stop <-chan struct{}) (*load, *sync.WaitGroup) {
	l := &load{bodies: map[string]int{}}
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			c := &http.Client{Timeout: 5 * time.Second}
			for {
				select {
				case <-stop:
					return
				default:
				}
				resp, err := c.Get(url)
				l.total.Add(1)
				l.mu.Lock()
				switch {
				case err != nil:
					l.failures = append(l.failures, err.Error())
				case resp.StatusCode != http.StatusOK:
					l.failures = append(l.failures, resp.Status)
				default:
					b, _ := io.ReadAll(resp.Body)
					l.bodies[string(b)]++
				}
				l.mu.Unlock()
				if resp != nil {
					resp.Body.Close()
				}
			}
		})
	}
	return l, &wg
}

// waitRequests waits until the load has sent n more requests.
func (l *load) waitRequests(t *testing.T, n int64) {
	t.Helper()
	want := l.total.Load() + n
	deadline := time.Now().Add(10 * time.Second)
	for l.total.Load() < want {
		if time.Now().After(deadline) {
			t.Fatalf("load stalled at %d requests", l.total.Load())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestSwitchLosesNoRequest(t *testing.T) {
	var r Router
	t.Cleanup(func() { r.Close(context.Background()) })
	k := Key{"shop", "web", "production"}
	url, err := r.Open(k, "")
	if err != nil {
		t.Fatal(err)
	}
	old, next := slowServer(t, "old"), slowServer(t, "new")
	if err := r.Switch(t.Context(), k, []string{addr(old)}); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	l, wg := startLoad(t, url, 8, stop)
	l.waitRequests(t, 50)

	// A good rollout: switch, and once the old backend is drained, stop it as the driver would.
	start := time.Now()
	if err := r.Switch(t.Context(), k, []string{addr(next)}); err != nil {
		t.Fatal(err)
	}
	drained := time.Since(start)
	old.Close() // closes listeners and waits for active requests: there must be none left
	l.waitRequests(t, 100)
	close(stop)
	wg.Wait()
	if len(l.failures) != 0 {
		t.Fatalf("%d of %d requests failed during the switch: %v", len(l.failures), l.total.Load(), l.failures[:min(5, len(l.failures))])
	}
	if l.bodies["old"] == 0 || l.bodies["new"] < 100 {
		t.Fatalf("answers %v", l.bodies)
	}
	t.Logf("%d requests, 0 failed; switch drained in %s", l.total.Load(), drained)
	if got := r.Backends(k); len(got) != 1 || got[0] != addr(next) {
		t.Fatalf("backends %v", got)
	}
}

func TestEntryKeepsItsAddressAndSaysWhenEmpty(t *testing.T) {
	var r Router
	k := Key{"shop", "web", "development"}
	url, err := r.Open(k, "")
	if err != nil {
		t.Fatal(err)
	}
	again, err := r.Open(k, "127.0.0.1:1") // already open: the address stays
	if err != nil || again != url {
		t.Fatalf("reopened at %s (%v), want %s", again, err, url)
	}
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadGateway || !strings.Contains(string(body), "no release is serving at shop/web/development") {
		t.Fatalf("empty entry answered %d %q", resp.StatusCode, body)
	}
	if err := r.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	// A new process reopens the recorded address.
	var r2 Router
	t.Cleanup(func() { r2.Close(context.Background()) })
	reopened, err := r2.Open(k, strings.TrimPrefix(url, "http://"))
	if err != nil || reopened != url {
		t.Fatalf("reopened at %s (%v), want %s", reopened, err, url)
	}
	if err := r2.Switch(t.Context(), Key{"x", "y", "z"}, nil); err == nil {
		t.Fatal("switching an entry that is not open succeeded")
	}
}
