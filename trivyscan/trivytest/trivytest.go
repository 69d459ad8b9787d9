// Package trivytest holds what tests of the scan stage share: the pinned Trivy binary and the
// fixture vulnerability database from `make tools` and `make testtools`, and the files of a vulnerable, a secret-bearing
// and a clean image, as OCI layouts or as files to COPY in a Dockerfile.
package trivytest

import (
	"archive/tar"
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// What the fixture database says about the vulnerable image's package (see tools/trivy/dbfixture).
const (
	VulnPackage   = "slipway-fixture-vuln"
	VulnInstalled = "1.0.0-r0"
	// CriticalCVE is fixed in 1.0.1-r0; HighCVE in 1.0.2-r0.
	CriticalCVE = "CVE-2099-0001"
	HighCVE     = "CVE-2099-0002"
	// SecretRule is Trivy's rule for the access key in SecretFiles.
	SecretRule = "aws-access-key-id"
	// SecretFile is where SecretFiles puts the key.
	SecretFile = "app/config.env"
)

// VulnerableFiles make an Alpine 3.20 root whose apk database lists VulnPackage at VulnInstalled.
var VulnerableFiles = map[string]string{
	"etc/alpine-release": "3.20.3\n",
	"lib/apk/db/installed": "P:" + VulnPackage + "\nV:" + VulnInstalled + "\nA:x86_64\nS:1024\nI:4096\n" +
		"T:slipway test fixture package\nU:https://example.invalid/slipway\nL:MIT\n" +
		"o:" + VulnPackage + "\nm:slipway <dev@example.invalid>\nt:1700000000\n\n",
}

// SecretFiles hold an AWS-style access key pair (made up, but shaped like a real one).
var SecretFiles = map[string]string{
	SecretFile: "AWS_ACCESS_KEY_ID=AKIA2OGYBAH6STMMNXNN\nAWS_SECRET_ACCESS_KEY=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\n",
}

// CleanFiles are an ordinary application file.
var CleanFiles = map[string]string{"app/index.html": "<h1>hello</h1>\n"}

// root is the repository's root directory, found from this file's place in it.
func root() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// Binary returns bin/trivy. Without it the test is skipped, unless CI_REQUIRE_TRIVY=1 makes it fail;
// with -short (make unit) it is skipped.
func Binary(tb testing.TB) string {
	return tool(tb, "trivy")
}

func tool(tb testing.TB, name string) string {
	tb.Helper()
	if testing.Short() {
		tb.Skipf("-short: skipping a test that runs bin/%s", name)
	}
	path := filepath.Join(root(), "bin", name)
	if _, err := os.Stat(path); err != nil {
		if os.Getenv("CI_REQUIRE_TRIVY") == "1" {
			tb.Fatalf("%s missing and CI_REQUIRE_TRIVY=1: run `make tools testtools`", path)
		}
		tb.Skipf("%s missing: run `make tools testtools`", path)
	}
	return path
}

// DB returns a new directory holding the fixture database (trivy.db and metadata.json), written by
// bin/trivydb-fixture.
func DB(tb testing.TB) string {
	tb.Helper()
	bin := tool(tb, "trivydb-fixture")
	dir := tb.TempDir()
	if out, err := exec.Command(bin, dir).CombinedOutput(); err != nil {
		tb.Fatalf("writing the fixture database: %v: %s", err, out)
	}
	return dir
}

// Image is an image of one layer holding files (path → content), with the given exposed ports.
func Image(tb testing.TB, files map[string]string, exposed ...string) v1.Image {
	tb.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	dirs := map[string]bool{}
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		parts := strings.Split(name, "/")
		for i := 1; i < len(parts); i++ {
			d := strings.Join(parts[:i], "/") + "/"
			if !dirs[d] {
				dirs[d] = true
				must(tb, tw.WriteHeader(&tar.Header{Name: d, Typeflag: tar.TypeDir, Mode: 0o755}))
			}
		}
		body := files[name]
		must(tb, tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(body))}))
		_, err := io.WriteString(tw, body)
		must(tb, err)
	}
	must(tb, tw.Close())
	data := buf.Bytes()
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil },
		tarball.WithMediaType(types.OCILayer))
	must(tb, err)
	img, err := mutate.AppendLayers(mutate.MediaType(empty.Image, types.OCIManifestSchema1), layer)
	must(tb, err)
	cfg, err := img.ConfigFile()
	must(tb, err)
	cfg = cfg.DeepCopy()
	cfg.OS, cfg.Architecture = "linux", runtime.GOARCH
	cfg.Config.User = "65534"
	if len(exposed) > 0 {
		cfg.Config.ExposedPorts = map[string]struct{}{}
		for _, p := range exposed {
			cfg.Config.ExposedPorts[p] = struct{}{}
		}
	}
	img, err = mutate.ConfigFile(img, cfg)
	must(tb, err)
	return img
}

// Layout writes img as an OCI layout in a new directory and returns it and the image's digest.
func Layout(tb testing.TB, img v1.Image) (dir, digest string) {
	tb.Helper()
	dir = tb.TempDir()
	p, err := layout.Write(dir, empty.Index)
	must(tb, err)
	must(tb, p.AppendImage(img))
	d, err := img.Digest()
	must(tb, err)
	return dir, d.String()
}

func must(tb testing.TB, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
}
