package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/remote"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"

	"github.com/slipway-dev/slipway/config"
	"github.com/slipway-dev/slipway/entry"
	"github.com/slipway-dev/slipway/ociregistry"
	"github.com/slipway-dev/slipway/payloadcodec"
	"github.com/slipway-dev/slipway/secretbox"
	"github.com/slipway-dev/slipway/stack"
)

// TestMain makes every HTTP client of the tests that uses http.DefaultTransport (http.Get, http.DefaultClient,
// a Client with no Transport) reach deployments' URLs, <component>.<environment>.<project>.localhost, as
// curl and browsers do: Go's resolver does not resolve names under localhost, entry.DialLocalhost dials
// them at 127.0.0.1.
func TestMain(m *testing.M) {
	t := http.DefaultTransport.(*http.Transport)
	t.DialContext = entry.DialLocalhost(t.DialContext)
	os.Exit(m.Run())
}

// devConfig is a `slipway dev` configuration on dir with every listener on a free port.
func devConfig(dir string) config.Config {
	bk, err := filepath.Abs("../bin/buildkitd")
	if err != nil {
		panic(err)
	}
	trivy, err := filepath.Abs("../bin/trivy")
	if err != nil {
		panic(err)
	}
	return config.Config{
		Build:    config.Build{BuildkitdBinary: bk},
		Scan:     config.Scan{TrivyBinary: trivy},
		DataDir:  dir,
		HTTP:     config.HTTP{Address: "127.0.0.1:0"},
		Temporal: config.Temporal{Address: "127.0.0.1:0", UIAddress: "127.0.0.1:0"},
		Registry: config.Registry{Address: "127.0.0.1:0"},
		Edge:     config.Edge{Address: "127.0.0.1:0"},
	}
}

// pushAuth gives a push the push credentials of the dev registry at registry whose data dir is data.
func pushAuth(t testing.TB, data, registry string) remote.Option {
	t.Helper()
	cred, err := ociregistry.LoadCredentials(filepath.Join(data, stack.RegistryCredentialsFile))
	if err != nil {
		t.Fatal(err)
	}
	return remote.WithAuthFromKeychain(cred.Keychain(registry))
}

func startDev(t *testing.T, dir string) *stack.Dev {
	t.Helper()
	return startDevWith(t, devConfig(dir))
}

func startDevWith(t testing.TB, cfg config.Config) *stack.Dev {
	t.Helper()
	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	dev, err := stack.StartDev(context.Background(), cfg, log)
	if err != nil {
		t.Fatalf("StartDev: %v", err)
	}
	// Stops it if the test ends early; after stopDev this does nothing.
	t.Cleanup(func() { _ = dev.Stop(context.Background()) })
	return dev
}

func stopDev(t *testing.T, dev *stack.Dev) time.Duration {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	if err := dev.Stop(ctx); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	return time.Since(start)
}

// testWriter sends log lines to t.Log so they show only for failing tests.
type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// api calls the API of a running dev stack with its admin token.
type api struct {
	t     testing.TB
	base  string
	token string
}

func newAPI(t testing.TB, dev *stack.Dev, dir string) api {
	tok, err := os.ReadFile(filepath.Join(dir, stack.AdminTokenFile))
	if err != nil {
		t.Fatal(err)
	}
	return api{t: t, base: dev.Endpoints.HTTP, token: strings.TrimSpace(string(tok))}
}

// call sends body as JSON, checks the status and decodes the answer into out when not nil.
func (a api) call(method, path string, body any, wantStatus int, out any) []byte {
	a.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, a.base+path, rd)
	req.Header.Set("Content-Type", "application/json")
	if a.token != "" {
		req.Header.Set("Authorization", "Bearer "+a.token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != wantStatus {
		a.t.Fatalf("%s %s: status %d, want %d: %s", method, path, resp.StatusCode, wantStatus, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			a.t.Fatalf("%s %s: decoding %s: %v", method, path, b, err)
		}
	}
	return b
}

func httpStatus(t *testing.T, url string) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// clientFor is a Temporal client of address that encrypts and decrypts payloads with keys, as slipway's processes
// do; nil keys leaves payloads as they are (enough to list workflows).
func clientFor(t *testing.T, address string, keys *secretbox.Keyring) client.Client {
	t.Helper()
	opts := client.Options{HostPort: address, Logger: sdklog.NewStructuredLogger(slog.New(slog.DiscardHandler))}
	if keys != nil {
		opts.DataConverter = payloadcodec.DataConverter(keys)
		opts.FailureConverter = payloadcodec.FailureConverter(opts.DataConverter)
	}
	c, err := client.Dial(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}
