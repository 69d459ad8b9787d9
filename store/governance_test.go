package store

import (
	"reflect"
	"testing"
	"time"

	"github.com/slipway-dev/slipway/api"
	"github.com/slipway-dev/slipway/scan"
)

func TestReleaseRulesAndStoppedLines(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		mustCreateProject(t, s, "shop")
		yes := true
		start := time.Date(2026, 12, 24, 0, 0, 0, 0, time.UTC)
		end := start.Add(48 * time.Hour)
		rules := ReleaseRules{Approval: &api.Approval{Required: &yes, MinApprovals: 2, Approvers: []string{"admin", "ops"}},
			FreezeWindows: []api.FreezeWindow{{Name: "xmas", Start: &start, End: &end}}, FreezeMode: api.FreezeRefuse}
		_, err := s.UpdateEnvironment(ctx, "shop", "production", func(e *Environment) error { e.Rules = rules; return nil })
		must(t, err)
		st, err := s.StopLine(ctx, "shop", "production", "incident 42", "root")
		must(t, err)
		_, err = s.StopLine(ctx, "shop", "qa", "x", "root")
		wantErr(t, err, ErrNotFound, "")
		_, err = s.StopLine(ctx, "shop", "production", "", "root")
		wantErr(t, err, ErrInvalid, "")
		envs, err := s.ListEnvironments(ctx, "shop")
		must(t, err)
		want := rules
		want.Stopped = &st
		if got := envs[1].Rules; !reflect.DeepEqual(got, want) {
			t.Errorf("rules read back %+v, want %+v", got, want)
		}
		if envs[0].Rules.Stopped != nil || envs[0].Rules.Approval != nil {
			t.Errorf("development's rules %+v, want none", envs[0].Rules)
		}
		if _, ok, err := s.ProjectStop(ctx, "shop"); err != nil || ok {
			t.Errorf("project stopped = %v, %v before it was", ok, err)
		}
		_, err = s.StopLine(ctx, "shop", ProjectLine, "freeze all", "root")
		must(t, err)
		if got, ok, err := s.ProjectStop(ctx, "shop"); err != nil || !ok || got.Reason != "freeze all" {
			t.Errorf("project stop = %+v, %v, %v", got, ok, err)
		}
		must(t, s.StartLine(ctx, "shop", ProjectLine))
		must(t, s.StartLine(ctx, "shop", "production"))
		wantErr(t, s.StartLine(ctx, "shop", "production"), ErrNotFound, "")
	})
}

func TestPromotionsVotesQuarantinesAndTheAuditLog(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		mustCreateProject(t, s, "shop")
		mustCreateComponent(t, s, "shop", "api")
		_, err := s.CreateBuild(ctx, Build{ID: "b-1", Project: "shop", Component: "api", Commit: "abc"})
		must(t, err)

		expires := time.Now().UTC().Add(time.Hour).Truncate(time.Microsecond)
		p, err := s.CreatePromotion(ctx, Promotion{ID: "pr-1", Project: "shop", Component: "api", Environment: "production",
			From: "development", BuildID: "b-1", Digest: "sha256:1", Requester: "dev", Status: api.PromotionPendingApproval,
			MinApprovals: 2, ExpiresAt: &expires, Diff: &api.PromotionDiff{ToBuild: "b-1", Commits: []api.Commit{}, Files: []string{"a.go"}}})
		must(t, err)
		_, err = s.CreatePromotion(ctx, p)
		wantErr(t, err, ErrExists, "")
		_, err = s.AddPromotionVote(ctx, "pr-1", api.PromotionVote{Actor: "ops", Decision: api.DecisionApprove, Comment: "ok"},
			func(Promotion) error { return nil })
		must(t, err)
		_, err = s.AddPromotionVote(ctx, "pr-1", api.PromotionVote{Actor: "ops", Decision: api.DecisionReject},
			func(Promotion) error { return nil })
		wantErr(t, err, ErrExists, "")
		got, err := s.GetPromotion(ctx, "pr-1")
		must(t, err)
		if len(got.Votes) != 1 || got.Votes[0].Comment != "ok" || got.Diff == nil || got.Diff.Files[0] != "a.go" ||
			got.ExpiresAt == nil || !got.ExpiresAt.Equal(expires) {
			t.Fatalf("read back %+v", got)
		}
		must(t, s.PutPromotionScan(ctx, "pr-1", scan.Report{}, scan.Summary{Passed: true}))
		// Queued: its deployment's end ends it, in the same transaction, with an audit entry.
		_, err = s.UpdatePromotion(ctx, "pr-1", func(p *Promotion) error {
			p.Status, p.DeploymentID = api.PromotionDeploying, "d-1"
			return nil
		})
		must(t, err)
		_, err = s.CreateDeployment(ctx, Deployment{ID: "d-1", Project: "shop", Component: "api", Environment: "production", BuildID: "b-1"})
		must(t, err)
		_, err = s.UpdateDeployment(ctx, "d-1", func(d *Deployment) error { d.Status = api.DeploymentSucceeded; return nil })
		must(t, err)
		if got, err = s.GetPromotion(ctx, "pr-1"); err != nil || got.Status != api.PromotionSucceeded || got.Rescan == nil || !got.Rescan.Passed {
			t.Fatalf("after its deployment %+v, %v", got, err)
		}
		list, err := s.ListPromotions(ctx, "shop", "", api.PromotionSucceeded, 0)
		if err != nil || len(list) != 1 || len(list[0].Votes) != 1 {
			t.Fatalf("succeeded requests %+v, %v", list, err)
		}

		q, err := s.QuarantineBuild(ctx, "b-1", "CVE-1", "root")
		must(t, err)
		qs, err := s.Quarantines(ctx, "b-1", "b-2")
		if err != nil || len(qs) != 1 || qs["b-1"] != q {
			t.Fatalf("quarantines %+v, %v", qs, err)
		}
		must(t, s.UnquarantineBuild(ctx, "b-1"))
		wantErr(t, s.UnquarantineBuild(ctx, "b-1"), ErrNotFound, "")

		for i := range 5 {
			_, err := s.AppendAudit(ctx, AuditEntry{Actor: "root", Action: api.AuditApprove, Project: "shop", Target: "t" + string(rune('0'+i))})
			must(t, err)
		}
		page, next, err := s.AuditLog(ctx, AuditFilter{Project: "shop", Action: api.AuditApprove, Limit: 3})
		must(t, err)
		rest, last, err := s.AuditLog(ctx, AuditFilter{Project: "shop", Action: api.AuditApprove, Limit: 3, Before: next})
		must(t, err)
		if len(page) != 3 || next == "" || len(rest) != 2 || last != "" || page[0].Target != "t4" || rest[1].Target != "t0" {
			t.Fatalf("pages %+v (%q) and %+v (%q)", page, next, rest, last)
		}
		ended, _, err := s.AuditLog(ctx, AuditFilter{Action: api.AuditPromotionEnd})
		if err != nil || len(ended) != 1 || ended[0].Target != "pr-1" || ended[0].Result != "succeeded" {
			t.Fatalf("the end's audit entry %+v, %v", ended, err)
		}
		_, _, err = s.AuditLog(ctx, AuditFilter{Before: "nope"})
		wantErr(t, err, ErrInvalid, "")
	})
}
