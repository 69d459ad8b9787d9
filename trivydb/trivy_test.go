package trivydb

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// trivyBinary and fixtureBinary are what `make tools` builds from tools/trivy, relative to this
// package.
const (
	trivyBinary   = "../bin/trivy"
	fixtureBinary = "../bin/trivydb-fixture"
)

// offlineFlags keep Trivy from calling home: without both, it asks check.trivy.dev for updates
// (and sends telemetry) on every run.
var offlineFlags = []string{"--skip-version-check", "--disable-telemetry", "--no-progress", "--quiet"}

// requireBinary returns the absolute path of a binary `make tools` builds. Without it the test is
// skipped, unless CI_REQUIRE_TRIVY=1 asks for it to fail.
func requireBinary(tb testing.TB, path string) string {
	tb.Helper()
	if _, err := os.Stat(path); err != nil {
		if os.Getenv("CI_REQUIRE_TRIVY") == "1" {
			tb.Fatalf("%s missing and CI_REQUIRE_TRIVY=1: run `make tools`", path)
		}
		tb.Skipf("%s missing: run `make tools` to build it (%v)", path, err)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		tb.Fatal(err)
	}
	return abs
}

// runTool runs bin with args and returns its standard output, failing the test with its standard
// error if it fails.
func runTool(t *testing.T, bin string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %v: %v\n%s", filepath.Base(bin), args, err, stderr.Bytes())
	}
	return stdout.Bytes()
}

// TestTrivyUsesPushedDB pushes the fixture DB, has the real Trivy download it with
// --db-repository, then scans an Alpine image with it offline.
func TestTrivyUsesPushedDB(t *testing.T) {
	trivy := requireBinary(t, trivyBinary)
	fixture := requireBinary(t, fixtureBinary)

	src := t.TempDir()
	runTool(t, fixture, src)
	ref, err := DefaultReference(serveRegistry(t), name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Push(t.Context(), src, ref); err != nil {
		t.Fatalf("Push: %v", err)
	}

	cache := t.TempDir()
	runTool(t, trivy, append([]string{"image", "--download-db-only", "--db-repository", ref.String(), "--insecure",
		"--cache-dir", cache}, offlineFlags...)...)
	got, err := os.ReadFile(filepath.Join(cache, "db", DBFile))
	if err != nil {
		t.Fatalf("Trivy did not unpack the DB: %v", err)
	}
	want, err := os.ReadFile(filepath.Join(src, DBFile))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("downloaded %s differs from the pushed one", DBFile)
	}
	var meta struct {
		Version      int
		DownloadedAt time.Time
	}
	b, err := os.ReadFile(filepath.Join(cache, "db", MetadataFile))
	if err != nil {
		t.Fatalf("Trivy did not unpack %s: %v", MetadataFile, err)
	}
	if err := json.Unmarshal(b, &meta); err != nil {
		t.Fatal(err)
	}
	if meta.Version != SchemaVersion || meta.DownloadedAt.IsZero() {
		t.Errorf("downloaded %s = %s, want Version %d and DownloadedAt set", MetadataFile, b, SchemaVersion)
	}

	out := runTool(t, trivy, append([]string{"image", "--input", alpineLayout(t), "--cache-dir", cache,
		"--skip-db-update", "--skip-java-db-update", "--skip-check-update", "--offline-scan",
		"--cache-backend", "memory", "--scanners", "vuln", "--format", "json"}, offlineFlags...)...)
	var report struct {
		Results []struct {
			Target, Class, Type string
			Vulnerabilities     []struct {
				VulnerabilityID, PkgName, InstalledVersion, FixedVersion, Severity, Status string
			}
		}
	}
	if err := json.Unmarshal(out, &report); err != nil {
		t.Fatalf("decoding Trivy's report: %v\n%s", err, out)
	}
	wantVulns := map[string][3]string{ // ID: fixed version, severity, status
		"CVE-2099-0001": {"1.0.1-r0", "CRITICAL", "fixed"},
		"CVE-2099-0002": {"1.0.2-r0", "HIGH", "fixed"},
	}
	for _, r := range report.Results {
		for _, v := range r.Vulnerabilities {
			w, ok := wantVulns[v.VulnerabilityID]
			if !ok || v.PkgName != "slipway-fixture-vuln" || v.InstalledVersion != "1.0.0-r0" ||
				[3]string{v.FixedVersion, v.Severity, v.Status} != w || r.Type != "alpine" {
				t.Errorf("unexpected finding in %s (%s): %+v", r.Target, r.Type, v)
				continue
			}
			delete(wantVulns, v.VulnerabilityID)
		}
	}
	if len(wantVulns) > 0 {
		t.Errorf("Trivy did not report %v; report:\n%s", wantVulns, out)
	}
}

// alpineLayout writes an OCI image layout of one Alpine 3.20 image whose apk database lists
// slipway-fixture-vuln 1.0.0-r0, and returns its directory.
func alpineLayout(t *testing.T) string {
	t.Helper()
	installed := "P:slipway-fixture-vuln\nV:1.0.0-r0\nA:x86_64\nS:1024\nI:4096\n" +
		"T:slipway test fixture package\nU:https://example.invalid/slipway\nL:MIT\n" +
		"o:slipway-fixture-vuln\nm:slipway <dev@example.invalid>\nt:1700000000\n\n"
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, d := range []string{"etc/", "lib/", "lib/apk/", "lib/apk/db/"} {
		if err := tw.WriteHeader(&tar.Header{Name: d, Typeflag: tar.TypeDir, Mode: 0o755}); err != nil {
			t.Fatal(err)
		}
	}
	for name, body := range map[string]string{"etc/alpine-release": "3.20.3\n", "lib/apk/db/installed": installed} {
		if err := tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(body))}); err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(tw, body); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(buf.Bytes())), nil
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		t.Fatal(err)
	}
	img := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	if img, err = mutate.AppendLayers(img, layer); err != nil {
		t.Fatal(err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cfg = cfg.DeepCopy()
	cfg.OS, cfg.Architecture = "linux", "amd64"
	if img, err = mutate.ConfigFile(img, cfg); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendImage(img, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": "fixture"})); err != nil {
		t.Fatal(err)
	}
	return dir
}
