package store

import (
	"slices"
	"testing"
	"time"
)

func TestCreateAndGetProject(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		created := time.Date(2026, 3, 4, 5, 6, 7, 123456789, time.FixedZone("CET", 3600))
		p, err := s.CreateProject(ctx, Project{Name: "shop", CreatedAt: created},
			[]Environment{{Name: "development"}, {Name: "staging"}, {Name: "production", Production: true}})
		must(t, err)
		want := Project{Name: "shop", CreatedAt: created.UTC().Truncate(time.Microsecond)}
		if p != want {
			t.Errorf("CreateProject = %+v, want %+v", p, want)
		}
		got, err := s.GetProject(ctx, "shop")
		must(t, err)
		if got != want || got.CreatedAt.Location() != time.UTC {
			t.Errorf("GetProject = %+v (%v), want %+v in UTC", got, got.CreatedAt.Location(), want)
		}

		envs, err := s.ListEnvironments(ctx, "shop")
		must(t, err)
		names := []string{}
		for i, e := range envs {
			names = append(names, e.Name)
			if e.Position != i || e.Project != "shop" || e.Production != (e.Name == "production") || e.CreatedAt.IsZero() {
				t.Errorf("environment %d = %+v", i, e)
			}
		}
		if !slices.Equal(names, []string{"development", "staging", "production"}) {
			t.Errorf("environments = %v, want the given order", names)
		}

		// Zero CreatedAt means now.
		before := time.Now().Add(-time.Second)
		q, err := s.CreateProject(ctx, Project{Name: "blog"}, nil)
		must(t, err)
		if q.CreatedAt.Before(before) || q.CreatedAt.Location() != time.UTC {
			t.Errorf("CreatedAt = %v, want about now in UTC", q.CreatedAt)
		}
		if envs, err := s.ListEnvironments(ctx, "blog"); err != nil || len(envs) != 0 || envs == nil {
			t.Errorf("ListEnvironments(no envs) = %#v, %v; want empty non-nil slice", envs, err)
		}
	})
}

func TestCreateProjectErrors(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		mustCreateProject(t, s, "shop")
		tests := []struct {
			name   string
			p      Project
			envs   []Environment
			target error
			msg    string
		}{
			{"duplicate", Project{Name: "shop"}, nil, ErrExists, `project "shop": already exists`},
			{"empty name", Project{}, nil, ErrInvalid, ""},
			{"environment twice", Project{Name: "blog"}, []Environment{{Name: "dev"}, {Name: "dev"}}, ErrInvalid,
				`environment "dev" is listed twice for project "blog": invalid`},
			{"empty environment", Project{Name: "blog"}, []Environment{{Name: ""}}, ErrInvalid, ""},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, err := s.CreateProject(ctx, tt.p, tt.envs)
				wantErr(t, err, tt.target, tt.msg)
			})
		}
		// The failed creates left nothing behind.
		_, err := s.GetProject(ctx, "blog")
		wantErr(t, err, ErrNotFound, `project "blog": not found`)
		if n := count(t, s, "SELECT * FROM environments"); n != 2 {
			t.Errorf("%d environments stored, want the 2 of shop", n)
		}
	})
}

func TestGetProjectMissing(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *Store) {
		_, err := s.GetProject(t.Context(), "nope")
		wantErr(t, err, ErrNotFound, `project "nope": not found`)
	})
}

func TestListProjectsPages(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		for _, n := range []string{"delta", "alpha", "charlie", "bravo", "echo"} {
			mustCreateProject(t, s, n)
		}
		tests := []struct {
			after string
			limit int
			want  []string
		}{
			{"", 0, []string{"alpha", "bravo", "charlie", "delta", "echo"}},
			{"", -1, []string{"alpha", "bravo", "charlie", "delta", "echo"}},
			{"", 2, []string{"alpha", "bravo"}},
			{"bravo", 2, []string{"charlie", "delta"}},
			{"delta", 2, []string{"echo"}},
			{"echo", 2, []string{}},
			{"b", 0, []string{"bravo", "charlie", "delta", "echo"}},
		}
		for _, tt := range tests {
			ps, err := s.ListProjects(ctx, tt.after, tt.limit)
			must(t, err)
			got := []string{}
			for _, p := range ps {
				got = append(got, p.Name)
				if p.CreatedAt.IsZero() {
					t.Errorf("project %q has no CreatedAt", p.Name)
				}
			}
			if !slices.Equal(got, tt.want) || ps == nil {
				t.Errorf("ListProjects(%q, %d) = %v, want %v", tt.after, tt.limit, got, tt.want)
			}
		}
	})
}

func TestDeleteProject(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		mustCreateProject(t, s, "shop")
		must(t, s.DeleteProject(ctx, "shop"))
		_, err := s.GetProject(ctx, "shop")
		wantErr(t, err, ErrNotFound, `project "shop": not found`)
		wantErr(t, s.DeleteProject(ctx, "shop"), ErrNotFound, `project "shop": not found`)
		// The name can be used again.
		mustCreateProject(t, s, "shop")
	})
}
