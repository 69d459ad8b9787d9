package integration

import (
	"encoding/json"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/slipway-dev/slipway/baseimages"
	"github.com/slipway-dev/slipway/scan"
	"github.com/slipway-dev/slipway/trivydb"
	"github.com/slipway-dev/slipway/trivyscan/trivytest"
)

// TestScanGateLetsOnlyTheCleanImageOut builds three images through the real pipeline — hello
// (clean), one whose apk database lists a package the fixture vulnerability database knows a
// CRITICAL CVE of, one carrying an AWS key — with the real Trivy, the fixture database pushed to
// slipway's own registry where `slipway dev` looks for it. Only hello reaches the registry (not
// even the others' build cache does); the API says why the others failed, and serves hello's
// endpoints and OpenAPI.
func TestScanGateLetsOnlyTheCleanImageOut(t *testing.T) {
	if _, err := os.Stat(baseimages.BusyboxBinary); err != nil {
		t.Skipf("%s missing (Debian package busybox-static), so nothing seeds `FROM busybox`: %v", baseimages.BusyboxBinary, err)
	}
	dir := t.TempDir()
	// The registry cache, exported beside the image, must reach the registry only with a clean image.
	cfg := devConfig(filepath.Join(dir, "data"))
	cfg.Build.RegistryCache = true
	dev := startDevWith(t, cfg)
	a := newAPI(t, dev, filepath.Join(dir, "data"))
	dbRef, err := trivydb.DefaultReference(dev.Endpoints.Registry, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := trivydb.Push(t.Context(), trivytest.DB(t), dbRef, pushAuth(t, filepath.Join(dir, "data"), dev.Endpoints.Registry)); err != nil {
		t.Fatalf("pushing the fixture database: %v", err)
	}

	withDockerfile := func(files map[string]string, dockerfile string) map[string]string {
		out := maps.Clone(files)
		out["Dockerfile"] = dockerfile
		return out
	}
	repos := map[string]map[string]string{
		"hello": filesUnder(t, filepath.Join("..", "examples", "hello")),
		"vuln": withDockerfile(trivytest.VulnerableFiles,
			"FROM busybox\nCOPY etc/alpine-release /etc/alpine-release\nCOPY lib/apk/db/installed /lib/apk/db/installed\n"),
		"leaky": withDockerfile(trivytest.SecretFiles, "FROM busybox\nCOPY app /app\n"),
	}
	a.call("POST", "/api/v1/projects", map[string]any{"name": "shop"}, http.StatusCreated, nil)
	ids, commits := map[string]string{}, map[string]string{}
	for comp, files := range repos {
		src := filepath.Join(dir, comp)
		commits[comp] = gitRepo(t, src, files)
		a.call("POST", "/api/v1/projects/shop/components", map[string]any{"name": comp, "repo": "file://" + src}, http.StatusCreated, nil)
		var started struct{ ID string }
		a.call("POST", "/api/v1/projects/shop/components/"+comp+"/builds", map[string]any{}, http.StatusAccepted, &started)
		ids[comp] = started.ID
	}
	builds := map[string]buildDetail{}
	for comp, id := range ids {
		builds[comp] = waitBuild(t, a, id, 4*time.Minute)
	}
	logOf := func(comp string) string {
		return string(a.call("GET", "/api/v1/builds/"+ids[comp]+"/logs", nil, http.StatusOK, nil))
	}
	report := func(comp string) scan.Report {
		var r scan.Report
		a.call("GET", "/api/v1/builds/"+ids[comp]+"/scan", nil, http.StatusOK, &r)
		if r.VulnDB == nil || r.VulnDB.Source != dbRef.String() || len(r.NotScanned) != 0 {
			t.Fatalf("%s scanned with database %+v, not scanned %+v", comp, r.VulnDB, r.NotScanned)
		}
		return r
	}
	pushed := func(comp, tag string) bool {
		ref, err := name.ParseReference(dev.Endpoints.Registry + "/shop/" + comp + ":" + tag)
		if err != nil {
			t.Fatal(err)
		}
		_, err = remote.Head(ref, pushAuth(t, filepath.Join(dir, "data"), dev.Endpoints.Registry))
		return err == nil
	}

	// hello passes and is pushed; its endpoints and API spec are served.
	hello := builds["hello"]
	if hello.Status != "succeeded" || !strings.HasPrefix(hello.Digest, "sha256:") || !pushed("hello", commits["hello"]) {
		t.Fatalf("hello build %+v\nlog:\n%s", hello, logOf("hello"))
	}
	if !pushed("hello", "buildcache") {
		t.Fatalf("hello's build cache was not pushed after its scan passed\nlog:\n%s", logOf("hello"))
	}
	if r := report("hello"); len(r.Vulnerabilities)+len(r.Secrets) != 0 {
		t.Fatalf("hello's report %+v", r)
	}
	var eps struct {
		Items []struct {
			Name    string `json:"name"`
			Port    int    `json:"port"`
			Type    string `json:"type"`
			SpecURL string `json:"specUrl"`
		} `json:"items"`
		Default bool `json:"default"`
	}
	a.call("GET", "/api/v1/builds/"+ids["hello"]+"/endpoints", nil, http.StatusOK, &eps)
	if len(eps.Items) != 1 || eps.Default || eps.Items[0].Name != "web" || eps.Items[0].Port != 8080 || eps.Items[0].SpecURL == "" {
		t.Fatalf("hello's endpoints %+v", eps)
	}
	var spec struct {
		OpenAPI string         `json:"openapi"`
		Paths   map[string]any `json:"paths"`
	}
	a.call("GET", eps.Items[0].SpecURL, nil, http.StatusOK, &spec)
	if !strings.HasPrefix(spec.OpenAPI, "3.") || spec.Paths["/healthz"] == nil {
		t.Fatalf("hello's OpenAPI %+v", spec)
	}
	var detail struct {
		Required []struct {
			Name   string `json:"name"`
			Secret bool   `json:"secret"`
		} `json:"required"`
	}
	a.call("GET", "/api/v1/builds/"+ids["hello"], nil, http.StatusOK, &detail)
	if b, _ := json.Marshal(detail.Required); string(b) != `[{"name":"GREETING","secret":false},{"name":"API_TOKEN","secret":true}]` {
		t.Fatalf("hello requires %s", b)
	}

	// The other two fail at the scan, name why, and leave nothing in the registry.
	for comp, want := range map[string]string{
		"vuln":  "ScanPolicyViolation: the scan policy blocks this image: CRITICAL " + trivytest.CriticalCVE + " in " + trivytest.VulnPackage + " 1.0.0-r0 (fixed in 1.0.1-r0)",
		"leaky": "ScanPolicyViolation: the scan policy blocks this image: secret " + trivytest.SecretRule + " in /" + trivytest.SecretFile,
	} {
		b := builds[comp]
		var steps []string
		for _, s := range b.Steps {
			steps = append(steps, s.Name+"="+s.Status)
		}
		if b.Status != "failed" || !strings.HasPrefix(b.Error, want) || b.Digest != "" ||
			strings.Join(steps, " ") != "checkout=succeeded build=succeeded scan=failed push=pending spec=pending" {
			t.Fatalf("%s build %+v, want failed with %q\nlog:\n%s", comp, b, want, logOf(comp))
		}
		if strings.Contains(b.Error, "AKIA") || strings.Contains(logOf(comp), "AKIA") {
			t.Fatalf("%s: the secret is quoted in the error or log", comp)
		}
		for _, tag := range []string{commits[comp], "buildcache"} {
			if pushed(comp, tag) {
				t.Fatalf("%s:%s reached the registry", comp, tag)
			}
		}
	}
	if r := report("vuln"); len(r.Vulnerabilities) != 2 || r.Vulnerabilities[0].ID != trivytest.CriticalCVE {
		t.Fatalf("vuln's report %+v", r.Vulnerabilities)
	}
	if r := report("leaky"); len(r.Secrets) == 0 || r.Secrets[0].RuleID != trivytest.SecretRule {
		t.Fatalf("leaky's report %+v", r.Secrets)
	}
}
