package store

import (
	"testing"
	"time"

	"github.com/slipway-dev/slipway/api"
)

func TestVerificationRollbackAndHolds(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		mustCreateProject(t, s, "shop")
		mustCreateComponent(t, s, "shop", "api")
		for _, b := range []string{"b-1", "b-2"} {
			_, err := s.CreateBuild(ctx, Build{ID: b, Project: "shop", Component: "api", Commit: "abc"})
			must(t, err)
		}
		serve := func(id, build string) Deployment {
			_, err := s.CreateDeployment(ctx, Deployment{ID: id, Project: "shop", Component: "api", Environment: "development", BuildID: build})
			must(t, err)
			now := time.Now().UTC()
			d, err := s.UpdateDeployment(ctx, id, func(d *Deployment) error { d.Status, d.EndedAt = api.DeploymentSucceeded, &now; return nil })
			must(t, err)
			return d
		}
		serve("d-1", "b-1")
		serve("d-2", "b-2")
		// A queued deployment is not verified; a succeeded one is verifying, then passes, once.
		_, err := s.CreateDeployment(ctx, Deployment{ID: "d-3", Project: "shop", Component: "api", Environment: "development", BuildID: "b-1"})
		must(t, err)
		_, err = s.VerifyDeployment(ctx, "d-3", api.VerificationRunning, "")
		wantErr(t, err, ErrInvalid, "")
		d, err := s.VerifyDeployment(ctx, "d-1", api.VerificationRunning, "")
		must(t, err)
		if d.Verification != api.VerificationRunning || d.VerifiedAt != nil {
			t.Fatalf("verifying %+v", d)
		}
		d, err = s.VerifyDeployment(ctx, "d-1", api.VerificationPassed, "")
		must(t, err)
		got, err := s.GetDeployment(ctx, "d-1")
		must(t, err)
		if got.Verification != api.VerificationPassed || got.VerifiedAt == nil || !got.VerifiedAt.Equal(*d.VerifiedAt) {
			t.Fatalf("passed %+v", got)
		}
		_, err = s.VerifyDeployment(ctx, "d-1", api.VerificationFailed, "late")
		wantErr(t, err, ErrInvalid, "")
		_, err = s.RollBackDeployment(ctx, "d-1", "passed: not rolled back")
		wantErr(t, err, ErrInvalid, "")
		_, err = s.VerifyDeployment(ctx, "d-1", "maybe", "")
		wantErr(t, err, ErrInvalid, "")

		// d-2 fails: it still serves until it is rolled back, then d-1 serves again; b-2 is not promoted from
		// development; repeating either is harmless.
		for range 2 {
			d, err = s.VerifyDeployment(ctx, "d-2", api.VerificationFailed, "verification failed: status 500; rolling back")
			must(t, err)
		}
		if cur, err := s.CurrentDeployment(ctx, "shop", "api", "development"); err != nil || cur.ID != "d-2" || cur.Verification != api.VerificationFailed {
			t.Fatalf("current before the rollback %+v (%v), want d-2, failed verification", cur, err)
		}
		for range 2 {
			d, err = s.RollBackDeployment(ctx, "d-2", "rolled_back: verification failed: status 500")
			must(t, err)
		}
		if d.Status != api.DeploymentRolledBack || d.Message != "rolled_back: verification failed: status 500" {
			t.Fatalf("rolled back %+v", d)
		}
		if cur, err := s.CurrentDeployment(ctx, "shop", "api", "development"); err != nil || cur.ID != "d-1" {
			t.Fatalf("current after the rollback %s (%v), want d-1", cur.ID, err)
		}
		if _, err := s.UpdateDeployment(ctx, "d-2", func(*Deployment) error { return nil }); err == nil {
			t.Fatal("a rolled back deployment changed")
		}
		for build, want := range map[string]bool{"b-1": false, "b-2": true} {
			if failed, err := s.FailedVerification(ctx, "shop", "api", "development", build); err != nil || failed != want {
				t.Errorf("FailedVerification(%s) = %v, %v, want %v", build, failed, err, want)
			}
		}
		entries, _, err := s.AuditLog(ctx, AuditFilter{Project: "shop"})
		must(t, err)
		if len(entries) != 1 || entries[0].Action != api.AuditRollBack || entries[0].Target != "d-2" {
			t.Fatalf("audit %+v, want one roll_back of d-2", entries)
		}

		// Holds: one per component and environment, replaced, released once.
		if _, ok, err := s.PromotionHold(ctx, "shop", "api", "production"); err != nil || ok {
			t.Fatalf("a hold before any: %v, %v", ok, err)
		}
		_, err = s.HoldPromotion(ctx, "shop", "api", "production", api.Hold{Build: "b-1", Actor: "dev", Reason: "first"})
		must(t, err)
		_, err = s.HoldPromotion(ctx, "shop", "api", "production", api.Hold{Build: "b-2", Actor: "ops", Reason: "second"})
		must(t, err)
		h, ok, err := s.PromotionHold(ctx, "shop", "api", "production")
		must(t, err)
		if !ok || h.Build != "b-2" || h.Actor != "ops" || h.Reason != "second" || h.At.IsZero() {
			t.Fatalf("hold %+v, %v", h, ok)
		}
		_, err = s.HoldPromotion(ctx, "shop", "api", "qa", api.Hold{Build: "b-1"})
		wantErr(t, err, ErrNotFound, "")
		must(t, s.ReleaseHold(ctx, "shop", "api", "production"))
		wantErr(t, s.ReleaseHold(ctx, "shop", "api", "production"), ErrNotFound, "")
	})
}
