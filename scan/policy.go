package scan

import (
	"fmt"
	"strings"
)

// FailOnNone is the Policy.FailOn that lets vulnerabilities and misconfigurations of any severity through.
const FailOnNone = "NONE"

// Policy is a project's rule for which scan findings stop a build before its image is pushed.
// The zero Policy is the default: any CRITICAL vulnerability or misconfiguration, or any secret,
// fails the build; a scan without a vulnerability database passes, saying so.
type Policy struct {
	// FailOn is the lowest severity (LOW, MEDIUM, HIGH, CRITICAL) of a vulnerability or
	// misconfiguration that fails the build; "" means CRITICAL, FailOnNone means none does.
	FailOn string `json:"failOn,omitempty"`
	// AllowSecrets lets an image with secrets in it through; false fails it on any secret.
	AllowSecrets bool `json:"allowSecrets,omitempty"`
	// RequireVulnDB fails a build whose vulnerabilities could not be scanned for lack of a
	// database; false lets it through, with the report saying what was not scanned.
	RequireVulnDB bool `json:"requireVulnDB,omitempty"`
}

// Validate names what is wrong with the policy; nil means it is usable.
func (p Policy) Validate() error {
	switch strings.ToUpper(p.FailOn) {
	case "", SeverityLow, SeverityMedium, SeverityHigh, SeverityCritical, FailOnNone:
		return nil
	}
	return fmt.Errorf("failOn must be one of LOW, MEDIUM, HIGH, CRITICAL or NONE, got %q", p.FailOn)
}

// threshold is the rank at and above which findings fail a build; -1 means none do.
func (p Policy) threshold() int {
	switch strings.ToUpper(p.FailOn) {
	case "":
		return rank(SeverityCritical)
	case FailOnNone:
		return -1
	}
	return rank(p.FailOn)
}

// blocks says whether a finding of the given severity fails a build.
func (p Policy) blocks(severity string) bool {
	t := p.threshold()
	return t >= 0 && rank(severity) >= t
}

// Violations lists, one line each, the findings of r that fail the build under p; none means it passes.
func (p Policy) Violations(r Report) []string {
	var out []string
	for _, v := range r.Vulnerabilities {
		if p.blocks(v.Severity) {
			fixed := v.Fixed
			if fixed == "" {
				fixed = "no fix"
			}
			out = append(out, fmt.Sprintf("%s %s in %s %s (fixed in %s)", v.Severity, v.ID, v.Package, v.Installed, fixed))
		}
	}
	for _, m := range r.Misconfigurations {
		if p.blocks(m.Severity) {
			out = append(out, fmt.Sprintf("%s misconfiguration %s: %s", m.Severity, m.ID, m.Title))
		}
	}
	if !p.AllowSecrets {
		for _, s := range r.Secrets {
			where := s.File
			if s.Line > 0 {
				where = fmt.Sprintf("%s:%d", s.File, s.Line)
			}
			out = append(out, fmt.Sprintf("secret %s in %s", s.RuleID, where))
		}
	}
	if p.RequireVulnDB {
		for _, n := range r.NotScanned {
			if n.Scanner == ScannerVuln {
				out = append(out, "vulnerabilities not scanned: "+n.Reason)
			}
		}
	}
	return out
}
