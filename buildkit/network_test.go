package buildkit

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// TestBuildStepsStayOffTheHostNetwork runs a RUN step that calls a service on the host's loopback,
// as slipway's API, registry and Temporal listen, and one on the host's outside address, on
// buildkitds with each build network: isolated (the shared daemon), none and host. Only host
// reaches the loopback service; isolated still reaches beyond its own namespace.
func TestBuildStepsStayOffTheHostNetwork(t *testing.T) {
	e := sharedEnv(t)
	var loopbackHits atomic.Int32
	loopback := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		loopbackHits.Add(1)
		_, _ = io.WriteString(w, "host-loopback-secret")
	}))
	defer loopback.Close()
	outsideIP := outsideAddress(t)
	ln, err := net.Listen("tcp", net.JoinHostPort(outsideIP, "0"))
	if err != nil {
		t.Fatal(err)
	}
	outside := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "outside-ok")
	}))
	outside.Listener = ln
	outside.Start()
	defer outside.Close()

	// probe builds a step that records what it reached: a body, or "unreachable".
	probe := func(address string) (loop, out, addrs string) {
		t.Helper()
		n := nonce()
		// (nc, not wget: the static busybox's wget crashes in an image without glibc's NSS files.)
		get := func(url, file string) string {
			hostPort := strings.TrimPrefix(url, "http://")
			return fmt.Sprintf(`(printf 'GET / HTTP/1.0\r\n\r\n' | nc -w 5 %s 2>/dev/null | tail -n 1 | grep . || echo unreachable) > /%s`,
				strings.Replace(hostPort, ":", " ", 1), file)
		}
		dir := writeContext(t, map[string]string{"Dockerfile": fmt.Sprintf("FROM %s\nRUN echo %s && %s && %s && ip -4 addr > /addrs\n",
			e.base, n, get(loopback.URL, "loop"), get(outside.URL, "out"))})
		res, lines, err := buildOn(t, testContext(t), address, Request{ContextDir: dir})
		if err != nil {
			t.Fatalf("Build: %v\n%s", err, strings.Join(lines, "\n"))
		}
		files := imageFiles(t, res.LayoutDir, res.Digest)
		return strings.TrimSpace(files["loop"]), strings.TrimSpace(files["out"]), files["addrs"]
	}

	loop, out, addrs := probe(e.daemon.Address())
	if loop != "unreachable" || out != "outside-ok" || !strings.Contains(addrs, "inet 10.218.") {
		t.Errorf("isolated: loopback %q (want unreachable), outside %q (want outside-ok), addresses:\n%s(want one in 10.218.0.0/16)", loop, out, addrs)
	}

	none := startDaemonWith(t, NetworkNone)
	loop, out, addrs = probe(none.Address())
	if loop != "unreachable" || out != "unreachable" || strings.Contains(addrs, "inet 10.218.") {
		t.Errorf("none: loopback %q, outside %q (want both unreachable), addresses:\n%s(want loopback only)", loop, out, addrs)
	}
	if loopbackHits.Load() != 0 {
		t.Errorf("the host's loopback service was called %d times by isolated or network-less steps", loopbackHits.Load())
	}

	host := startDaemonWith(t, NetworkHost)
	if loop, _, _ = probe(host.Address()); loop != "host-loopback-secret" {
		t.Errorf("host: loopback %q, want the service's answer (else this test cannot tell the networks apart)", loop)
	}
}

// outsideAddress returns one of the host's IPv4 addresses that is not loopback, or skips.
func outsideAddress(t *testing.T) string {
	t.Helper()
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		if ipn, ok := a.(*net.IPNet); ok && ipn.IP.To4() != nil && !ipn.IP.IsLoopback() {
			return ipn.IP.String()
		}
	}
	t.Skip("the host has no IPv4 address beyond loopback")
	return ""
}

// startDaemonWith starts a buildkitd of its own with the given build network, pulling from the
// shared registry, and stops it when the test ends.
func startDaemonWith(t *testing.T, network Network) *Daemon {
	t.Helper()
	e := sharedEnv(t)
	root, err := os.MkdirTemp("", "slipway-bk-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	d, err := StartDaemon(context.Background(), DaemonConfig{
		Binary:             requireBuildkitd(t),
		RootDir:            filepath.Join(root, "d"),
		InsecureRegistries: []string{e.registry},
		Network:            network,
		Logger:             slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatalf("starting buildkitd with network %s: %v", network, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = d.Stop(ctx)
	})
	return d
}

func TestParseNetwork(t *testing.T) {
	for in, want := range map[string]Network{"": NetworkIsolated, "isolated": NetworkIsolated, "none": NetworkNone, "host": NetworkHost} {
		if got, err := ParseNetwork(in); err != nil || got != want {
			t.Errorf("ParseNetwork(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := ParseNetwork("bridge"); err == nil || !strings.Contains(err.Error(), "isolated, none or host") {
		t.Errorf("ParseNetwork(bridge) error = %v, want one naming the choices", err)
	}
}

// TestReleaseNetNSClearsStackedMounts mounts a namespace file of buildkitd's CNI directory twice, as a
// killed buildkitd or a propagated bind mount leaves it, and checks releaseNetNS unmounts both and
// removes the file, so the data dir can be deleted.
func TestReleaseNetNSClearsStackedMounts(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("bind mounts need root")
	}
	root := t.TempDir()
	dir := filepath.Join(root, netNSDir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	stacked, single, source := filepath.Join(dir, "stacked"), filepath.Join(dir, "single"), filepath.Join(root, "source")
	for _, p := range []string{stacked, single, source, filepath.Join(dir, "unmounted")} {
		if err := os.WriteFile(p, nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, target := range []string{stacked, stacked, single} {
		if err := syscall.Mount(source, target, "", syscall.MS_BIND, ""); err != nil {
			t.Fatalf("bind-mounting %s: %v", target, err)
		}
	}
	t.Cleanup(func() { // a failed release must not leave the test's own temp dir unremovable
		for _, p := range []string{stacked, single} {
			_ = unmountAll(p)
		}
	})
	if err := os.Remove(stacked); !errors.Is(err, syscall.EBUSY) {
		t.Fatalf("removing a mounted namespace file: %v, want EBUSY (the set-up did not mount it)", err)
	}

	if err := releaseNetNS(root); err != nil {
		t.Fatalf("releaseNetNS: %v", err)
	}
	left, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != 0 {
		t.Errorf("releaseNetNS left %v in %s", left, dir)
	}
	if err := releaseNetNS(filepath.Join(root, "nothing")); err != nil {
		t.Errorf("releaseNetNS of a root without namespaces: %v, want nil", err)
	}
}
