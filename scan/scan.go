// Package scan holds what slipway knows about an image's security scan: the report (findings and
// what was and was not scanned), its summary for listings, and the project policy that decides
// whether a build may go on. It does no scanning itself (see trivyscan).
package scan

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Severities, lowest first, as Trivy names them.
const (
	SeverityUnknown  = "UNKNOWN"
	SeverityLow      = "LOW"
	SeverityMedium   = "MEDIUM"
	SeverityHigh     = "HIGH"
	SeverityCritical = "CRITICAL"
)

// severities is the severity order, lowest first.
var severities = []string{SeverityUnknown, SeverityLow, SeverityMedium, SeverityHigh, SeverityCritical}

// rank places a severity in the order; an unknown name ranks as UNKNOWN.
func rank(severity string) int {
	return max(slices.Index(severities, strings.ToUpper(severity)), 0)
}

// Scanners slipway runs.
const (
	ScannerVuln      = "vuln"
	ScannerSecret    = "secret"
	ScannerMisconfig = "misconfig"
)

// ReasonNoVulnDB is why vulnerabilities were not scanned when no vulnerability database could be had.
const ReasonNoVulnDB = "vulnerability database unavailable"

// Report is one scan of one image.
type Report struct {
	// Digest is the image's manifest digest.
	Digest string `json:"digest"`
	// Scanner names the scanner and its version, e.g. "trivy 0.74.0".
	Scanner   string    `json:"scanner"`
	ScannedAt time.Time `json:"scannedAt"`
	// OS is the operating system found in the image, e.g. "alpine 3.20.3"; "" when none was detected.
	OS string `json:"os,omitempty"`
	// Scanned lists the scanners that ran (Scanner* names).
	Scanned []string `json:"scanned"`
	// NotScanned lists what did not run, and why; empty means everything ran.
	NotScanned []Skipped `json:"notScanned,omitempty"`
	// VulnDB describes the vulnerability database used; nil when none was.
	VulnDB *VulnDB `json:"vulnDB,omitempty"`
	// Cached says the report was taken from the worker's cache of earlier scans of the same image
	// with the same database and ignore rules.
	Cached bool `json:"cached,omitempty"`

	Vulnerabilities   []Vulnerability    `json:"vulnerabilities"`
	Secrets           []Secret           `json:"secrets"`
	Misconfigurations []Misconfiguration `json:"misconfigurations"`
}

// Skipped is a scanner that did not run.
type Skipped struct {
	Scanner string `json:"scanner"`
	Reason  string `json:"reason"`
}

// VulnDB is the vulnerability database a scan used, as its metadata.json describes it.
type VulnDB struct {
	// Source is the OCI repository or directory it came from.
	Source string `json:"source"`
	// UpdatedAt is when the database was built from its feeds: how old its knowledge is.
	UpdatedAt time.Time `json:"updatedAt"`
	// DownloadedAt is when Trivy last downloaded it, as metadata.json says; zero when unknown.
	DownloadedAt time.Time `json:"downloadedAt,omitzero"`
}

// Describe says on one line which database this is and how old it was at the time at, e.g.
// "mirror.gcr.io/aquasec/trivy-db:2, updated 2026-08-13 06:12 UTC (5h ago), downloaded 2026-08-13 09:00 UTC".
func (d VulnDB) Describe(at time.Time) string {
	const layout = "2006-01-02 15:04 MST"
	out := fmt.Sprintf("%s, updated %s (%s ago)", d.Source, d.UpdatedAt.UTC().Format(layout), age(at.Sub(d.UpdatedAt)))
	if !d.DownloadedAt.IsZero() {
		out += ", downloaded " + d.DownloadedAt.UTC().Format(layout)
	}
	return out
}

// age rounds d for reading: minutes under an hour, hours under two days, else days.
func age(d time.Duration) string {
	switch {
	case d < time.Minute:
		return "0m"
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d/time.Hour))
	}
	return fmt.Sprintf("%dd", int(d/(24*time.Hour)))
}

// Vulnerability is a vulnerable package in the image.
type Vulnerability struct {
	ID        string `json:"id"`
	Package   string `json:"package"`
	Installed string `json:"installedVersion"`
	// Fixed is the first version without the vulnerability; "" means no fix is known.
	Fixed    string `json:"fixedVersion,omitempty"`
	Severity string `json:"severity"`
	Title    string `json:"title,omitempty"`
	// Target is where the package was found, e.g. "alpine 3.20.3" or a lock file's path.
	Target string `json:"target,omitempty"`
}

// Secret is a secret found in a file of the image. It never holds the secret itself.
type Secret struct {
	RuleID   string `json:"ruleId"`
	Title    string `json:"title,omitempty"`
	Severity string `json:"severity"`
	File     string `json:"file"`
	// Line is the 1-based line of the file; 0 means unknown.
	Line int `json:"line,omitempty"`
}

// Misconfiguration is a failed check of the image's configuration (its Dockerfile, as built).
type Misconfiguration struct {
	ID       string `json:"id"`
	Title    string `json:"title,omitempty"`
	Severity string `json:"severity"`
	Message  string `json:"message,omitempty"`
}

// Counts are findings by severity.
type Counts struct {
	Critical int `json:"critical"`
	High     int `json:"high"`
	Medium   int `json:"medium"`
	Low      int `json:"low"`
	Unknown  int `json:"unknown"`
}

func (c *Counts) add(severity string) {
	switch severities[rank(severity)] {
	case SeverityCritical:
		c.Critical++
	case SeverityHigh:
		c.High++
	case SeverityMedium:
		c.Medium++
	case SeverityLow:
		c.Low++
	default:
		c.Unknown++
	}
}

// Summary is a report in brief, kept with the build for listings.
type Summary struct {
	// Vulnerabilities counts vulnerabilities by severity.
	Vulnerabilities Counts `json:"vulnerabilities"`
	Secrets         int    `json:"secrets"`
	// Misconfigurations counts failed configuration checks.
	Misconfigurations int `json:"misconfigurations"`
	// Passed says the policy let the build go on.
	Passed bool `json:"passed"`
	// Scanned and NotScanned repeat the report's: what ran, and what did not and why (a
	// vulnerability database that was unavailable, with the reason).
	Scanned    []string  `json:"scanned"`
	NotScanned []Skipped `json:"notScanned,omitempty"`
	// VulnDB repeats the report's: the vulnerability database used, its source and age; nil when
	// none was (NotScanned says why).
	VulnDB *VulnDB `json:"vulnDB,omitempty"`
}

// Summarize counts the report's findings; passed is the policy's verdict.
func (r Report) Summarize(passed bool) Summary {
	s := Summary{Secrets: len(r.Secrets), Misconfigurations: len(r.Misconfigurations), Passed: passed,
		Scanned: r.Scanned, NotScanned: r.NotScanned, VulnDB: r.VulnDB}
	for _, v := range r.Vulnerabilities {
		s.Vulnerabilities.add(v.Severity)
	}
	return s
}

// String is the summary on one line, e.g. "C1 H2 M0 L0 secrets:0 misconfig:1 passed".
func (s Summary) String() string {
	v := s.Vulnerabilities
	out := fmt.Sprintf("C%d H%d M%d L%d secrets:%d misconfig:%d", v.Critical, v.High, v.Medium, v.Low, s.Secrets, s.Misconfigurations)
	for _, n := range s.NotScanned {
		if n.Scanner == ScannerVuln {
			out += " no-vuln-db"
		}
	}
	if s.Passed {
		return out + " passed"
	}
	return out + " blocked"
}
