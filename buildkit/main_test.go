package buildkit

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slipway-dev/slipway/baseimages"
	"github.com/slipway-dev/slipway/ociregistry"
)

// buildkitdBinary is the buildkitd `make tools` builds, relative to this package.
const buildkitdBinary = "../bin/buildkitd"

// testEnv is what the build tests share: one buildkitd and one embedded registry holding the
// busybox base image, started on first use and stopped by TestMain.
type testEnv struct {
	daemon   *Daemon
	registry string // host:port of the embedded registry
	base     string // reference of the busybox base image in it
	stop     func()
}

var (
	envOnce sync.Once
	env     *testEnv
	envErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if env != nil {
		env.stop()
	}
	os.Exit(code)
}

// requireBuildkitd returns the absolute path of bin/buildkitd. Without it the test is skipped,
// unless CI_REQUIRE_BUILDKIT=1 asks for it to fail; with -short (make unit) it is skipped.
func requireBuildkitd(tb testing.TB) string {
	tb.Helper()
	if testing.Short() {
		tb.Skip("-short: skipping a test that runs bin/buildkitd")
	}
	if _, err := os.Stat(buildkitdBinary); err != nil {
		if os.Getenv("CI_REQUIRE_BUILDKIT") == "1" {
			tb.Fatalf("%s missing and CI_REQUIRE_BUILDKIT=1: run `make tools`", buildkitdBinary)
		}
		tb.Skipf("%s missing: run `make tools` to build it (%v)", buildkitdBinary, err)
	}
	bin, err := filepath.Abs(buildkitdBinary)
	if err != nil {
		tb.Fatal(err)
	}
	return bin
}

// sharedEnv returns the shared buildkitd and registry, starting them on first use.
func sharedEnv(tb testing.TB) *testEnv {
	tb.Helper()
	bin := requireBuildkitd(tb)
	envOnce.Do(func() { env, envErr = startEnv(bin) })
	if envErr != nil {
		tb.Fatalf("starting buildkitd and registry: %v", envErr)
	}
	return env
}

// startEnv starts the embedded registry, pushes the base images into it and starts buildkitd
// trusting the registry over plain HTTP and mirroring docker.io to it.
func startEnv(bin string) (_ *testEnv, err error) {
	var cleanups []func()
	stop := func() {
		for i := len(cleanups) - 1; i >= 0; i-- {
			cleanups[i]()
		}
	}
	defer func() {
		if err != nil {
			stop()
		}
	}()

	regDir, err := os.MkdirTemp("", "slipway-reg-")
	if err != nil {
		return nil, err
	}
	cleanups = append(cleanups, func() { os.RemoveAll(regDir) })
	reg, err := ociregistry.Open(regDir, slog.New(slog.DiscardHandler))
	if err != nil {
		return nil, err
	}
	srv := httptest.NewServer(reg)
	cleanups = append(cleanups, func() { srv.Close(); reg.Close() })
	host := strings.TrimPrefix(srv.URL, "http://")

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	base := host + "/base/busybox:latest"
	if _, err := baseimages.Busybox(ctx, base); err != nil {
		return nil, err
	}
	if _, err := baseimages.Busybox(ctx, host+"/library/busybox:latest"); err != nil {
		return nil, err
	}

	// A short root keeps the socket path within Linux's limit.
	root, err := os.MkdirTemp("", "slipway-bk-")
	if err != nil {
		return nil, err
	}
	cleanups = append(cleanups, func() { os.RemoveAll(root) })
	logLevel := new(slog.LevelVar)
	logLevel.Set(slog.LevelWarn)
	d, err := StartDaemon(context.Background(), DaemonConfig{
		Binary:             bin,
		RootDir:            root,
		InsecureRegistries: []string{host},
		Mirrors:            map[string][]string{"docker.io": {host}},
		Logger:             slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: logLevel})),
	})
	if err != nil {
		return nil, err
	}
	cleanups = append(cleanups, func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := d.Stop(ctx); err != nil {
			fmt.Fprintf(os.Stderr, "stopping buildkitd: %v\n", err)
		}
	})
	return &testEnv{daemon: d, registry: host, base: base, stop: stop}, nil
}
