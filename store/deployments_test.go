package store

import (
	"testing"
	"time"

	"github.com/slipway-dev/slipway/api"
	"github.com/slipway-dev/slipway/secretbox"
)

func TestDeploymentsHistoryAndCurrent(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		mustCreateProject(t, s, "shop")
		mustCreateComponent(t, s, "shop", "api")
		for _, id := range []string{"b1", "b2"} {
			if _, err := s.CreateBuild(ctx, newBuild(id)); err != nil {
				t.Fatal(err)
			}
		}
		_, err := s.CurrentDeployment(ctx, "shop", "api", "development")
		wantErr(t, err, ErrNotFound, `current release of component "api" in project "shop" in "development": not found`)

		d1, err := s.CreateDeployment(ctx, Deployment{ID: "d1", Project: "shop", Component: "api", Environment: "development",
			BuildID: "b1", Digest: "sha256:1", Actor: "dev"})
		must(t, err)
		if d1.Status != api.DeploymentQueued || d1.CreatedAt.IsZero() {
			t.Fatalf("created %+v", d1)
		}
		_, err = s.CreateDeployment(ctx, Deployment{ID: "d1", Project: "shop", Component: "api", Environment: "development", BuildID: "b1"})
		wantErr(t, err, ErrExists, `deployment "d1": already exists`)
		_, err = s.CreateDeployment(ctx, Deployment{ID: "dx", Project: "shop", Component: "api", Environment: "staging", BuildID: "b1"})
		wantErr(t, err, ErrNotFound, "")
		_, err = s.CreateDeployment(ctx, Deployment{ID: "dy", Project: "shop", Component: "api", Environment: "development", BuildID: "nope"})
		wantErr(t, err, ErrNotFound, `build "nope": not found`)

		end := time.Now().UTC().Truncate(time.Microsecond)
		_, err = s.UpdateDeployment(ctx, "d1", func(d *Deployment) error {
			d.Status, d.URL, d.EndedAt = api.DeploymentSucceeded, "http://127.0.0.1:4000", &end
			return nil
		})
		must(t, err)
		_, err = s.UpdateDeployment(ctx, "d1", func(d *Deployment) error { d.Message = "again"; return nil })
		wantErr(t, err, ErrInvalid, `deployment "d1" is succeeded and can no longer change: invalid`)

		d2, err := s.CreateDeployment(ctx, Deployment{ID: "d2", Project: "shop", Component: "api", Environment: "development",
			BuildID: "b2", Digest: "sha256:2", Actor: "auto"})
		must(t, err)
		_, err = s.UpdateDeployment(ctx, d2.ID, func(d *Deployment) error { d.BuildID = "b1"; return nil })
		wantErr(t, err, ErrInvalid, `update of deployment "d2" changed its identity: invalid`)
		_, err = s.UpdateDeployment(ctx, d2.ID, func(d *Deployment) error {
			d.Status, d.Message, d.EndedAt = api.DeploymentFailed, "GET /healthz: 503", &end
			return nil
		})
		must(t, err)

		cur, err := s.CurrentDeployment(ctx, "shop", "api", "development")
		must(t, err)
		if cur.ID != "d1" || cur.URL != "http://127.0.0.1:4000" {
			t.Fatalf("current %+v, want d1: a failed deployment does not replace it", cur)
		}
		all, err := s.CurrentDeployments(ctx)
		must(t, err)
		if len(all) != 1 || all[0].ID != "d1" {
			t.Fatalf("current releases %+v", all)
		}
		list, err := s.ListDeployments(ctx, "shop", "api", "development", 0)
		must(t, err)
		if len(list) != 2 || list[0].ID != "d2" || list[0].Message != "GET /healthz: 503" || list[1].Actor != "dev" {
			t.Fatalf("history %+v", list)
		}
	})
}

func TestDeploymentReleaseConfig(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		mustCreateProject(t, s, "shop")
		mustCreateComponent(t, s, "shop", "api")
		_, err := s.CreateBuild(ctx, newBuild("b1"))
		must(t, err)
		for _, id := range []string{"d1", "d2"} {
			_, err := s.CreateDeployment(ctx, Deployment{ID: id, Project: "shop", Component: "api", Environment: "development", BuildID: "b1"})
			must(t, err)
		}
		d, err := s.GetDeployment(ctx, "d1")
		must(t, err)
		if d.ReleaseConfig != nil {
			t.Fatalf("a new deployment has release config %+v, want nil", d.ReleaseConfig)
		}
		_, err = s.UpdateDeployment(ctx, "d1", func(d *Deployment) error {
			d.ReleaseConfig = &secretbox.Sealed{KEKID: "kek-1"}
			return nil
		})
		wantErr(t, err, ErrInvalid, `release config of deployment "d1": sealed value is incomplete: invalid`)

		rc := fakeSealed("kek-1", "release")
		end := time.Now().UTC().Truncate(time.Microsecond)
		up, err := s.UpdateDeployment(ctx, "d1", func(d *Deployment) error {
			d.Status, d.ReleaseConfig, d.EndedAt, d.DataPlane = api.DeploymentSucceeded, &rc, &end, DataPlaneKubernetes
			return nil
		})
		must(t, err)
		_, err = s.UpdateDeployment(ctx, "d2", func(d *Deployment) error { d.Status = api.DeploymentRunning; return nil })
		must(t, err)
		cur, err := s.CurrentDeployment(ctx, "shop", "api", "development")
		must(t, err)
		all, err := s.CurrentDeployments(ctx)
		must(t, err)
		list, err := s.ListDeployments(ctx, "shop", "api", "development", 0)
		must(t, err)
		if len(all) != 1 || len(list) != 2 || list[1].ID != "d1" {
			t.Fatalf("current %+v, history %+v", all, list)
		}
		for _, got := range []Deployment{up, cur, all[0], list[1]} {
			if got.ReleaseConfig == nil || got.ReleaseConfig.KEKID != "kek-1" || string(got.ReleaseConfig.WrappedKey) != "wrapped-release" ||
				string(got.ReleaseConfig.Ciphertext) != "ct-release" {
				t.Errorf("%s read back with release config %+v", got.ID, got.ReleaseConfig)
			}
			if got.DataPlane != DataPlaneKubernetes {
				t.Errorf("%s read back on data plane %q", got.ID, got.DataPlane)
			}
		}
		d2, err := s.GetDeployment(ctx, "d2")
		must(t, err)
		if d2.DataPlane != "" {
			t.Errorf("d2 on data plane %q, want none recorded", d2.DataPlane)
		}
		if d2.ReleaseConfig != nil || list[0].ReleaseConfig != nil {
			t.Errorf("d2 has release config %+v after an update that did not set one", d2.ReleaseConfig)
		}

		created, err := s.CreateDeployment(ctx, Deployment{ID: "d3", Project: "shop", Component: "api", Environment: "development",
			BuildID: "b1", ReleaseConfig: &rc})
		must(t, err)
		d3, err := s.GetDeployment(ctx, "d3")
		must(t, err)
		if created.ReleaseConfig == nil || d3.ReleaseConfig == nil || string(d3.ReleaseConfig.Ciphertext) != "ct-release" {
			t.Errorf("created with release config: %+v, read back %+v", created.ReleaseConfig, d3.ReleaseConfig)
		}
	})
}
