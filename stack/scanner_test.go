package stack

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/slipway-dev/slipway/config"
)

func TestNewScannerAsksTrivysRepositoriesThenTheMirror(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "trivy")
	if err := os.WriteFile(bin, nil, 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := config.Config{Scan: config.Scan{TrivyBinary: bin}, Build: config.Build{WorkDir: t.TempDir()}}
	s, err := newScanner(cfg, "127.0.0.1:5000", true, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"mirror.gcr.io/aquasec/trivy-db:2", "ghcr.io/aquasecurity/trivy-db:2", "127.0.0.1:5000/trivy/db:2"}
	if !slices.Equal(s.DBRepositories, want) || !slices.Equal(s.InsecureRegistries, []string{"127.0.0.1:5000"}) {
		t.Fatalf("repositories %q (plain HTTP %q), want %q (plain HTTP the registry's)", s.DBRepositories, s.InsecureRegistries, want)
	}

	cfg.Scan.DBRepository = "registry.example/trivy-db, 127.0.0.1:5000/trivy/db:2"
	if s, err = newScanner(cfg, "127.0.0.1:5000", false, nil); err != nil {
		t.Fatal(err)
	}
	if want := []string{"registry.example/trivy-db:2", "127.0.0.1:5000/trivy/db:2"}; !slices.Equal(s.DBRepositories, want) || s.InsecureRegistries != nil {
		t.Fatalf("configured repositories %q (plain HTTP %q), want %q over HTTPS", s.DBRepositories, s.InsecureRegistries, want)
	}

	cfg.Scan.DBRepository = "Not A/Repository"
	if _, err := newScanner(cfg, "127.0.0.1:5000", false, nil); err == nil || !strings.Contains(err.Error(), "--trivy-db-repository") {
		t.Fatalf("an invalid repository: %v", err)
	}
}
