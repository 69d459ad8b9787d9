package store

import (
	"reflect"
	"slices"
	"strings"
	"testing"
)

func envNames(envs []Environment) []string {
	out := []string{}
	for _, e := range envs {
		out = append(out, e.Name)
	}
	return out
}

func TestCreateEnvironmentAppends(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		mustCreateProject(t, s, "shop")
		e, err := s.CreateEnvironment(ctx, Environment{Project: "shop", Name: "staging", Position: 0, Production: true})
		must(t, err)
		if e.Position != 2 || e.Project != "shop" || !e.Production || e.CreatedAt.IsZero() {
			t.Errorf("CreateEnvironment = %+v, want position 2 (ignoring the given 0)", e)
		}
		envs, err := s.ListEnvironments(ctx, "shop")
		must(t, err)
		if got := envNames(envs); !slices.Equal(got, []string{"development", "production", "staging"}) {
			t.Errorf("environments = %v", got)
		}
		if !reflect.DeepEqual(envs[2], e) {
			t.Errorf("listed %+v, created %+v", envs[2], e)
		}

		// A project without environments starts at 0.
		_, err = s.CreateProject(ctx, Project{Name: "empty"}, nil)
		must(t, err)
		first, err := s.CreateEnvironment(ctx, Environment{Project: "empty", Name: "dev"})
		must(t, err)
		if first.Position != 0 {
			t.Errorf("first environment position = %d, want 0", first.Position)
		}
	})
}

func TestEnvironmentErrors(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		mustCreateProject(t, s, "shop")
		_, err := s.CreateEnvironment(ctx, Environment{Project: "shop", Name: "development"})
		wantErr(t, err, ErrExists, `environment "development" in project "shop": already exists`)
		_, err = s.CreateEnvironment(ctx, Environment{Project: "nope", Name: "dev"})
		wantErr(t, err, ErrNotFound, `project "nope": not found`)
		_, err = s.CreateEnvironment(ctx, Environment{Project: "shop"})
		wantErr(t, err, ErrInvalid, "")
		_, err = s.ListEnvironments(ctx, "nope")
		wantErr(t, err, ErrNotFound, `project "nope": not found`)
		_, err = s.ReorderEnvironments(ctx, "nope", nil)
		wantErr(t, err, ErrNotFound, `project "nope": not found`)
	})
}

func TestReorderEnvironments(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		_, err := s.CreateProject(ctx, Project{Name: "shop"},
			[]Environment{{Name: "development"}, {Name: "staging"}, {Name: "production", Production: true}})
		must(t, err)

		bad := []struct {
			name  string
			order []string
			says  string
		}{
			{"unknown", []string{"development", "staging", "production", "qa"}, `"qa"`},
			{"repeated", []string{"development", "staging", "staging", "production"}, `"staging" more than once`},
			{"left out", []string{"development", "production"}, `leaves out environment "staging"`},
			{"empty", nil, `leaves out environment "development"`},
			{"same length with a repeat", []string{"development", "development", "production"}, `"development" more than once`},
		}
		for _, tt := range bad {
			t.Run(tt.name, func(t *testing.T) {
				_, err := s.ReorderEnvironments(ctx, "shop", tt.order)
				wantErr(t, err, ErrInvalid, "")
				if !strings.Contains(err.Error(), tt.says) {
					t.Errorf("error %q does not say %s", err, tt.says)
				}
			})
		}
		envs, err := s.ListEnvironments(ctx, "shop")
		must(t, err)
		if got := envNames(envs); !slices.Equal(got, []string{"development", "staging", "production"}) {
			t.Fatalf("a rejected reorder changed the order to %v", got)
		}

		order := []string{"production", "development", "staging"}
		envs, err = s.ReorderEnvironments(ctx, "shop", order)
		must(t, err)
		if got := envNames(envs); !slices.Equal(got, order) {
			t.Fatalf("ReorderEnvironments returned %v, want %v", got, order)
		}
		for i, e := range envs {
			if e.Position != i || e.Production != (e.Name == "production") {
				t.Errorf("environment %d = %+v", i, e)
			}
		}
		listed, err := s.ListEnvironments(ctx, "shop")
		must(t, err)
		if !reflect.DeepEqual(listed, envs) {
			t.Errorf("listed %+v, reorder returned %+v", listed, envs)
		}

		// Reordering to the same order, and appending afterwards, still work.
		_, err = s.ReorderEnvironments(ctx, "shop", order)
		must(t, err)
		e, err := s.CreateEnvironment(ctx, Environment{Project: "shop", Name: "qa"})
		must(t, err)
		if e.Position != 3 {
			t.Errorf("appended after reorder at position %d, want 3", e.Position)
		}

		// A project without environments accepts the empty order.
		_, err = s.CreateProject(ctx, Project{Name: "empty"}, nil)
		must(t, err)
		if envs, err := s.ReorderEnvironments(ctx, "empty", nil); err != nil || len(envs) != 0 {
			t.Errorf("ReorderEnvironments(empty) = %v, %v", envs, err)
		}
	})
}

func TestEnvironmentResources(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		mustCreateProject(t, s, "shop")
		_, err := s.CreateEnvironment(ctx, Environment{Project: "shop", Name: "big", Replicas: 21})
		wantErr(t, err, ErrInvalid, `replicas of environment "big" in project "shop" must be between 0 (one) and 20, got 21: invalid`)
		e, err := s.CreateEnvironment(ctx, Environment{Project: "shop", Name: "staging", Replicas: 3, CPUs: 0.5, MemoryBytes: 64 << 20})
		must(t, err)
		if e.Replicas != 3 || e.CPUs != 0.5 {
			t.Fatalf("created %+v", e)
		}
		up, err := s.UpdateEnvironment(ctx, "shop", "staging", func(e *Environment) error {
			e.Replicas, e.CPUs, e.MemoryBytes, e.Production = 2, 1.25, 0, true
			return nil
		})
		must(t, err)
		envs, err := s.ListEnvironments(ctx, "shop")
		must(t, err)
		got := envs[len(envs)-1]
		if got.Name != "staging" || got.Replicas != 2 || got.CPUs != 1.25 || got.MemoryBytes != 0 || !got.Production || up.Replicas != 2 {
			t.Fatalf("after update %+v", got)
		}
		// A limit is kept in thousandths, rounded: 2.01 stays 2.01 however often the environment is updated.
		for range 2 {
			_, err = s.UpdateEnvironment(ctx, "shop", "staging", func(e *Environment) error { e.CPUs = 2.01; return nil })
			must(t, err)
		}
		if envs, err = s.ListEnvironments(ctx, "shop"); err != nil || envs[len(envs)-1].CPUs != 2.01 {
			t.Fatalf("cpus 2.01 read back as %v (%v)", envs[len(envs)-1].CPUs, err)
		}
		_, err = s.UpdateEnvironment(ctx, "shop", "staging", func(e *Environment) error { e.MemoryBytes = 1024; return nil })
		wantErr(t, err, ErrInvalid, `memoryBytes of environment "staging" in project "shop" must be 0 (no limit) or at least 6291456, got 1024: invalid`)
		_, err = s.UpdateEnvironment(ctx, "shop", "staging", func(e *Environment) error { e.Name = "x"; return nil })
		wantErr(t, err, ErrInvalid, `update of environment "staging" in project "shop" changed its identity: invalid`)
		_, err = s.UpdateEnvironment(ctx, "shop", "nope", func(e *Environment) error { return nil })
		wantErr(t, err, ErrNotFound, "")
	})
}

func TestEnvironmentDataPlane(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		mustCreateProject(t, s, "shop")
		envs, err := s.ListEnvironments(ctx, "shop")
		must(t, err)
		if d := envs[0]; d.DataPlane != DataPlaneDocker || d.Kubernetes != nil || d.DeployTimeoutSeconds != 0 {
			t.Fatalf("a new environment is %+v, want docker without a binding", d)
		}

		surge, unavailable := 2, 1
		want := KubernetesBinding{Context: "prod", Namespace: "shop-live", IngressNamespaces: []string{"ingress-nginx", "monitoring"},
			MaxSurge: &surge, MaxUnavailable: &unavailable}
		up, err := s.UpdateEnvironment(ctx, "shop", "production", func(e *Environment) error {
			k := want
			k.HasKubeconfig = true // ignored on write
			e.DataPlane, e.Kubernetes, e.DeployTimeoutSeconds = DataPlaneKubernetes, &k, 600
			return nil
		})
		must(t, err)
		envs, err = s.ListEnvironments(ctx, "shop")
		must(t, err)
		for _, got := range []Environment{up, envs[1]} {
			if got.DataPlane != DataPlaneKubernetes || got.DeployTimeoutSeconds != 600 || got.Kubernetes == nil {
				t.Fatalf("after update %+v", got)
			}
			k := *got.Kubernetes
			if k.Context != want.Context || k.Namespace != want.Namespace || k.InCluster ||
				!slices.Equal(k.IngressNamespaces, want.IngressNamespaces) || *k.MaxSurge != 2 || *k.MaxUnavailable != 1 || k.HasKubeconfig {
				t.Errorf("binding %+v, want %+v without a kubeconfig", k, want)
			}
		}

		// Kubernetes without a binding reads back with an empty one; "" is docker; created environments keep theirs.
		e, err := s.CreateEnvironment(ctx, Environment{Project: "shop", Name: "k", DataPlane: DataPlaneKubernetes, DeployTimeoutSeconds: 30})
		must(t, err)
		if e.Kubernetes == nil || e.DeployTimeoutSeconds != 30 {
			t.Fatalf("created %+v", e)
		}
		e, err = s.CreateEnvironment(ctx, Environment{Project: "shop", Name: "in", DataPlane: DataPlaneKubernetes,
			Kubernetes: &KubernetesBinding{InCluster: true}})
		must(t, err)
		envs, err = s.ListEnvironments(ctx, "shop")
		must(t, err)
		if k := envs[2].Kubernetes; k == nil || !reflect.DeepEqual(*k, KubernetesBinding{}) {
			t.Errorf("kubernetes without a binding reads back as %+v", k)
		}
		if k := envs[3].Kubernetes; k == nil || !k.InCluster {
			t.Errorf("in-cluster environment reads back as %+v", k)
		}

		// Back to docker drops the binding.
		up, err = s.UpdateEnvironment(ctx, "shop", "production", func(e *Environment) error {
			e.DataPlane, e.Kubernetes = "", nil
			return nil
		})
		must(t, err)
		envs, err = s.ListEnvironments(ctx, "shop")
		must(t, err)
		if up.DataPlane != DataPlaneDocker || envs[1].DataPlane != DataPlaneDocker || envs[1].Kubernetes != nil || envs[1].DeployTimeoutSeconds != 600 {
			t.Errorf("back to docker: returned %+v, listed %+v", up, envs[1])
		}
	})
}

func TestEnvironmentDataPlaneInvalid(t *testing.T) {
	zero, minus := 0, -1
	for _, tc := range []struct {
		name string
		set  func(e *Environment)
		msg  string
	}{
		{"unknown data plane", func(e *Environment) { e.DataPlane = "nomad" },
			`dataPlane of environment "development" in project "shop" must be "docker" or "kubernetes", got "nomad": invalid`},
		{"binding on docker", func(e *Environment) { e.Kubernetes = &KubernetesBinding{InCluster: true} },
			`kubernetes of environment "development" in project "shop" is only for the "kubernetes" data plane, not "docker": invalid`},
		{"namespace", func(e *Environment) {
			e.DataPlane, e.Kubernetes = DataPlaneKubernetes, &KubernetesBinding{Namespace: "Shop_Live"}
		},
			`kubernetes.namespace of environment "development" in project "shop" must be a DNS-1123 label of at most 63 characters, got "Shop_Live": invalid`},
		{"long namespace", func(e *Environment) {
			e.DataPlane, e.Kubernetes = DataPlaneKubernetes, &KubernetesBinding{Namespace: strings.Repeat("a", 64)}
		}, ""},
		{"ingress namespace", func(e *Environment) {
			e.DataPlane, e.Kubernetes = DataPlaneKubernetes, &KubernetesBinding{IngressNamespaces: []string{"ingress-nginx", ""}}
		}, `kubernetes.ingressNamespaces of environment "development" in project "shop" must be DNS-1123 labels of at most 63 characters, got "": invalid`},
		{"negative surge", func(e *Environment) {
			e.DataPlane, e.Kubernetes = DataPlaneKubernetes, &KubernetesBinding{MaxSurge: &minus}
		},
			`kubernetes.maxSurge of environment "development" in project "shop" must not be negative, got -1: invalid`},
		{"negative unavailable", func(e *Environment) {
			e.DataPlane, e.Kubernetes = DataPlaneKubernetes, &KubernetesBinding{MaxUnavailable: &minus}
		}, `kubernetes.maxUnavailable of environment "development" in project "shop" must not be negative, got -1: invalid`},
		{"both zero", func(e *Environment) {
			e.DataPlane, e.Kubernetes = DataPlaneKubernetes, &KubernetesBinding{MaxSurge: &zero}
		},
			`kubernetes.maxUnavailable of environment "development" in project "shop" must be above 0 when maxSurge is 0, or a rolling update cannot progress: invalid`},
		{"timeout", func(e *Environment) { e.DeployTimeoutSeconds = 1201 },
			`deployTimeoutSeconds of environment "development" in project "shop" must be between 0 (the worker's --ready-timeout) and 1200, got 1201: invalid`},
		{"negative timeout", func(e *Environment) { e.DeployTimeoutSeconds = -1 }, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			forEachBackend(t, func(t *testing.T, s *Store) {
				ctx := t.Context()
				mustCreateProject(t, s, "shop")
				_, err := s.UpdateEnvironment(ctx, "shop", "development", func(e *Environment) error { tc.set(e); return nil })
				wantErr(t, err, ErrInvalid, tc.msg)
				e := Environment{Project: "shop", Name: "development"}
				tc.set(&e)
				e.Name = "qa"
				_, err = s.CreateEnvironment(ctx, e)
				wantErr(t, err, ErrInvalid, strings.ReplaceAll(tc.msg, `"development"`, `"qa"`))
				envs, err := s.ListEnvironments(ctx, "shop")
				must(t, err)
				if d := envs[0]; len(envs) != 2 || d.DataPlane != DataPlaneDocker || d.Kubernetes != nil || d.DeployTimeoutSeconds != 0 {
					t.Errorf("a refused change was stored: %+v", envs)
				}
			})
		})
	}
}
