package trivyscan_test

import (
	"io"
	"log"
	"net"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"

	"github.com/slipway-dev/slipway/scan"
	"github.com/slipway-dev/slipway/trivydb"
	"github.com/slipway-dev/slipway/trivyscan"
	"github.com/slipway-dev/slipway/trivyscan/trivytest"
)

// probeTimeout is the tests' Scanner.ProbeTimeout: short, for the repository that never answers.
const probeTimeout = 300 * time.Millisecond

// serveRegistry starts an empty registry and returns the reference of its trivy/db:2.
func serveRegistry(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://") + "/trivy/db:2"
}

// pushDB pushes the fixture database to ref.
func pushDB(t *testing.T, ref string) {
	t.Helper()
	tag, err := name.NewTag(ref, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := trivydb.Push(t.Context(), trivytest.DB(t), tag); err != nil {
		t.Fatalf("pushing the fixture database: %v", err)
	}
}

// hole is a registry that accepts connections and never answers, like one behind a firewall that
// drops packets.
type hole struct {
	// ref is its trivy/db:2.
	ref string
	// accepted counts the connections it took.
	accepted atomic.Int32
	// first is when it took the first.
	first atomic.Pointer[time.Time]
}

// blackhole starts a hole, closed at the end of the test.
func blackhole(t *testing.T) *hole {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h := &hole{ref: l.Addr().String() + "/trivy/db:2"}
	var conns sync.WaitGroup
	done := make(chan struct{})
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			now := time.Now()
			h.first.CompareAndSwap(nil, &now)
			h.accepted.Add(1)
			conns.Go(func() { <-done; c.Close() })
		}
	}()
	t.Cleanup(func() { l.Close(); close(done); conns.Wait() })
	return h
}

// hosts are the registries of refs, for Scanner.InsecureRegistries.
func hosts(refs ...string) []string {
	var out []string
	for _, r := range refs {
		host, _, _ := strings.Cut(r, "/")
		out = append(out, host)
	}
	return out
}

func TestDatabaseComesFromTheFirstRepositoryThatHasOne(t *testing.T) {
	hole1, hole2 := blackhole(t), blackhole(t)
	refused := "127.0.0.1:1/trivy/db:2"
	empty, mirror := serveRegistry(t), serveRegistry(t)
	pushDB(t, mirror)
	repos := []string{hole1.ref, refused, hole2.ref, empty, mirror}
	s := &trivyscan.Scanner{Binary: trivytest.Binary(t), CacheDir: t.TempDir(), DBRepositories: repos,
		InsecureRegistries: hosts(repos...), ProbeTimeout: probeTimeout}

	r := scanFiles(t, s, trivytest.VulnerableFiles, "")
	if r.VulnDB == nil || r.VulnDB.Source != mirror || r.VulnDB.UpdatedAt.IsZero() || r.VulnDB.DownloadedAt.IsZero() || len(r.NotScanned) != 0 {
		t.Fatalf("scanned with database %+v, not scanned %+v; want the one in %s", r.VulnDB, r.NotScanned, mirror)
	}
	if len(r.Vulnerabilities) != 2 {
		t.Fatalf("vulnerabilities %+v", r.Vulnerabilities)
	}
	// The repositories are asked at once: the second that does not answer is not asked only once
	// the first has timed out.
	t1, t2 := hole1.first.Load(), hole2.first.Load()
	if t1 == nil || t2 == nil || t2.Sub(*t1).Abs() > probeTimeout/2 {
		t.Fatalf("the unanswering repositories were first asked at %v and %v, want both at once", t1, t2)
	}
}

func TestUnansweringRepositoriesAreLeftOutUntilTheRefresh(t *testing.T) {
	h := blackhole(t)
	hole, accepted := h.ref, &h.accepted
	mirror := serveRegistry(t)
	s := &trivyscan.Scanner{Binary: trivytest.Binary(t), CacheDir: t.TempDir(), DBRepositories: []string{hole, mirror},
		InsecureRegistries: hosts(hole, mirror), ProbeTimeout: probeTimeout}

	r := scanFiles(t, s, trivytest.CleanFiles, "")
	if len(r.NotScanned) != 1 || !strings.HasPrefix(r.NotScanned[0].Reason, scan.ReasonNoVulnDB+": "+hole+": no answer within 300ms; ") ||
		!strings.Contains(r.NotScanned[0].Reason, mirror+": no database there") {
		t.Fatalf("not scanned %+v", r.NotScanned)
	}
	asked := accepted.Load()
	if asked == 0 {
		t.Fatal("the unanswering repository was not asked")
	}

	// The next scan leaves the unanswering repository out, and asks the one that answered again.
	r = scanFiles(t, s, trivytest.CleanFiles, "")
	if len(r.NotScanned) != 1 || !strings.Contains(r.NotScanned[0].Reason, "(asked again after ") || accepted.Load() != asked {
		t.Fatalf("second scan: not scanned %+v, %d connections to the unanswering repository (were %d)", r.NotScanned, accepted.Load(), asked)
	}
	pushDB(t, mirror)
	r = scanFiles(t, s, trivytest.CleanFiles, "")
	if r.VulnDB == nil || r.VulnDB.Source != mirror || accepted.Load() != asked {
		t.Fatalf("after the push: database %+v, not scanned %+v, %d connections to the unanswering repository (were %d)",
			r.VulnDB, r.NotScanned, accepted.Load(), asked)
	}
}

func TestDatabaseSourceIsWhereTheCopyCameFrom(t *testing.T) {
	first, second := serveRegistry(t), serveRegistry(t)
	pushDB(t, first)
	pushDB(t, second)
	cache := t.TempDir()
	newScanner := func(repo string) *trivyscan.Scanner {
		return &trivyscan.Scanner{Binary: trivytest.Binary(t), CacheDir: cache, DBRepositories: []string{repo}, InsecureRegistries: hosts(repo)}
	}
	a := scanFiles(t, newScanner(first), trivytest.CleanFiles, "")
	// Trivy keeps a copy downloaded within the hour, whichever repository it is asked to pull from.
	b := scanFiles(t, newScanner(second), trivytest.CleanFiles, "")
	if a.VulnDB == nil || b.VulnDB == nil || a.VulnDB.Source != first || *b.VulnDB != *a.VulnDB || !b.Cached {
		t.Fatalf("databases %+v then %+v (cached %v), want both from %s", a.VulnDB, b.VulnDB, b.Cached, first)
	}
}

func TestParseDBRepositories(t *testing.T) {
	got, err := trivyscan.ParseDBRepositories(" mirror.example/trivy-db , 127.0.0.1:5000/trivy/db:2,,")
	if err != nil || strings.Join(got, " ") != "mirror.example/trivy-db:2 127.0.0.1:5000/trivy/db:2" {
		t.Fatalf("ParseDBRepositories = %q, %v", got, err)
	}
	if _, err := trivyscan.ParseDBRepositories("Not A/Repository"); err == nil {
		t.Fatal("an invalid reference was accepted")
	}
	if d := trivyscan.DefaultDBRepositories(); len(d) != 2 || d[0] != "mirror.gcr.io/aquasec/trivy-db:2" || d[1] != "ghcr.io/aquasecurity/trivy-db:2" {
		t.Fatalf("DefaultDBRepositories = %q, want Trivy v0.74's", d)
	}
}
