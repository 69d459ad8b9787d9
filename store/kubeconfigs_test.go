package store

import (
	"path/filepath"
	"slices"
	"testing"

	"github.com/slipway-dev/slipway/secretbox"
)

func TestKubeconfigs(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		mustCreateProject(t, s, "shop")
		mustCreateProject(t, s, "blog")
		_, err := s.GetKubeconfig(ctx, "shop", "production")
		wantErr(t, err, ErrNotFound, `kubeconfig of environment "production" in project "shop": not found`)
		wantErr(t, s.PutKubeconfig(ctx, "shop", "staging", fakeSealed("kek-1", "kc")), ErrNotFound,
			`environment "staging" in project "shop": not found`)
		wantErr(t, s.PutKubeconfig(ctx, "nope", "production", fakeSealed("kek-1", "kc")), ErrNotFound, `project "nope": not found`)
		wantErr(t, s.PutKubeconfig(ctx, "shop", "production", secretbox.Sealed{KEKID: "kek-1"}), ErrInvalid, "")
		_, err = s.GetKubeconfig(ctx, "shop", "staging")
		wantErr(t, err, ErrNotFound, `environment "staging" in project "shop": not found`)

		_, err = s.UpdateEnvironment(ctx, "shop", "production", func(e *Environment) error {
			e.DataPlane = DataPlaneKubernetes
			return nil
		})
		must(t, err)
		must(t, s.PutKubeconfig(ctx, "shop", "production", fakeSealed("kek-1", "one")))
		must(t, s.PutKubeconfig(ctx, "shop", "production", fakeSealed("kek-2", "two"))) // replaces
		must(t, s.PutKubeconfig(ctx, "blog", "production", fakeSealed("kek-1", "blog")))
		got, err := s.GetKubeconfig(ctx, "shop", "production")
		must(t, err)
		if got.KEKID != "kek-2" || string(got.WrappedKey) != "wrapped-two" || string(got.Ciphertext) != "ct-two" {
			t.Fatalf("GetKubeconfig = %+v, want the second put", got)
		}
		envs, err := s.ListEnvironments(ctx, "shop")
		must(t, err)
		if k := envs[1].Kubernetes; k == nil || !k.HasKubeconfig {
			t.Fatalf("production lists %+v, want hasKubeconfig", k)
		}
		up, err := s.UpdateEnvironment(ctx, "shop", "production", func(e *Environment) error {
			e.Kubernetes.HasKubeconfig = false // ignored on write
			e.Kubernetes.Context = "live"
			return nil
		})
		must(t, err)
		if !up.Kubernetes.HasKubeconfig {
			t.Errorf("UpdateEnvironment returned %+v, want hasKubeconfig as stored", up.Kubernetes)
		}
		ids, err := s.KEKIDs(ctx)
		must(t, err)
		if !slices.Equal(ids, []string{"kek-1", "kek-2"}) {
			t.Errorf("KEK IDs %v, want the kubeconfigs'", ids)
		}

		must(t, s.DeleteKubeconfig(ctx, "shop", "production"))
		wantErr(t, s.DeleteKubeconfig(ctx, "shop", "production"), ErrNotFound,
			`kubeconfig of environment "production" in project "shop": not found`)
		_, err = s.GetKubeconfig(ctx, "shop", "production")
		wantErr(t, err, ErrNotFound, "")
		envs, err = s.ListEnvironments(ctx, "shop")
		must(t, err)
		if k := envs[1].Kubernetes; k == nil || k.HasKubeconfig || k.Context != "live" {
			t.Fatalf("after delete production lists %+v", k)
		}

		// Deleting the environment, or its project, deletes its kubeconfig.
		must(t, s.PutKubeconfig(ctx, "shop", "production", fakeSealed("kek-1", "again")))
		must(t, s.PutKubeconfig(ctx, "shop", "development", fakeSealed("kek-1", "dev")))
		_, err = s.db().exec(ctx, "DELETE FROM environments WHERE project = ? AND name = ?", "shop", "development")
		must(t, err)
		if n := count(t, s, "SELECT * FROM environment_kubeconfigs WHERE project = ?", "shop"); n != 1 {
			t.Errorf("%d kubeconfigs of shop after deleting development, want production's", n)
		}
		must(t, s.DeleteProject(ctx, "shop"))
		if n := count(t, s, "SELECT * FROM environment_kubeconfigs WHERE project = ?", "shop"); n != 0 {
			t.Errorf("%d kubeconfigs of a deleted project left", n)
		}
		if _, err := s.GetKubeconfig(ctx, "blog", "production"); err != nil {
			t.Errorf("deleting shop touched blog's kubeconfig: %v", err)
		}
	})
}

func TestRewrapCoversKubeconfigsAndReleaseConfigs(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		keys, err := secretbox.LoadOrCreateKeyring(filepath.Join(t.TempDir(), "keyring.json"))
		must(t, err)
		mustCreateProject(t, s, "shop")
		mustCreateComponent(t, s, "shop", "api")
		_, err = s.CreateBuild(ctx, newBuild("b1"))
		must(t, err)

		kc, err := keys.Seal(KubeconfigAAD("shop", "production"), []byte("kubeconfig"))
		must(t, err)
		must(t, s.PutKubeconfig(ctx, "shop", "production", kc))
		for _, id := range []string{"d1", "d2", "d3"} {
			d := Deployment{ID: id, Project: "shop", Component: "api", Environment: "development", BuildID: "b1"}
			if id != "d2" { // d2 has no release config: the walk skips it
				rc, err := keys.Seal(DeploymentConfigAAD(id), []byte(`{"env":{"ID":"`+id+`"}}`))
				must(t, err)
				d.ReleaseConfig = &rc
			}
			_, err := s.CreateDeployment(ctx, d)
			must(t, err)
		}
		old := keys.ActiveID()
		ids, err := s.KEKIDs(ctx)
		must(t, err)
		if !slices.Equal(ids, []string{old}) {
			t.Fatalf("KEK IDs %v, want [%s]", ids, old)
		}
		newID, err := keys.Rotate()
		must(t, err)
		n, err := s.RewrapConfigs(ctx, 1, keys.Rewrap)
		must(t, err)
		if n != 3 {
			t.Fatalf("RewrapConfigs changed %d values, want the kubeconfig and two release configs", n)
		}
		if n, err := s.RewrapConfigs(ctx, 0, keys.Rewrap); err != nil || n != 0 {
			t.Fatalf("second RewrapConfigs = %d, %v; want nothing to do", n, err)
		}
		ids, err = s.KEKIDs(ctx)
		must(t, err)
		if !slices.Equal(ids, []string{newID}) {
			t.Fatalf("KEK IDs after rewrap %v, want [%s]", ids, newID)
		}

		got, err := s.GetKubeconfig(ctx, "shop", "production")
		must(t, err)
		if pt, err := keys.Open(KubeconfigAAD("shop", "production"), got); err != nil || string(pt) != "kubeconfig" || got.KEKID != newID {
			t.Errorf("kubeconfig after rewrap: KEK %q, Open = %q, %v", got.KEKID, pt, err)
		}
		for _, id := range []string{"d1", "d2", "d3"} {
			d, err := s.GetDeployment(ctx, id)
			must(t, err)
			if id == "d2" {
				if d.ReleaseConfig != nil {
					t.Errorf("d2 got a release config: %+v", d.ReleaseConfig)
				}
				continue
			}
			pt, err := keys.Open(DeploymentConfigAAD(id), *d.ReleaseConfig)
			if err != nil || string(pt) != `{"env":{"ID":"`+id+`"}}` || d.ReleaseConfig.KEKID != newID {
				t.Errorf("%s after rewrap: KEK %q, Open = %q, %v", id, d.ReleaseConfig.KEKID, pt, err)
			}
		}
	})
}
