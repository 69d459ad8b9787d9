package store

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/slipway-dev/slipway/api"
)

func TestBuildCommitTime(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		mustCreateProject(t, s, "shop")
		mustCreateComponent(t, s, "shop", "api")
		b, err := s.CreateBuild(ctx, newBuild("b1"))
		must(t, err)
		if b.CommittedAt != nil {
			t.Fatalf("new build's CommittedAt = %v, want nil", b.CommittedAt)
		}
		at := time.Date(2025, 3, 1, 12, 30, 0, 123456789, time.FixedZone("CET", 3600))
		must(t, s.PutBuildCommitTime(ctx, "b1", at))
		got, err := s.GetBuild(ctx, "b1")
		must(t, err)
		if want := at.UTC().Truncate(time.Microsecond); got.CommittedAt == nil || !got.CommittedAt.Equal(want) {
			t.Fatalf("CommittedAt = %v, want %v", got.CommittedAt, want)
		}
		// A later update of the build keeps it.
		_, err = s.UpdateBuild(ctx, "b1", func(b *Build) error { b.Status = api.BuildSucceeded; return nil })
		must(t, err)
		got, err = s.GetBuild(ctx, "b1")
		must(t, err)
		if got.CommittedAt == nil {
			t.Fatal("UpdateBuild dropped CommittedAt")
		}
		wantErr(t, s.PutBuildCommitTime(ctx, "b1", at), ErrInvalid, "")
		wantErr(t, s.PutBuildCommitTime(ctx, "nope", at), ErrNotFound, `build "nope": not found`)
	})
}

func TestEndedDeployments(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		mustCreateProject(t, s, "shop")
		mustCreateComponent(t, s, "shop", "api")
		mustCreateComponent(t, s, "shop", "web")
		base := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
		at := func(h int) *time.Time { t := base.Add(time.Duration(h) * time.Hour); return &t }

		commit := func(n string) string { return strings.Repeat(n, 40) }
		b1 := newBuild("b1")
		b1.Commit, b1.CommittedAt = commit("1"), at(-5)
		b2 := newBuild("b2") // no commit time: an older build
		b2.Commit = commit("2")
		w1 := newBuild("w1")
		w1.Component, w1.Commit = "web", commit("3")
		for _, b := range []Build{b1, b2, w1} {
			_, err := s.CreateBuild(ctx, b)
			must(t, err)
		}
		deploy := func(id, component, env, build, status string, end *time.Time) {
			t.Helper()
			_, err := s.CreateDeployment(ctx, Deployment{ID: id, Project: "shop", Component: component, Environment: env,
				BuildID: build, Status: status, EndedAt: end})
			must(t, err)
		}
		deploy("d0", "api", "production", "b1", api.DeploymentSucceeded, at(-1)) // before the period
		deploy("d1", "api", "production", "b2", api.DeploymentFailed, at(1))
		deploy("d2", "api", "production", "b1", api.DeploymentSucceeded, at(2)) // b1 again: served before
		deploy("d3", "api", "development", "b2", api.DeploymentRolledBack, at(3))
		deploy("d4", "web", "production", "w1", api.DeploymentSucceeded, at(4))
		deploy("d5", "api", "production", "b2", api.DeploymentRunning, nil)      // not ended
		deploy("d6", "api", "production", "b2", api.DeploymentSucceeded, at(30)) // after the period

		got, err := s.EndedDeployments(ctx, "shop", "", base, base.Add(24*time.Hour))
		must(t, err)
		var ids []string
		for _, d := range got {
			ids = append(ids, d.ID)
		}
		if want := []string{"d1", "d2", "d3", "d4"}; !slices.Equal(ids, want) {
			t.Fatalf("ended deployments %v, want %v", ids, want)
		}
		d2 := got[1]
		if d2.Component != "api" || d2.Environment != "production" || d2.BuildID != "b1" || d2.Status != api.DeploymentSucceeded ||
			!d2.EndedAt.Equal(*at(2)) || d2.Commit != commit("1") || d2.CommittedAt == nil || !d2.CommittedAt.Equal(*at(-5)) ||
			d2.BuildCreatedAt.IsZero() || d2.FirstServedAt == nil || !d2.FirstServedAt.Equal(*at(-1)) {
			t.Fatalf("d2 = %+v, want b1's commit time and first served at d0's end", d2)
		}
		if d1 := got[0]; d1.CommittedAt != nil || d1.FirstServedAt == nil || !d1.FirstServedAt.Equal(*at(30)) {
			t.Fatalf("d1 = %+v, want no commit time, first served at d6's end", d1)
		}
		if d3 := got[2]; d3.Status != api.DeploymentRolledBack || d3.FirstServedAt != nil {
			t.Fatalf("d3 = %+v, want rolled back, never served in development", d3)
		}

		only, err := s.EndedDeployments(ctx, "shop", "web", base, base.Add(24*time.Hour))
		must(t, err)
		if len(only) != 1 || only[0].ID != "d4" {
			t.Fatalf("web's ended deployments %+v, want d4", only)
		}
		_, err = s.EndedDeployments(ctx, "shop", "nope", base, base.Add(time.Hour))
		wantErr(t, err, ErrNotFound, `component "nope" in project "shop": not found`)
		_, err = s.EndedDeployments(ctx, "nope", "", base, base.Add(time.Hour))
		wantErr(t, err, ErrNotFound, `project "nope": not found`)
	})
}
