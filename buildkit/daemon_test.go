package buildkit

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/moby/buildkit/client"
)

// daemonRoot returns a new short directory for a buildkitd root, removed after the test.
func daemonRoot(t *testing.T) string {
	t.Helper()
	root, err := os.MkdirTemp("", "slipway-bk-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	return root
}

// syncBuffer is a bytes.Buffer safe for the logger's concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestDaemonStartsAndStops(t *testing.T) {
	bin := requireBuildkitd(t)
	root := daemonRoot(t)
	var logs syncBuffer
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	d, err := StartDaemon(ctx, DaemonConfig{
		Binary:             bin,
		RootDir:            root,
		InsecureRegistries: []string{"127.0.0.1:5000"},
		Logger:             slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		t.Fatalf("StartDaemon: %v", err)
	}
	if want := "unix://" + filepath.Join(root, "buildkitd.sock"); d.Address() != want {
		t.Errorf("Address() = %q, want %q", d.Address(), want)
	}
	c, err := client.New(ctx, d.Address())
	if err != nil {
		t.Fatal(err)
	}
	workers, err := c.ListWorkers(ctx)
	c.Close()
	if err != nil || len(workers) == 0 {
		t.Fatalf("ListWorkers = %d workers, %v", len(workers), err)
	}
	if w := workers[0]; w.Labels["org.mobyproject.buildkit.worker.executor"] != "oci" {
		t.Errorf("worker labels %v, want the OCI executor", w.Labels)
	}
	if !strings.Contains(logs.String(), "msg=buildkitd") {
		t.Errorf("buildkitd's output did not reach the logger:\n%s", logs.String())
	}
	// A start on an ordinary machine warns of nothing (its CDI and similar notices are at debug).
	for _, l := range strings.Split(logs.String(), "\n") {
		if strings.Contains(l, "level=WARN") || strings.Contains(l, "level=ERROR") {
			t.Errorf("buildkitd's start logged %s", l)
		}
	}

	if err := d.Stop(ctx); err != nil {
		t.Errorf("Stop: %v", err)
	}
	select {
	case <-d.Done():
	default:
		t.Error("Done not closed after Stop returned")
	}
	if err := d.Stop(ctx); err != nil {
		t.Errorf("second Stop: %v", err)
	}
	if _, err := os.Stat(filepath.Join(root, "buildkitd.lock")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("buildkitd.lock still there after Stop (%v): buildkitd did not shut down in order", err)
	}
	// Its pool of build steps' network namespaces goes with it: nothing stays mounted under its root.
	mounts, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	for l := range strings.Lines(string(mounts)) {
		if strings.Contains(l, root) {
			t.Errorf("still mounted after Stop: %s", l)
		}
	}
}

func TestDaemonStopsWhenItsContextEnds(t *testing.T) {
	bin := requireBuildkitd(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	d, err := StartDaemon(ctx, DaemonConfig{Binary: bin, RootDir: daemonRoot(t), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatalf("StartDaemon: %v", err)
	}
	cancel()
	select {
	case <-d.Done():
	case <-time.After(30 * time.Second):
		t.Fatal("buildkitd still running 30s after its context ended")
	}
}

func TestStartDaemonReportsAnEarlyExit(t *testing.T) {
	// A "buildkitd" that prints a complaint and exits stands in for one refusing its config.
	script := filepath.Join(t.TempDir(), "buildkitd")
	if err := os.WriteFile(script, []byte("#!/bin/sh\necho 'level=fatal msg=\"cannot start: config refused\"' >&2\nexit 1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err := StartDaemon(context.Background(), DaemonConfig{Binary: script, RootDir: daemonRoot(t), Runc: "/bin/true", Logger: slog.New(slog.DiscardHandler)})
	if err == nil {
		t.Fatal("StartDaemon succeeded with a buildkitd that exits")
	}
	for _, want := range []string{"exited before it was ready", "config refused"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want it to contain %q", err, want)
		}
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("StartDaemon took %s to notice the exit", took)
	}
}

func TestStartDaemonChecksItsConfig(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  DaemonConfig
		want string
	}{
		{"no root", DaemonConfig{Binary: "/bin/true", Runc: "/bin/true"}, "RootDir is required"},
		{"root too long", DaemonConfig{Binary: "/bin/true", Runc: "/bin/true", RootDir: "/tmp/" + strings.Repeat("x", 120)}, "shorter RootDir"},
		{"no buildkitd", DaemonConfig{Binary: "/nonexistent/buildkitd", Runc: "/bin/true", RootDir: "/tmp/x"}, "make tools"},
		{"no runc", DaemonConfig{Binary: "/bin/true", Runc: "/nonexistent/runc", RootDir: "/tmp/x"}, "runc"},
		{"bad registry", DaemonConfig{Binary: "/bin/true", Runc: "/bin/true", RootDir: daemonRoot(t), InsecureRegistries: []string{"a b"}}, "not a host"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := StartDaemon(context.Background(), tc.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestDaemonConfigTOML(t *testing.T) {
	got, err := daemonConfigTOML("/var/lib/bk", "/usr/sbin/runc", networkTOML{mode: "cni", config: "/var/lib/bk/cni.conflist", binaries: "/usr/lib/cni"},
		[]string{"127.0.0.1:5000", "registry.local:5000"},
		map[string][]string{"docker.io": {"127.0.0.1:5000"}})
	if err != nil {
		t.Fatal(err)
	}
	want := `root = "/var/lib/bk"

[worker.oci]
  enabled = true
  binary = "/usr/sbin/runc"
  networkMode = "cni"
  cniConfigPath = "/var/lib/bk/cni.conflist"
  cniBinaryPath = "/usr/lib/cni"

[worker.containerd]
  enabled = false

[registry."127.0.0.1:5000"]
  http = true
  insecure = true

[registry."docker.io"]
  mirrors = ["127.0.0.1:5000"]

[registry."registry.local:5000"]
  http = true
  insecure = true
`
	if got != want {
		t.Errorf("daemonConfigTOML =\n%s\nwant\n%s", got, want)
	}
	for _, bad := range []string{"", "host/path", "a b"} {
		if _, err := daemonConfigTOML("/r", "/runc", networkTOML{mode: "host"}, []string{bad}, nil); err == nil {
			t.Errorf("registry %q accepted", bad)
		}
	}
	if _, err := daemonConfigTOML("/r\n", "/runc", networkTOML{mode: "host"}, nil, nil); err == nil {
		t.Error("a root with a newline accepted")
	}
	if q, _ := tomlString(`a"b\c`); q != `"a\"b\\c"` {
		t.Errorf("tomlString = %s", q)
	}
}

func TestDaemonRestartsAfterACrash(t *testing.T) {
	bin := requireBuildkitd(t)
	root := daemonRoot(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cfg := DaemonConfig{Binary: bin, RootDir: root, Logger: slog.New(slog.DiscardHandler)}
	d, err := StartDaemon(ctx, cfg)
	if err != nil {
		t.Fatalf("StartDaemon: %v", err)
	}
	// A crash leaves the socket and lock file behind.
	if err := syscall.Kill(-d.cmd.Process.Pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-d.Done()
	if err := d.Stop(ctx); err == nil || !strings.Contains(err.Error(), "killed") {
		t.Errorf("Stop after a crash = %v, want the crash reported", err)
	}

	d, err = StartDaemon(ctx, cfg)
	if err != nil {
		t.Fatalf("StartDaemon over a crashed one's root: %v", err)
	}
	if err := d.Stop(ctx); err != nil {
		t.Errorf("Stop: %v", err)
	}
}
