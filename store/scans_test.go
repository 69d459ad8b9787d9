package store

import (
	"testing"
	"time"

	"github.com/slipway-dev/slipway/api"
	"github.com/slipway-dev/slipway/scan"
)

func TestBuildScanKeptWithBuild(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		mustCreateProject(t, s, "shop")
		mustCreateComponent(t, s, "shop", "api")
		if _, err := s.CreateBuild(ctx, newBuild("b1")); err != nil {
			t.Fatal(err)
		}
		_, err := s.GetBuildScan(ctx, "b1")
		wantErr(t, err, ErrNotFound, `scan report of build "b1": not found`)
		_, err = s.GetBuildScan(ctx, "nope")
		wantErr(t, err, ErrNotFound, `build "nope": not found`)

		r := scan.Report{Digest: "sha256:abc", Scanner: "trivy 0.74.0", ScannedAt: time.Now().UTC().Truncate(time.Second),
			Scanned: []string{scan.ScannerSecret}, NotScanned: []scan.Skipped{{Scanner: scan.ScannerVuln, Reason: scan.ReasonNoVulnDB}},
			Vulnerabilities: []scan.Vulnerability{}, Misconfigurations: []scan.Misconfiguration{},
			Secrets: []scan.Secret{{RuleID: "aws-access-key-id", Severity: "CRITICAL", File: "app/creds", Line: 2}}}
		policy := scan.Policy{}
		must(t, s.PutBuildScan(ctx, "b1", r, r.Summarize(len(policy.Violations(r)) == 0)))
		// A retried scan replaces the first.
		r.Secrets = append(r.Secrets, scan.Secret{RuleID: "github-pat", Severity: "CRITICAL", File: "app/token"})
		must(t, s.PutBuildScan(ctx, "b1", r, r.Summarize(false)))

		got, err := s.GetBuildScan(ctx, "b1")
		must(t, err)
		if len(got.Secrets) != 2 || got.Secrets[0].Line != 2 || got.NotScanned[0].Reason != scan.ReasonNoVulnDB || !got.ScannedAt.Equal(r.ScannedAt) {
			t.Fatalf("scan report = %+v", got)
		}
		b, err := s.GetBuild(ctx, "b1")
		must(t, err)
		if b.Scan == nil || b.Scan.Secrets != 2 || b.Scan.Passed {
			t.Fatalf("build's scan summary = %+v", b.Scan)
		}
		list, err := s.ListBuilds(ctx, "shop", "api", "", 10)
		must(t, err)
		if len(list) != 1 || list[0].Scan == nil || list[0].Scan.Secrets != 2 {
			t.Fatalf("listed builds = %+v", list)
		}

		_, err = s.UpdateBuild(ctx, "b1", func(b *Build) error { b.Status = api.BuildFailed; return nil })
		must(t, err)
		wantErr(t, s.PutBuildScan(ctx, "b1", r, r.Summarize(true)), ErrInvalid, `build "b1" is failed and can no longer change: invalid`)
		if n := count(t, s, "SELECT build_id FROM build_scans"); n != 1 {
			t.Fatalf("%d scan rows, want 1", n)
		}
		must(t, s.DeleteProject(ctx, "shop"))
		if n := count(t, s, "SELECT build_id FROM build_scans"); n != 0 {
			t.Fatalf("%d scan rows left after the project was deleted", n)
		}
	})
}

func TestProjectScanPolicy(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		_, err := s.CreateProject(ctx, Project{Name: "bad", ScanPolicy: scan.Policy{FailOn: "SEVERE"}}, nil)
		wantErr(t, err, ErrInvalid, `scan policy of project "bad": failOn must be one of LOW, MEDIUM, HIGH, CRITICAL or NONE, got "SEVERE": invalid`)
		p, err := s.CreateProject(ctx, Project{Name: "shop", ScanPolicy: scan.Policy{FailOn: "HIGH"}}, nil)
		must(t, err)
		got, err := s.GetProject(ctx, "shop")
		must(t, err)
		if got.ScanPolicy != (scan.Policy{FailOn: "HIGH"}) || !got.CreatedAt.Equal(p.CreatedAt) {
			t.Fatalf("project = %+v", got)
		}
		up, err := s.UpdateProject(ctx, "shop", func(p *Project) error {
			p.ScanPolicy = scan.Policy{AllowSecrets: true, RequireVulnDB: true}
			return nil
		})
		must(t, err)
		list, err := s.ListProjects(ctx, "", 0)
		must(t, err)
		if len(list) != 1 || list[0].ScanPolicy != up.ScanPolicy || !up.ScanPolicy.RequireVulnDB {
			t.Fatalf("projects = %+v, updated %+v", list, up)
		}
		_, err = s.UpdateProject(ctx, "shop", func(p *Project) error { p.ScanPolicy.FailOn = "x"; return nil })
		wantErr(t, err, ErrInvalid, `scan policy of project "shop": failOn must be one of LOW, MEDIUM, HIGH, CRITICAL or NONE, got "x": invalid`)
		_, err = s.UpdateProject(ctx, "shop", func(p *Project) error { p.Name = "other"; return nil })
		wantErr(t, err, ErrInvalid, `update of project "shop" changed its identity: invalid`)
		_, err = s.UpdateProject(ctx, "none", func(p *Project) error { return nil })
		wantErr(t, err, ErrNotFound, "")
	})
}
