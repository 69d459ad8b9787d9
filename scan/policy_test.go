package scan

import (
	"slices"
	"testing"
)

func TestPolicyViolations(t *testing.T) {
	r := Report{
		Vulnerabilities: []Vulnerability{
			{ID: "CVE-1", Package: "libc", Installed: "1.0", Fixed: "1.1", Severity: SeverityCritical},
			{ID: "CVE-2", Package: "zlib", Installed: "2.0", Severity: SeverityHigh},
			{ID: "CVE-3", Package: "zlib", Installed: "2.0", Severity: SeverityLow},
		},
		Secrets:           []Secret{{RuleID: "aws-access-key-id", Severity: SeverityCritical, File: "app/creds", Line: 3}},
		Misconfigurations: []Misconfiguration{{ID: "DS002", Title: "Image user should not be 'root'", Severity: SeverityHigh}},
		NotScanned:        []Skipped{{Scanner: ScannerVuln, Reason: ReasonNoVulnDB}},
	}
	for _, tc := range []struct {
		name   string
		policy Policy
		want   []string
	}{
		{"default: critical and secrets", Policy{}, []string{
			"CRITICAL CVE-1 in libc 1.0 (fixed in 1.1)",
			"secret aws-access-key-id in app/creds:3",
		}},
		{"high and up, secrets allowed", Policy{FailOn: "high", AllowSecrets: true}, []string{
			"CRITICAL CVE-1 in libc 1.0 (fixed in 1.1)",
			"HIGH CVE-2 in zlib 2.0 (fixed in no fix)",
			"HIGH misconfiguration DS002: Image user should not be 'root'",
		}},
		{"none, but a database is required", Policy{FailOn: FailOnNone, AllowSecrets: true, RequireVulnDB: true}, []string{
			"vulnerabilities not scanned: " + ReasonNoVulnDB,
		}},
		{"low catches all", Policy{FailOn: SeverityLow, AllowSecrets: true}, []string{
			"CRITICAL CVE-1 in libc 1.0 (fixed in 1.1)",
			"HIGH CVE-2 in zlib 2.0 (fixed in no fix)",
			"LOW CVE-3 in zlib 2.0 (fixed in no fix)",
			"HIGH misconfiguration DS002: Image user should not be 'root'",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.policy.Validate(); err != nil {
				t.Fatal(err)
			}
			if got := tc.policy.Violations(r); !slices.Equal(got, tc.want) {
				t.Fatalf("violations\n got %q\nwant %q", got, tc.want)
			}
		})
	}
	if got := (Policy{}).Violations(Report{}); len(got) != 0 {
		t.Fatalf("an empty report violates the default policy: %q", got)
	}
	if err := (Policy{FailOn: "SEVERE"}).Validate(); err == nil {
		t.Fatal("a policy failing on SEVERE was accepted")
	}
}

func TestSummary(t *testing.T) {
	r := Report{
		Vulnerabilities: []Vulnerability{{Severity: SeverityCritical}, {Severity: SeverityHigh}, {Severity: SeverityHigh}, {Severity: "weird"}},
		Secrets:         []Secret{{RuleID: "x"}},
		NotScanned:      []Skipped{{Scanner: ScannerVuln, Reason: ReasonNoVulnDB}},
	}
	s := r.Summarize(false)
	if s.Vulnerabilities != (Counts{Critical: 1, High: 2, Unknown: 1}) || s.Secrets != 1 || s.Passed {
		t.Fatalf("summary %+v", s)
	}
	if got, want := s.String(), "C1 H2 M0 L0 secrets:1 misconfig:0 no-vuln-db blocked"; got != want {
		t.Fatalf("String() = %q, want %q", got, want)
	}
}
