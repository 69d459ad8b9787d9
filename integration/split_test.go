package integration

import (
	"context"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slipway-dev/slipway/config"
	"github.com/slipway-dev/slipway/localtemporal"
	"github.com/slipway-dev/slipway/secretbox"
	"github.com/slipway-dev/slipway/stack"
	"github.com/slipway-dev/slipway/store/storetest"
	"github.com/slipway-dev/slipway/workflows"
)

// TestSplitServerAndWorker runs `slipway server` and `slipway worker` as separate parts with their
// own keyrings on one key file, against a Temporal they did not start and a store by DSN (SQLite,
// and PostgreSQL when SLIPWAY_TEST_POSTGRES is set). A key rotation asked of the server is carried
// out by the worker, which must pick the new KEK up from the key file.
func TestSplitServerAndWorker(t *testing.T) {
	backends := map[string]func(testing.TB) string{"sqlite": storetest.SQLiteDSN}
	if os.Getenv(storetest.PostgresEnv) != "" {
		backends["postgres"] = storetest.PostgresDSN
	} else {
		t.Logf("%s not set: split processes tested on SQLite only", storetest.PostgresEnv)
	}
	ts, err := localtemporal.Start(localtemporal.Config{
		DBPath:  filepath.Join(t.TempDir(), "temporal.db"),
		Address: "127.0.0.1:0",
		Logger:  slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer ts.Stop()

	for name, dsn := range backends {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			kekFile := filepath.Join(dir, "kek.json")
			if _, err := secretbox.LoadOrCreateKeyring(kekFile); err != nil {
				t.Fatal(err)
			}
			cfg := config.Config{
				DataDir:  dir,
				DB:       dsn(t),
				KEKFile:  kekFile,
				HTTP:     config.HTTP{Address: "127.0.0.1:0"},
				Temporal: config.Temporal{Address: ts.Address(), Namespace: "default"},
				Scan:     devConfig(dir).Scan,
				Edge:     config.Edge{Address: "127.0.0.1:0"},
			}
			log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
			ctx := context.Background()
			srv, url, err := stack.StartServer(ctx, cfg, log)
			if err != nil {
				t.Fatalf("StartServer: %v", err)
			}
			defer func() { _ = srv.Stop(ctx) }()
			wrk, err := stack.StartWorker(ctx, cfg, log)
			if err != nil {
				t.Fatalf("StartWorker: %v", err)
			}
			defer func() { _ = wrk.Stop(ctx) }()

			tok, err := os.ReadFile(filepath.Join(dir, stack.AdminTokenFile))
			if err != nil {
				t.Fatalf("server wrote no first admin token: %v", err)
			}
			a := api{t: t, base: url, token: strings.TrimSpace(string(tok))}
			waitReady(t, url)
			a.call("POST", "/api/v1/projects", map[string]any{"name": "shop"}, http.StatusCreated, nil)
			a.call("POST", "/api/v1/projects/shop/components", map[string]any{"name": "api", "repo": "https://git.example.com/shop/api.git"}, http.StatusCreated, nil)
			cfgPath := "/api/v1/projects/shop/components/api/environments/production/configs"
			a.call("PUT", cfgPath+"/REGION", map[string]any{"value": "eu-west-1"}, http.StatusCreated, nil)
			a.call("PUT", cfgPath+"/API_KEY", map[string]any{"value": canary, "secret": true}, http.StatusCreated, nil)

			var rot struct {
				Active    string `json:"active"`
				Rewrapped int    `json:"rewrapped"`
			}
			a.call("POST", "/api/v1/keys/rotate", nil, http.StatusOK, &rot)
			if rot.Rewrapped != 2 {
				t.Fatalf("rotation re-wrapped %d values, want 2", rot.Rewrapped)
			}
			var list struct {
				Items []configItem `json:"items"`
			}
			a.call("GET", cfgPath, nil, http.StatusOK, &list)
			if len(list.Items) != 2 || list.Items[1].Key != "REGION" || list.Items[1].Value == nil || *list.Items[1].Value != "eu-west-1" {
				t.Fatalf("configs after rotation = %+v", list.Items)
			}
			c := clientFor(t, ts.Address(), nil)
			waitForWorkflow(t, c, workflows.RotateKeysWorkflowID(rot.Active))
			checkSearchAttributes(t, c)
		})
	}
}

func waitReady(t *testing.T, url string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for httpStatus(t, url+"/readyz") != http.StatusOK {
		if time.Now().After(deadline) {
			t.Fatal("/readyz not 200 after 30s")
		}
		time.Sleep(50 * time.Millisecond)
	}
}
