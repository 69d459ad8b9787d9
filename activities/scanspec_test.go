package activities

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slipway-dev/slipway/scan"
	"github.com/slipway-dev/slipway/store"
	"github.com/slipway-dev/slipway/trivyscan"
	"github.com/slipway-dev/slipway/trivyscan/trivytest"
	"github.com/slipway-dev/slipway/workflows"
)

// workspaceWith makes a workspace holding the image of files as its layout and repo as its source,
// and returns the scan input for it.
func workspaceWith(t *testing.T, b *Builds, files, repo map[string]string, exposed ...string) workflows.ScanImageInput {
	t.Helper()
	ws := filepath.Join(b.WorkDir, "b1")
	for name, body := range repo {
		path := filepath.Join(ws, "src", name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(ws, "src"), 0o755); err != nil {
		t.Fatal(err)
	}
	layout, digest := trivytest.Layout(t, trivytest.Image(t, files, exposed...))
	return workflows.ScanImageInput{BuildID: "b1", Workspace: ws, Layout: layout, Digest: digest}
}

func TestScanImageBlocksByPolicyAndKeepsTheReport(t *testing.T) {
	b, st := buildsWithStore(t)
	db := trivytest.DB(t)
	b.Scanner = &trivyscan.Scanner{Binary: trivytest.Binary(t), CacheDir: t.TempDir(), DBDir: db}
	in := workspaceWith(t, b, trivytest.VulnerableFiles, nil)

	err := run(t, b, b.ScanImage, in, nil)
	wantNonRetryable(t, err, ErrTypeScanPolicy)
	if !strings.Contains(err.Error(), trivytest.CriticalCVE+" in "+trivytest.VulnPackage+" 1.0.0-r0 (fixed in 1.0.1-r0)") ||
		strings.Contains(err.Error(), trivytest.HighCVE) {
		t.Fatalf("error %v does not name exactly the critical CVE", err)
	}
	bd := getBuild(t, st, "b1")
	if bd.Scan == nil || bd.Scan.Passed || bd.Scan.Vulnerabilities.Critical != 1 || bd.Scan.Vulnerabilities.High != 1 ||
		bd.Scan.VulnDB == nil || bd.Scan.VulnDB.Source != db || bd.Scan.VulnDB.UpdatedAt.IsZero() {
		t.Fatalf("stored summary %+v", bd.Scan)
	}
	r, err := st.GetBuildScan(context.Background(), "b1")
	if err != nil || len(r.Vulnerabilities) != 2 {
		t.Fatalf("stored report %+v, %v", r, err)
	}
	text := buildLog(t, st, "b1")
	if !strings.Contains(text, "BLOCKED: CRITICAL "+trivytest.CriticalCVE) || !strings.Contains(text, "1 critical, 1 high") ||
		!strings.Contains(text, "\nvulnerability database: "+db+", updated ") {
		t.Fatalf("build log:\n%s", text)
	}
	// Trivy's notices about its own workings stay out of it; its account of the scan is in it.
	if strings.Contains(text, "Falling back to embedded checks") || strings.Contains(text, "--skip-check-update") ||
		strings.Contains(text, "If your scanning is slow") || !strings.Contains(text, "Vulnerability scanning is enabled") {
		t.Fatalf("build log holds Trivy's internal notices:\n%s", text)
	}

	// A stricter policy blocks the HIGH one too; a looser one passes.
	in.Policy = scan.Policy{FailOn: scan.FailOnNone}
	var res workflows.ScanImageResult
	if err := run(t, b, b.ScanImage, in, &res); err != nil || !res.Summary.Passed {
		t.Fatalf("with failOn NONE: %+v, %v", res, err)
	}
}

// buildLog is the text of the build's log, a line each.
func buildLog(t *testing.T, st *store.Store, id string) string {
	t.Helper()
	logs, err := st.BuildLog(context.Background(), id, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	var text strings.Builder
	for _, l := range logs {
		text.WriteString(l.Text + "\n")
	}
	return text.String()
}

func TestScanImageHonoursTrivyignore(t *testing.T) {
	b, _ := buildsWithStore(t)
	b.Scanner = &trivyscan.Scanner{Binary: trivytest.Binary(t), CacheDir: t.TempDir(), DBDir: trivytest.DB(t)}
	in := workspaceWith(t, b, trivytest.VulnerableFiles, map[string]string{".trivyignore": trivytest.CriticalCVE + "\n"})
	var res workflows.ScanImageResult
	if err := run(t, b, b.ScanImage, in, &res); err != nil {
		t.Fatalf("scan with the critical CVE ignored: %v", err)
	}
	if !res.Summary.Passed || res.Summary.Vulnerabilities.Critical != 0 || res.Summary.Vulnerabilities.High != 1 {
		t.Fatalf("summary %+v", res.Summary)
	}
}

func TestScanImageFailsOnSecrets(t *testing.T) {
	b, st := buildsWithStore(t)
	b.Scanner = &trivyscan.Scanner{Binary: trivytest.Binary(t), CacheDir: t.TempDir()} // no database: secrets still scanned
	in := workspaceWith(t, b, trivytest.SecretFiles, nil)
	err := run(t, b, b.ScanImage, in, nil)
	wantNonRetryable(t, err, ErrTypeScanPolicy)
	if !strings.Contains(err.Error(), "secret "+trivytest.SecretRule+" in /"+trivytest.SecretFile+":1") {
		t.Fatalf("error %v does not name the secret", err)
	}
	if strings.Contains(err.Error(), "AKIA") {
		t.Fatalf("error %v quotes the secret", err)
	}
	// Without a database the summary and the log say why vulnerabilities were not scanned.
	if bd := getBuild(t, st, "b1"); bd.Scan == nil || bd.Scan.VulnDB != nil || len(bd.Scan.NotScanned) != 1 {
		t.Fatalf("stored summary %+v", bd.Scan)
	}
	if text := buildLog(t, st, "b1"); !strings.Contains(text, "\nNOT scanned: vuln: "+scan.ReasonNoVulnDB+": no database source is configured\n") ||
		strings.Contains(text, "vulnerability database: ") {
		t.Fatalf("build log:\n%s", text)
	}
}

func TestUpdateSpecStoresDescriptorAndSpecs(t *testing.T) {
	b, st := buildsWithStore(t)
	hello := filepath.Join("..", "examples", "hello")
	repo := map[string]string{}
	for _, name := range []string{".slipway/component.yaml", "openapi.yaml"} {
		data, err := os.ReadFile(filepath.Join(hello, name))
		if err != nil {
			t.Fatal(err)
		}
		repo[name] = string(data)
	}
	in := workspaceWith(t, b, trivytest.CleanFiles, repo)
	var res workflows.UpdateSpecResult
	if err := run(t, b, b.UpdateSpec, workflows.UpdateSpecInput{BuildID: "b1", Workspace: in.Workspace, Layout: in.Layout}, &res); err != nil {
		t.Fatal(err)
	}
	if res.Default || res.Endpoints != 1 || res.Specs != 1 {
		t.Fatalf("result %+v", res)
	}
	bd := getBuild(t, st, "b1")
	if bd.Descriptor == nil || bd.Descriptor.Endpoints[0].Name != "web" || len(bd.Descriptor.Required.Secrets) != 1 {
		t.Fatalf("stored descriptor %+v", bd.Descriptor)
	}
	sp, err := st.GetBuildSpec(context.Background(), "b1", "web")
	if err != nil || !strings.Contains(string(sp.JSON), `"openapi"`) {
		t.Fatalf("stored spec %+v, %v", sp, err)
	}
}

func TestUpdateSpecDefaultsFromTheImage(t *testing.T) {
	b, st := buildsWithStore(t)
	in := workspaceWith(t, b, trivytest.CleanFiles, nil, "9090/tcp", "8080/tcp")
	var res workflows.UpdateSpecResult
	if err := run(t, b, b.UpdateSpec, workflows.UpdateSpecInput{BuildID: "b1", Workspace: in.Workspace, Layout: in.Layout}, &res); err != nil {
		t.Fatal(err)
	}
	bd := getBuild(t, st, "b1")
	if !res.Default || bd.Descriptor == nil || !bd.Descriptor.Default || len(bd.Descriptor.Endpoints) != 1 || bd.Descriptor.Endpoints[0].Port != 8080 {
		t.Fatalf("result %+v, descriptor %+v", res, bd.Descriptor)
	}
}

func TestUpdateSpecRefusesAnInvalidDescriptor(t *testing.T) {
	b, _ := buildsWithStore(t)
	in := workspaceWith(t, b, trivytest.CleanFiles, map[string]string{
		".slipway/component.yaml": "endpoints:\n  - name: web\n    port: 70000\n    type: REST\n",
	})
	err := run(t, b, b.UpdateSpec, workflows.UpdateSpecInput{BuildID: "b1", Workspace: in.Workspace, Layout: in.Layout}, nil)
	wantNonRetryable(t, err, ErrTypeInvalidDescriptor)
	if !strings.Contains(err.Error(), ".slipway/component.yaml:3: endpoints[0].port") {
		t.Fatalf("error %v does not name file, line and field", err)
	}
}
