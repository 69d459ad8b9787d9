package server

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/slipway-dev/slipway/api"
	"github.com/slipway-dev/slipway/descriptor"
	"github.com/slipway-dev/slipway/scan"
	"github.com/slipway-dev/slipway/workflows"
)

func TestProjectScanPolicy(t *testing.T) {
	e, fake := newBuildEnv(t)
	var p api.ProjectResponse
	e.must(http.StatusOK, http.MethodPatch, "/api/v1/projects/shop", e.developer,
		map[string]any{"scanPolicy": map[string]any{"failOn": "HIGH", "allowSecrets": true}}, &p)
	if p.ScanPolicy != (scan.Policy{FailOn: "HIGH", AllowSecrets: true}) || len(p.Environments) != 2 {
		t.Fatalf("patched project %+v", p)
	}
	rec := e.must(http.StatusUnprocessableEntity, http.MethodPatch, "/api/v1/projects/shop", e.developer,
		map[string]any{"scanPolicy": map[string]any{"failOn": "SEVERE"}}, nil)
	if !strings.Contains(rec.Body.String(), `"field":"scanPolicy.failOn"`) {
		t.Fatalf("bad policy answer %s", rec.Body)
	}
	e.must(http.StatusUnprocessableEntity, http.MethodPost, "/api/v1/projects", e.developer,
		map[string]any{"name": "other", "scanPolicy": map[string]any{"failOn": "bad"}}, nil)
	e.must(http.StatusForbidden, http.MethodPatch, "/api/v1/projects/shop", e.viewer, map[string]any{}, nil)
	e.must(http.StatusNotFound, http.MethodPatch, "/api/v1/projects/nope", e.developer, map[string]any{}, nil)

	// A build carries the policy of its trigger time.
	e.trigger(http.StatusAccepted, map[string]any{"commit": "main"})
	starts := fake.startCalls()
	if len(starts) != 1 {
		t.Fatalf("%d workflow starts", len(starts))
	}
	if in := starts[0].args[0].(workflows.BuildPipelineInput); in.ScanPolicy != p.ScanPolicy {
		t.Fatalf("build input policy %+v, want %+v", in.ScanPolicy, p.ScanPolicy)
	}
}

func TestBuildScanAndEndpoints(t *testing.T) {
	e, _ := newBuildEnv(t)
	ctx := context.Background()
	got := e.trigger(http.StatusAccepted, map[string]any{"commit": "main"})
	id := got.ID
	e.must(http.StatusNotFound, http.MethodGet, "/api/v1/builds/"+id+"/scan", e.viewer, nil, nil)
	e.must(http.StatusNotFound, http.MethodGet, "/api/v1/builds/"+id+"/endpoints", e.viewer, nil, nil)

	r := scan.Report{Digest: "sha256:abc", Scanner: "trivy 0.74.0", Scanned: []string{scan.ScannerVuln, scan.ScannerSecret},
		Vulnerabilities:   []scan.Vulnerability{{ID: "CVE-2099-0001", Package: "p", Installed: "1", Fixed: "2", Severity: scan.SeverityCritical}},
		Secrets:           []scan.Secret{},
		Misconfigurations: []scan.Misconfiguration{}}
	if err := e.st.PutBuildScan(ctx, id, r, r.Summarize(false)); err != nil {
		t.Fatal(err)
	}
	var report scan.Report
	e.must(http.StatusOK, http.MethodGet, "/api/v1/builds/"+id+"/scan", e.viewer, nil, &report)
	if len(report.Vulnerabilities) != 1 || report.Vulnerabilities[0].ID != "CVE-2099-0001" {
		t.Fatalf("scan report %+v", report)
	}

	d := descriptor.Descriptor{
		Endpoints: []descriptor.Endpoint{{Name: "web", Port: 8080, Type: descriptor.REST, BasePath: "/", SchemaFilePath: "openapi.yaml"},
			{Name: "raw", Port: 9000, Type: descriptor.TCP}},
		Required: descriptor.Required{Configs: []descriptor.Requirement{{Name: "GREETING"}}, Secrets: []descriptor.Requirement{{Name: "API_TOKEN"}}},
	}
	openapi := `{"openapi":"3.0.3","info":{"title":"hello","version":"1"},"paths":{}}`
	if err := e.st.PutBuildSpec(ctx, id, d, []descriptor.Spec{{Endpoint: "web", Path: "openapi.yaml", Format: descriptor.OpenAPI3, JSON: json.RawMessage(openapi)}}); err != nil {
		t.Fatal(err)
	}
	var eps api.Endpoints
	e.must(http.StatusOK, http.MethodGet, "/api/v1/builds/"+id+"/endpoints", e.viewer, nil, &eps)
	if len(eps.Items) != 2 || eps.Default || eps.Items[0].SpecURL != "/api/v1/builds/"+id+"/endpoints/web/spec" || eps.Items[1].SpecURL != "" {
		t.Fatalf("endpoints %+v", eps)
	}
	rec := e.must(http.StatusOK, http.MethodGet, eps.Items[0].SpecURL, e.viewer, nil, nil)
	if rec.Body.String() != openapi || !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
		t.Fatalf("spec %s (%s)", rec.Body, rec.Header().Get("Content-Type"))
	}
	e.must(http.StatusNotFound, http.MethodGet, "/api/v1/builds/"+id+"/endpoints/raw/spec", e.viewer, nil, nil)

	var v api.Build
	e.must(http.StatusOK, http.MethodGet, "/api/v1/builds/"+id, e.viewer, nil, &v)
	if v.Scan == nil || v.Scan.Vulnerabilities.Critical != 1 || v.Scan.Passed {
		t.Fatalf("build detail scan %+v", v.Scan)
	}
	want := []api.RequiredConfig{{Name: "GREETING"}, {Name: "API_TOKEN", Secret: true}}
	if len(v.Required) != 2 || v.Required[0] != want[0] || v.Required[1] != want[1] || v.Descriptor == nil || v.Descriptor.Source != "repository" {
		t.Fatalf("build detail required %+v, descriptor %+v", v.Required, v.Descriptor)
	}

	// A build made without a descriptor says so.
	if err := e.st.PutBuildSpec(ctx, id, descriptor.Default([]string{"8080/tcp"}), nil); err != nil {
		t.Fatal(err)
	}
	e.must(http.StatusOK, http.MethodGet, "/api/v1/builds/"+id, e.viewer, nil, &v)
	if v.Descriptor == nil || v.Descriptor.Source != "default" || !strings.Contains(v.Descriptor.Note, "EXPOSE") || v.Descriptor.Endpoints != 1 {
		t.Fatalf("default descriptor shown as %+v", v.Descriptor)
	}
	if b := e.storedBuild(id); b.Status != api.BuildQueued {
		t.Fatalf("build status %s", b.Status)
	}
}
