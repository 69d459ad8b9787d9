package store

import (
	"reflect"
	"slices"
	"testing"
	"time"
)

func TestComponentLifecycle(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		mustCreateProject(t, s, "shop")
		in := Component{
			Project: "shop", Name: "api", Repo: "git@github.com:acme/api.git", Branch: "release",
			Dockerfile: "build/Dockerfile", Context: "svc/api", AutoBuild: true, AutoDeploy: false,
			CreatedAt: time.Unix(1, 0), UpdatedAt: time.Unix(2, 0), // ignored
		}
		before := time.Now().Add(-time.Second)
		c, err := s.CreateComponent(ctx, in)
		must(t, err)
		if c.CreatedAt.Before(before) || !c.UpdatedAt.Equal(c.CreatedAt) || c.CreatedAt.Location() != time.UTC {
			t.Errorf("times = %v / %v, want now, equal, UTC", c.CreatedAt, c.UpdatedAt)
		}
		want := in
		want.CreatedAt, want.UpdatedAt = c.CreatedAt, c.UpdatedAt
		want.Type = "service" // the default, stored for ""
		if !reflect.DeepEqual(c, want) {
			t.Errorf("CreateComponent = %+v, want %+v", c, want)
		}
		got, err := s.GetComponent(ctx, "shop", "api")
		must(t, err)
		if !reflect.DeepEqual(got, c) {
			t.Errorf("GetComponent = %+v, want %+v", got, c)
		}

		// Empty Dockerfile and Context are stored as given ("" means the defaults).
		web, err := s.CreateComponent(ctx, Component{Project: "shop", Name: "web", Repo: "https://x/web.git", Branch: "main"})
		must(t, err)
		if web.Dockerfile != "" || web.Context != "" {
			t.Errorf("web = %+v, want empty Dockerfile and Context", web)
		}
		mustCreateComponent(t, s, "shop", "admin")
		list, err := s.ListComponents(ctx, "shop")
		must(t, err)
		names := []string{}
		for _, x := range list {
			names = append(names, x.Name)
		}
		if !slices.Equal(names, []string{"admin", "api", "web"}) {
			t.Errorf("ListComponents = %v, want by name", names)
		}
		if !reflect.DeepEqual(list[1], c) {
			t.Errorf("listed %+v, want %+v", list[1], c)
		}

		upd := Component{Project: "shop", Name: "api", Repo: "https://x/api2.git", Branch: "main",
			Dockerfile: "Dockerfile", Context: ".", AutoBuild: false, AutoDeploy: true}
		u, err := s.UpdateComponent(ctx, upd)
		must(t, err)
		if !u.CreatedAt.Equal(c.CreatedAt) || !u.UpdatedAt.After(c.UpdatedAt) {
			t.Errorf("after update CreatedAt %v (was %v), UpdatedAt %v (was %v)", u.CreatedAt, c.CreatedAt, u.UpdatedAt, c.UpdatedAt)
		}
		upd.CreatedAt, upd.UpdatedAt, upd.Type = u.CreatedAt, u.UpdatedAt, "service"
		if !reflect.DeepEqual(u, upd) {
			t.Errorf("UpdateComponent = %+v, want %+v", u, upd)
		}
		if got, _ := s.GetComponent(ctx, "shop", "api"); !reflect.DeepEqual(got, u) {
			t.Errorf("after update GetComponent = %+v, want %+v", got, u)
		}
		// Updates in quick succession still move UpdatedAt forward.
		last := u.UpdatedAt
		for range 5 {
			u, err = s.UpdateComponent(ctx, upd)
			must(t, err)
			if !u.UpdatedAt.After(last) {
				t.Fatalf("UpdatedAt %v did not move past %v", u.UpdatedAt, last)
			}
			last = u.UpdatedAt
		}

		must(t, s.DeleteComponent(ctx, "shop", "api"))
		_, err = s.GetComponent(ctx, "shop", "api")
		wantErr(t, err, ErrNotFound, `component "api" in project "shop": not found`)
	})
}

func TestComponentErrors(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		mustCreateProject(t, s, "shop")
		mustCreateComponent(t, s, "shop", "api")
		_, err := s.CreateProject(ctx, Project{Name: "empty"}, nil)
		must(t, err)
		tests := []struct {
			name   string
			call   func() error
			target error
			msg    string
		}{
			{"create duplicate", func() error { _, err := s.CreateComponent(ctx, Component{Project: "shop", Name: "api"}); return err },
				ErrExists, `component "api" in project "shop": already exists`},
			{"create in missing project", func() error { _, err := s.CreateComponent(ctx, Component{Project: "nope", Name: "api"}); return err },
				ErrNotFound, `project "nope": not found`},
			{"create without name", func() error { _, err := s.CreateComponent(ctx, Component{Project: "shop"}); return err },
				ErrInvalid, ""},
			{"get missing", func() error { _, err := s.GetComponent(ctx, "shop", "web"); return err },
				ErrNotFound, `component "web" in project "shop": not found`},
			{"get in missing project", func() error { _, err := s.GetComponent(ctx, "nope", "api"); return err },
				ErrNotFound, `project "nope": not found`},
			{"list in missing project", func() error { _, err := s.ListComponents(ctx, "nope"); return err },
				ErrNotFound, `project "nope": not found`},
			{"update missing", func() error { _, err := s.UpdateComponent(ctx, Component{Project: "shop", Name: "web"}); return err },
				ErrNotFound, `component "web" in project "shop": not found`},
			{"update in missing project", func() error { _, err := s.UpdateComponent(ctx, Component{Project: "nope", Name: "api"}); return err },
				ErrNotFound, `project "nope": not found`},
			{"delete missing", func() error { return s.DeleteComponent(ctx, "shop", "web") },
				ErrNotFound, `component "web" in project "shop": not found`},
			{"delete in missing project", func() error { return s.DeleteComponent(ctx, "nope", "api") },
				ErrNotFound, `project "nope": not found`},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) { wantErr(t, tt.call(), tt.target, tt.msg) })
		}
		if list, err := s.ListComponents(ctx, "empty"); err != nil || list == nil || len(list) != 0 {
			t.Errorf("ListComponents(empty project) = %#v, %v; want empty non-nil slice", list, err)
		}
	})
}
