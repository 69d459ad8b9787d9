package integration

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/slipway-dev/slipway/stack"
)

// TestBinaryDevStopsGracefullyOnSignal runs the real `slipway dev` binary on free ports, uses the
// client verbs against it, then sends SIGTERM and SIGINT and expects a clean exit within 10 s.
func TestBinaryDevStopsGracefullyOnSignal(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "slipway")
	buildSlipway(t, bin)
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			dir := t.TempDir()
			cmd := exec.Command(bin, "dev", "--data-dir", dir, "--http", "127.0.0.1:0",
				"--temporal", "127.0.0.1:0", "--ui", "127.0.0.1:0", "--registry", "127.0.0.1:0", "--edge", "127.0.0.1:0",
				"--buildkitd", devConfig(dir).Build.BuildkitdBinary, "--trivy", devConfig(dir).Scan.TrivyBinary)
			cmd.Env = withoutSlipwayVars(os.Environ())
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			defer func() { _ = cmd.Process.Kill() }()

			e := waitEndpoints(t, filepath.Join(dir, stack.EndpointsFile), done, &stderr)
			if got := httpStatus(t, e.UI+"/"); got != http.StatusUnauthorized {
				t.Fatalf("UI / without a token = %d, want 401", got)
			}
			if got := httpStatus(t, "http://"+e.Registry+"/v2/"); got != http.StatusUnauthorized {
				t.Fatalf("registry /v2/ without credentials = %d, want 401", got)
			}

			out := runCLI(t, bin, "token", "create", "--data-dir", dir, "--name", "ci", "--role", "viewer")
			viewer := strings.TrimSpace(out)
			if !strings.HasPrefix(viewer, "slw_") {
				t.Fatalf("token create printed %q, want a token", out)
			}
			a := api{t: t, base: e.HTTP, token: viewer}
			a.call("GET", "/api/v1/projects", nil, http.StatusOK, nil)
			a.call("POST", "/api/v1/projects", map[string]any{"name": "nope"}, http.StatusForbidden, nil)
			if out := runCLI(t, bin, "keys", "rotate", "--data-dir", dir); !strings.Contains(out, "active KEK is now kek-") {
				t.Fatalf("keys rotate printed %q", out)
			}

			start := time.Now()
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("slipway dev exited with %v after %s\n%s", err, sig, stderr.String())
				}
				t.Logf("stopped %s after %s", time.Since(start).Round(time.Millisecond), sig)
			case <-time.After(10 * time.Second):
				t.Fatalf("slipway dev still running 10s after %s\n%s", sig, stderr.String())
			}
		})
	}
}

func waitEndpoints(t *testing.T, path string, exited <-chan error, stderr *bytes.Buffer) stack.Endpoints {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		var e stack.Endpoints
		if b, err := os.ReadFile(path); err == nil && json.Unmarshal(b, &e) == nil && e.HTTP != "" {
			return e
		}
		select {
		case err := <-exited:
			t.Fatalf("slipway dev exited early: %v\n%s", err, stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s after 60s\n%s", path, stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func runCLI(t *testing.T, bin string, args ...string) string {
	t.Helper()
	return runCLIIn(t, "", bin, args...)
}

// withoutSlipwayVars drops SLIPWAY_* variables, so the binary under test uses only its flags.
func withoutSlipwayVars(env []string) []string {
	out := env[:0:0]
	for _, kv := range env {
		if !strings.HasPrefix(kv, "SLIPWAY_") {
			out = append(out, kv)
		}
	}
	return out
}
