package trivyscan

import (
	"os"
	"strings"
	"testing"

	"github.com/slipway-dev/slipway/scan"
)

func TestDecode(t *testing.T) {
	data, err := os.ReadFile("testdata/report.json")
	if err != nil {
		t.Fatal(err)
	}
	var r scan.Report
	if err := decode(data, &r); err != nil {
		t.Fatal(err)
	}
	if r.OS != "alpine 3.20.3" {
		t.Fatalf("OS %q", r.OS)
	}
	want := []scan.Vulnerability{
		{ID: "CVE-2099-0001", Package: "slipway-fixture-vuln", Installed: "1.0.0-r0", Fixed: "1.0.1-r0", Severity: "CRITICAL", Title: "first", Target: "/work/b-1/image (alpine 3.20.3)"},
		{ID: "CVE-2099-0002", Package: "slipway-fixture-vuln", Installed: "1.0.0-r0", Fixed: "1.0.2-r0", Severity: "HIGH", Title: "second", Target: "/work/b-1/image (alpine 3.20.3)"},
	}
	if len(r.Vulnerabilities) != 2 || r.Vulnerabilities[0] != want[0] || r.Vulnerabilities[1] != want[1] {
		t.Fatalf("vulnerabilities %+v", r.Vulnerabilities)
	}
	if len(r.Secrets) != 1 || r.Secrets[0] != (scan.Secret{RuleID: "aws-access-key-id", Title: "AWS Access Key ID", Severity: "CRITICAL", File: "/app/creds.env", Line: 2}) {
		t.Fatalf("secrets %+v", r.Secrets)
	}
	// Only failed checks are findings.
	if len(r.Misconfigurations) != 1 || r.Misconfigurations[0].ID != "DS-0002" || r.Misconfigurations[0].Severity != "HIGH" {
		t.Fatalf("misconfigurations %+v", r.Misconfigurations)
	}
}

func TestDecodeRefusesWhatItCannotRead(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`{"SchemaVersion": 1}`, "schema version 1, want 2"},
		{`{"SchemaVersion": 2, "Results": {}}`, "decoding trivy's report"},
		{`not json`, "decoding trivy's report"},
	} {
		var r scan.Report
		if err := decode([]byte(tc.in), &r); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("decode(%s) = %v, want an error containing %q", tc.in, err, tc.want)
		}
	}
}

// FuzzDecode feeds the decoder arbitrary bytes: it must never panic, and what it accepts has no nil
// finding lists (the API shows them as []) and no secret text.
func FuzzDecode(f *testing.F) {
	if data, err := os.ReadFile("testdata/report.json"); err == nil {
		f.Add(data)
	}
	f.Add([]byte(`{"SchemaVersion":2,"Results":[{"Secrets":[{"RuleID":"x","StartLine":-5,"Match":"AKIA"}]}]}`))
	f.Add([]byte(`{"SchemaVersion":2,"Metadata":{"OS":null},"Results":null}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var r scan.Report
		if err := decode(data, &r); err != nil {
			return
		}
		if r.Vulnerabilities == nil || r.Secrets == nil || r.Misconfigurations == nil {
			t.Fatal("a decoded report has a nil finding list")
		}
		for _, s := range r.Secrets {
			if s.Line < 0 {
				t.Fatalf("secret line %d", s.Line)
			}
		}
	})
}
