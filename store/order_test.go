package store

import (
	"crypto/sha256"
	"slices"
	"sort"
	"testing"
)

// TestListsSortByteWise checks that both databases order names and keys by their bytes: PostgreSQL databases with
// a linguistic locale (en_US, ICU) would otherwise put "a" before "B" and "A_FIRST" before "AB".
func TestListsSortByteWise(t *testing.T) {
	names := []string{"b", "B", "a-c", "ab", "a_b", "a0", "A"}
	sorted := slices.Clone(names)
	sort.Strings(sorted) // byte order
	forEachBackend(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		for _, n := range names {
			_, err := s.CreateProject(ctx, Project{Name: n}, []Environment{{Name: "dev"}})
			must(t, err)
			mustCreateComponent(t, s, "b", n)
			_, _, err = s.PutConfig(ctx, ConfigValue{Project: "b", Component: "b", Environment: "dev", Key: n, Sealed: fakeSealed("k", n)}, false)
			must(t, err)
			h := sha256.Sum256([]byte(n))
			must(t, s.CreateToken(ctx, Token{ID: "tok-" + n, Name: n, Role: "viewer", Hash: h[:]}))
		}
		var got []string
		after := ""
		for { // pages of 2 walk the same order
			page, err := s.ListProjects(ctx, after, 2)
			must(t, err)
			if len(page) == 0 {
				break
			}
			for _, p := range page {
				got = append(got, p.Name)
			}
			after = page[len(page)-1].Name
		}
		if !slices.Equal(got, sorted) {
			t.Errorf("ListProjects pages = %v, want %v", got, sorted)
		}
		comps, err := s.ListComponents(ctx, "b")
		must(t, err)
		if got := collect(comps, func(c Component) string { return c.Name }); !slices.Equal(got, sorted) {
			t.Errorf("ListComponents = %v, want %v", got, sorted)
		}
		vals, err := s.ListConfigs(ctx, "b", "b", "dev")
		must(t, err)
		if got := collect(vals, func(v ConfigValue) string { return v.Key }); !slices.Equal(got, sorted) {
			t.Errorf("ListConfigs = %v, want %v", got, sorted)
		}
		toks, err := s.ListTokens(ctx)
		must(t, err)
		if got := collect(toks, func(t Token) string { return t.Name }); !slices.Equal(got, sorted) {
			t.Errorf("ListTokens = %v, want %v", got, sorted)
		}
	})
}

func collect[T any](xs []T, f func(T) string) []string {
	out := make([]string, 0, len(xs))
	for _, x := range xs {
		out = append(out, f(x))
	}
	return out
}
