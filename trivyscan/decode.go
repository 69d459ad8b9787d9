package trivyscan

import (
	"encoding/json"
	"fmt"
	"sort"

	"github.com/slipway-dev/slipway/scan"
)

// trivyReport is the part of Trivy's JSON report (`--format json`, schema version 2) slipway reads.
type trivyReport struct {
	SchemaVersion int
	Metadata      struct {
		OS *struct{ Family, Name string }
	}
	Results []struct {
		Target          string
		Class           string
		Vulnerabilities []struct {
			VulnerabilityID, PkgName, InstalledVersion, FixedVersion, Severity, Title string
		}
		Secrets []struct {
			RuleID, Title, Severity string
			StartLine               int
			// Match and Code are left undecoded: they quote the secret.
		}
		Misconfigurations []struct {
			ID, AVDID, Title, Message, Severity, Status string
		}
	}
}

// decode turns Trivy's JSON report into findings of r (which the caller has filled with what was
// scanned); it never copies a secret's text.
func decode(data []byte, r *scan.Report) error {
	var t trivyReport
	if err := json.Unmarshal(data, &t); err != nil {
		return fmt.Errorf("decoding trivy's report: %w", err)
	}
	if t.SchemaVersion != 2 {
		return fmt.Errorf("decoding trivy's report: schema version %d, want 2", t.SchemaVersion)
	}
	if os := t.Metadata.OS; os != nil && os.Family != "" {
		r.OS = os.Family + " " + os.Name
	}
	r.Vulnerabilities, r.Secrets, r.Misconfigurations = []scan.Vulnerability{}, []scan.Secret{}, []scan.Misconfiguration{}
	for _, res := range t.Results {
		for _, v := range res.Vulnerabilities {
			r.Vulnerabilities = append(r.Vulnerabilities, scan.Vulnerability{
				ID: v.VulnerabilityID, Package: v.PkgName, Installed: v.InstalledVersion, Fixed: v.FixedVersion,
				Severity: v.Severity, Title: v.Title, Target: res.Target,
			})
		}
		for _, s := range res.Secrets {
			r.Secrets = append(r.Secrets, scan.Secret{RuleID: s.RuleID, Title: s.Title, Severity: s.Severity, File: res.Target, Line: max(s.StartLine, 0)})
		}
		for _, m := range res.Misconfigurations {
			if m.Status != "FAIL" {
				continue
			}
			id := m.ID
			if id == "" {
				id = m.AVDID
			}
			r.Misconfigurations = append(r.Misconfigurations, scan.Misconfiguration{ID: id, Title: m.Title, Severity: m.Severity, Message: m.Message})
		}
	}
	sort.SliceStable(r.Vulnerabilities, func(i, j int) bool {
		a, b := r.Vulnerabilities[i], r.Vulnerabilities[j]
		if a.Package != b.Package {
			return a.Package < b.Package
		}
		return a.ID < b.ID
	})
	return nil
}
