package integration

import (
	"context"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slipway-dev/slipway/stack"
)

// TestDevRefusesToStartWithoutItsKeyFile loses kek.json between two runs: the next start must
// fail naming the missing KEK rather than start and fail every later read of a config.
func TestDevRefusesToStartWithoutItsKeyFile(t *testing.T) {
	dir := t.TempDir()
	dev := startDev(t, dir)
	a := newAPI(t, dev, dir)
	a.call("POST", "/api/v1/projects", map[string]any{"name": "shop"}, http.StatusCreated, nil)
	a.call("POST", "/api/v1/projects/shop/components", map[string]any{"name": "api", "repo": "file:///r.git"}, http.StatusCreated, nil)
	a.call("PUT", "/api/v1/projects/shop/components/api/environments/development/configs/K",
		map[string]any{"value": "v"}, http.StatusCreated, nil)
	stopDev(t, dev)

	if err := os.Remove(filepath.Join(dir, "kek.json")); err != nil {
		t.Fatal(err)
	}
	again, err := stack.StartDev(context.Background(), devConfig(dir), slog.New(slog.DiscardHandler))
	if err == nil {
		_ = again.Stop(context.Background())
		t.Fatal("slipway dev started without the key file its values were sealed with")
	}
	if !strings.Contains(err.Error(), "lacks [kek-") {
		t.Fatalf("error %v, want one naming the missing KEK", err)
	}
}
