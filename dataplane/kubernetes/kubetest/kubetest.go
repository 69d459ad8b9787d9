// Package kubetest runs a real Kubernetes control plane for tests: etcd, kube-apiserver,
// kube-controller-manager and kube-scheduler, with kwok playing the kubelet of fake nodes, so
// Deployments roll out, ReplicaSets scale and pods get scheduled and become Ready without a
// container runtime. The Kubernetes programs are the pinned ones `make testtools` builds into bin/
// (tools/kube); etcd is Debian's etcd-server (scripts/deps.sh). Without them tests skip, unless
// CI_REQUIRE_KUBE=1 makes them fail.
//
// A pod whose container image contains UnhealthyImageMarker runs but never becomes Ready; every
// other pod becomes Ready as soon as it is scheduled.
package kubetest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// UnhealthyImageMarker is what makes a pod unhealthy: when one of its containers' image, or the path
// of its HTTP readiness probe (a build is marked so by its descriptor), contains
// it, kwok sets the pod Running with its Ready condition False, for good.
const UnhealthyImageMarker = "unhealthy"

// startTimeout bounds how long Start waits for the whole control plane to be ready.
const startTimeout = 2 * time.Minute

// ControlPlane is a real Kubernetes control plane: etcd, kube-apiserver, kube-controller-manager,
// kube-scheduler and kwok (fake nodes and pods), all on 127.0.0.1, with its state in a temporary
// directory.
type ControlPlane struct {
	// Config reaches kube-apiserver as an administrator: a static bearer token whose user is in
	// group system:masters. Copy it (rest.CopyConfig) before changing it.
	Config *rest.Config
	// Kubeconfig is the path of a kubeconfig file holding Config, for programs that take one.
	Kubeconfig string
	// Nodes are the names of the fake nodes kwok keeps Ready; the scheduler places pods on them.
	Nodes []string

	dir   string
	procs []*process // in start order; stopped in reverse
}

// Start starts a control plane for tb and stops it, removing its files, when tb ends. It returns
// once kube-apiserver is ready, the default namespace and its service account exist, the scheduler
// is ready and the nodes are Ready. When tb fails, the tail of each component's log is logged.
func Start(tb testing.TB) *ControlPlane {
	tb.Helper()
	bins := binaries(tb)
	c, err := start(bins)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if tb.Failed() {
			for _, p := range c.procs {
				tb.Logf("%s log:\n%s", p.name, p.tail(20))
			}
		}
		c.stop()
	})
	return c
}

// shared is the control plane Shared starts once per test binary and Main stops.
var shared struct {
	once sync.Once
	c    *ControlPlane
	err  error
}

// Shared returns the test binary's one control plane, starting it on first use. Tests sharing it
// should each work in a namespace of their own. The package's TestMain must be Main, which stops
// it; should the test binary die first, its processes are killed with it (Pdeathsig).
func Shared(tb testing.TB) *ControlPlane {
	tb.Helper()
	bins := binaries(tb)
	shared.once.Do(func() { shared.c, shared.err = start(bins) })
	if shared.err != nil {
		tb.Fatal(shared.err)
	}
	return shared.c
}

// Main is a TestMain that runs the tests, then stops the control plane Shared started, if any:
//
//	func TestMain(m *testing.M) { kubetest.Main(m) }
func Main(m *testing.M) {
	code := m.Run()
	if shared.c != nil {
		shared.c.stop()
	}
	os.Exit(code)
}

// Eventually calls check every 100 ms until it returns nil, failing tb with check's last error when
// timeout passes first (or when tb's context ends). what names what is waited for.
func Eventually(tb testing.TB, timeout time.Duration, what string, check func() error) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("waiting %s for %s: %v", timeout, what, err)
		}
		select {
		case <-tb.Context().Done():
			tb.Fatal(tb.Context().Err())
		case <-tick.C:
		}
	}
}

// Client returns a clientset for c, as an administrator.
func (c *ControlPlane) Client(tb testing.TB) kubernetes.Interface {
	tb.Helper()
	cs, err := kubernetes.NewForConfig(rest.CopyConfig(c.Config))
	if err != nil {
		tb.Fatalf("making a Kubernetes client: %v", err)
	}
	return cs
}

// start starts a control plane from bins; on an error it stops what it started.
func start(bins tools) (c *ControlPlane, err error) {
	began := time.Now()
	dir, err := os.MkdirTemp(tmpfs(), "kubetest-")
	if err != nil {
		return nil, fmt.Errorf("starting a control plane: %w", err)
	}
	c = &ControlPlane{dir: dir}
	defer func() {
		if err != nil {
			c.stop()
			err = fmt.Errorf("starting a control plane: %w", err)
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	if err := c.run(ctx, bins); err != nil {
		if ctx.Err() != nil {
			return c, fmt.Errorf("not ready after %s: %w", time.Since(began).Round(time.Second), err)
		}
		return c, err
	}
	return c, nil
}

// stop stops c's processes, the API server's clients first and etcd last, and removes its files.
func (c *ControlPlane) stop() {
	var wg sync.WaitGroup
	for i := len(c.procs) - 1; i >= 0; i-- {
		p := c.procs[i]
		if p.name == "etcd" || p.name == "kube-apiserver" {
			wg.Wait() // the API server after its clients, etcd after the API server
		}
		wg.Go(p.stop)
	}
	wg.Wait()
	_ = os.RemoveAll(c.dir) // a temporary directory: nothing to do about an error here
}

// tmpfs returns /dev/shm when there is one, so etcd's writes cost no disk flushes (etcd 3.4 has no
// --unsafe-no-fsync), else "" (the default temporary directory).
func tmpfs() string {
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		return "/dev/shm"
	}
	return ""
}

// tools are the paths of the programs a control plane runs.
type tools struct {
	etcd, apiserver, controllerManager, scheduler, kwok string
}

// binaries finds the control plane's programs: bin/ of the repository, found from this file's
// place in it, and etcd on PATH. Without one tb is skipped, unless CI_REQUIRE_KUBE=1 fails it;
// with -short (make unit) it is skipped.
func binaries(tb testing.TB) tools {
	tb.Helper()
	if testing.Short() {
		tb.Skip("-short: skipping a test that runs a Kubernetes control plane")
	}
	_, file, _, _ := runtime.Caller(0)
	bin := filepath.Join(filepath.Dir(file), "..", "..", "..", "bin")
	t := tools{
		apiserver:         filepath.Join(bin, "kube-apiserver"),
		controllerManager: filepath.Join(bin, "kube-controller-manager"),
		scheduler:         filepath.Join(bin, "kube-scheduler"),
		kwok:              filepath.Join(bin, "kwok"),
	}
	var missing []string
	for _, p := range []string{t.apiserver, t.controllerManager, t.scheduler, t.kwok} {
		if _, err := os.Stat(p); err != nil {
			missing = append(missing, p+" (run `make testtools`)")
		}
	}
	etcd, err := exec.LookPath("etcd")
	if err != nil {
		missing = append(missing, "etcd (run scripts/deps.sh or install Debian's etcd-server)")
	}
	t.etcd = etcd
	if len(missing) > 0 {
		msg := "a Kubernetes control plane needs " + strings.Join(missing, ", ")
		if os.Getenv("CI_REQUIRE_KUBE") == "1" {
			tb.Fatal(msg + "; CI_REQUIRE_KUBE=1")
		}
		tb.Skip(msg)
	}
	return t
}
