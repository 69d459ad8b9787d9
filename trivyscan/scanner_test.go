package trivyscan_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slipway-dev/slipway/scan"
	"github.com/slipway-dev/slipway/trivyscan"
	"github.com/slipway-dev/slipway/trivyscan/trivytest"
)

func newScanner(t testing.TB, dbDir string) *trivyscan.Scanner {
	return &trivyscan.Scanner{Binary: trivytest.Binary(t), CacheDir: t.TempDir(), DBDir: dbDir}
}

func scanFiles(t *testing.T, s *trivyscan.Scanner, files map[string]string, ignore string) scan.Report {
	t.Helper()
	dir, digest := trivytest.Layout(t, trivytest.Image(t, files))
	req := trivyscan.Request{Layout: dir, Digest: digest}
	if ignore != "" {
		req.IgnoreFile = filepath.Join(t.TempDir(), ".trivyignore")
		if err := os.WriteFile(req.IgnoreFile, []byte(ignore), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	r, err := s.Scan(ctx, req)
	if err != nil {
		t.Fatalf("scan: %v", err)
	}
	if r.Digest != digest {
		t.Fatalf("report of %s, scanned %s", r.Digest, digest)
	}
	return r
}

func vulnIDs(r scan.Report) []string {
	var ids []string
	for _, v := range r.Vulnerabilities {
		ids = append(ids, v.ID)
	}
	return ids
}

func TestScanFindsTheFixtureVulnerabilities(t *testing.T) {
	s := newScanner(t, trivytest.DB(t))
	r := scanFiles(t, s, trivytest.VulnerableFiles, "")
	if r.OS != "alpine 3.20.3" || r.VulnDB == nil || r.VulnDB.UpdatedAt.IsZero() || len(r.NotScanned) != 0 {
		t.Fatalf("report %+v", r)
	}
	if !slices.Equal(r.Scanned, []string{scan.ScannerVuln, scan.ScannerSecret, scan.ScannerMisconfig}) {
		t.Fatalf("scanned %v", r.Scanned)
	}
	want := scan.Vulnerability{ID: trivytest.CriticalCVE, Package: trivytest.VulnPackage, Installed: trivytest.VulnInstalled,
		Fixed: "1.0.1-r0", Severity: scan.SeverityCritical}
	if len(r.Vulnerabilities) != 2 {
		t.Fatalf("vulnerabilities %+v", r.Vulnerabilities)
	}
	got := r.Vulnerabilities[0]
	got.Title, got.Target = "", ""
	if got != want || r.Vulnerabilities[1].ID != trivytest.HighCVE {
		t.Fatalf("vulnerabilities %+v, want first %+v", r.Vulnerabilities, want)
	}
	if v := (scan.Policy{}).Violations(r); len(v) != 1 {
		t.Fatalf("default policy violations %q, want the critical CVE only", v)
	}

	// .trivyignore lets the listed CVEs through.
	ignored := scanFiles(t, s, trivytest.VulnerableFiles, trivytest.CriticalCVE+"\n")
	if ids := vulnIDs(ignored); !slices.Equal(ids, []string{trivytest.HighCVE}) || ignored.Cached {
		t.Fatalf("with %s ignored: %v (cached %v)", trivytest.CriticalCVE, ids, ignored.Cached)
	}
	if v := (scan.Policy{}).Violations(ignored); len(v) != 0 {
		t.Fatalf("violations with the critical CVE ignored: %q", v)
	}
}

func TestScanFindsSecretsAndPassesCleanImages(t *testing.T) {
	s := newScanner(t, trivytest.DB(t))
	r := scanFiles(t, s, trivytest.SecretFiles, "")
	var rules []string
	for _, sec := range r.Secrets {
		rules = append(rules, sec.RuleID)
		if sec.File != "/"+trivytest.SecretFile {
			t.Errorf("secret in %q, want %q", sec.File, "/"+trivytest.SecretFile)
		}
	}
	if !slices.Contains(rules, trivytest.SecretRule) {
		t.Fatalf("secrets %+v, want %s", r.Secrets, trivytest.SecretRule)
	}
	clean := scanFiles(t, s, trivytest.CleanFiles, "")
	if len(clean.Vulnerabilities)+len(clean.Secrets) != 0 || len((scan.Policy{}).Violations(clean)) != 0 {
		t.Fatalf("clean image report %+v", clean)
	}
}

func TestScanWithoutDatabaseStillScansSecrets(t *testing.T) {
	s := newScanner(t, "")
	r := scanFiles(t, s, trivytest.SecretFiles, "")
	if len(r.NotScanned) != 1 || r.NotScanned[0].Scanner != scan.ScannerVuln || r.VulnDB != nil ||
		!slices.Equal(r.Scanned, []string{scan.ScannerSecret, scan.ScannerMisconfig}) {
		t.Fatalf("report without a database: %+v", r)
	}
	if len(r.Secrets) == 0 {
		t.Fatal("no secrets found without a database")
	}
	if v := (scan.Policy{AllowSecrets: true, RequireVulnDB: true}).Violations(r); len(v) != 1 {
		t.Fatalf("a policy requiring the database: %q", v)
	}
	// A repository that cannot be reached is the same, with the reason.
	s = &trivyscan.Scanner{Binary: trivytest.Binary(t), CacheDir: t.TempDir(), DBRepositories: []string{"127.0.0.1:1/trivy/db:2"},
		InsecureRegistries: []string{"127.0.0.1:1"}}
	r = scanFiles(t, s, trivytest.CleanFiles, "")
	if len(r.NotScanned) != 1 || r.NotScanned[0].Scanner != scan.ScannerVuln ||
		!strings.HasPrefix(r.NotScanned[0].Reason, scan.ReasonNoVulnDB+": 127.0.0.1:1/trivy/db:2: not answering: ") {
		t.Fatalf("report with an unreachable database: %+v", r)
	}
	t.Logf("reason: %s", r.NotScanned[0].Reason)
}

func TestRescanIsCachedAndConcurrentScansDoNotBlock(t *testing.T) {
	s := newScanner(t, trivytest.DB(t))
	imgs := []map[string]string{trivytest.VulnerableFiles, trivytest.SecretFiles, trivytest.CleanFiles}
	reports := make([]scan.Report, len(imgs))
	var wg sync.WaitGroup
	for i, files := range imgs {
		wg.Go(func() { reports[i] = scanFiles(t, s, files, "") })
	}
	wg.Wait() // scanFiles' two-minute deadline fails a scan that waits on another's lock
	if len(reports[0].Vulnerabilities) != 2 || len(reports[1].Secrets) == 0 {
		t.Fatalf("concurrent reports %+v", reports)
	}
	again := scanFiles(t, s, trivytest.VulnerableFiles, "")
	if !again.Cached || !slices.Equal(vulnIDs(again), vulnIDs(reports[0])) {
		t.Fatalf("re-scan: cached %v, %v", again.Cached, vulnIDs(again))
	}
}
