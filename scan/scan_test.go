package scan

import (
	"testing"
	"time"
)

func TestVulnDBDescribe(t *testing.T) {
	updated := time.Date(2026, 8, 13, 6, 12, 0, 0, time.UTC)
	downloaded := time.Date(2026, 8, 13, 9, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		db   VulnDB
		at   time.Time
		want string
	}{
		{VulnDB{Source: "mirror.gcr.io/aquasec/trivy-db:2", UpdatedAt: updated, DownloadedAt: downloaded}, updated.Add(5*time.Hour + 7*time.Minute),
			"mirror.gcr.io/aquasec/trivy-db:2, updated 2026-08-13 06:12 UTC (5h ago), downloaded 2026-08-13 09:00 UTC"},
		{VulnDB{Source: "/srv/trivy-db", UpdatedAt: updated}, updated.Add(42 * time.Minute),
			"/srv/trivy-db, updated 2026-08-13 06:12 UTC (42m ago)"},
		{VulnDB{Source: "/srv/trivy-db", UpdatedAt: updated}, updated.Add(75 * time.Hour),
			"/srv/trivy-db, updated 2026-08-13 06:12 UTC (3d ago)"},
	} {
		if got := tc.db.Describe(tc.at); got != tc.want {
			t.Errorf("Describe = %q, want %q", got, tc.want)
		}
	}
}

func TestSummarizeKeepsTheDatabase(t *testing.T) {
	db := &VulnDB{Source: "127.0.0.1:5000/trivy/db:2", UpdatedAt: time.Date(2026, 8, 13, 6, 0, 0, 0, time.UTC)}
	sum := Report{Scanned: []string{ScannerVuln}, VulnDB: db, Vulnerabilities: []Vulnerability{{Severity: SeverityHigh}}}.Summarize(true)
	if sum.VulnDB != db || sum.Vulnerabilities.High != 1 || sum.String() != "C0 H1 M0 L0 secrets:0 misconfig:0 passed" {
		t.Fatalf("summary %+v (%s)", sum, sum)
	}
	none := Report{NotScanned: []Skipped{{Scanner: ScannerVuln, Reason: ReasonNoVulnDB + ": no source answered"}}}.Summarize(true)
	if none.VulnDB != nil || none.String() != "C0 H0 M0 L0 secrets:0 misconfig:0 no-vuln-db passed" {
		t.Fatalf("summary without a database %+v (%s)", none, none)
	}
}
