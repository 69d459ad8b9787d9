package store

import (
	"fmt"
	"sort"
	"sync"
	"testing"
)

// TestConcurrentWrites runs many writers at once: environment positions stay a permutation, and no writer fails
// on a busy database (SQLite) or a serialisation clash (PostgreSQL).
func TestConcurrentWrites(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		_, err := s.CreateProject(ctx, Project{Name: "shop"}, nil)
		must(t, err)
		const n = 16
		errs := make(chan error, 3*n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				if _, err := s.CreateEnvironment(ctx, Environment{Project: "shop", Name: fmt.Sprintf("env-%02d", i)}); err != nil {
					errs <- err
				}
			})
			wg.Go(func() {
				if _, err := s.CreateComponent(ctx, Component{Project: "shop", Name: fmt.Sprintf("c-%02d", i)}); err != nil {
					errs <- err
				}
			})
			wg.Go(func() {
				if _, err := s.ListEnvironments(ctx, "shop"); err != nil {
					errs <- err
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		envs, err := s.ListEnvironments(ctx, "shop")
		must(t, err)
		positions := []int{}
		for _, e := range envs {
			positions = append(positions, e.Position)
		}
		sort.Ints(positions)
		for i, p := range positions {
			if p != i {
				t.Fatalf("positions = %v, want 0..%d", positions, n-1)
			}
		}
		if len(envs) != n {
			t.Fatalf("%d environments, want %d", len(envs), n)
		}
		comps, err := s.ListComponents(ctx, "shop")
		must(t, err)
		if len(comps) != n {
			t.Fatalf("%d components, want %d", len(comps), n)
		}
	})
}
