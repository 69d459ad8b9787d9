package store

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/slipway-dev/slipway/api"
)

func newBuild(id string) Build {
	return Build{ID: id, Project: "shop", Component: "api", Commit: "0123456789abcdef0123456789abcdef01234567",
		Trigger: Trigger{Kind: "manual", Actor: "admin"}, WorkflowID: "build/shop/api/0123"}
}

func TestBuildsCreateGetUpdate(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		mustCreateProject(t, s, "shop")
		mustCreateComponent(t, s, "shop", "api")

		b, err := s.CreateBuild(ctx, newBuild("b1"))
		if err != nil {
			t.Fatal(err)
		}
		if b.Status != api.BuildQueued || b.CreatedAt.IsZero() {
			t.Fatalf("created build %+v, want queued with a creation time", b)
		}
		_, err = s.CreateBuild(ctx, newBuild("b1"))
		wantErr(t, err, ErrExists, `build "b1": already exists`)
		orphan := newBuild("b2")
		orphan.Component = "web"
		_, err = s.CreateBuild(ctx, orphan)
		wantErr(t, err, ErrNotFound, "")
		_, err = s.CreateBuild(ctx, Build{ID: "b3", Project: "shop", Component: "api"})
		wantErr(t, err, ErrInvalid, "")

		started := time.Now().UTC().Truncate(time.Microsecond)
		up, err := s.UpdateBuild(ctx, "b1", func(b *Build) error {
			b.Status = api.BuildRunning
			b.StartedAt = &started
			b.RunID = "run-1"
			b.Steps = []Step{{Name: "checkout", Status: "succeeded", StartedAt: &started, EndedAt: &started}, {Name: "build", Status: "running", StartedAt: &started}}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.GetBuild(ctx, "b1")
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != api.BuildRunning || got.RunID != "run-1" || got.StartedAt == nil || !got.StartedAt.Equal(started) ||
			len(got.Steps) != 2 || got.Steps[1].Name != "build" || got.Trigger != (Trigger{Kind: "manual", Actor: "admin"}) {
			t.Fatalf("build after update = %+v (update returned %+v)", got, up)
		}

		_, err = s.UpdateBuild(ctx, "b1", func(b *Build) error { b.Commit = "other"; return nil })
		wantErr(t, err, ErrInvalid, "")
		boom := errors.New("boom")
		if _, err := s.UpdateBuild(ctx, "b1", func(b *Build) error { b.Status = api.BuildFailed; return boom }); !errors.Is(err, boom) {
			t.Fatalf("update error = %v, want boom", err)
		}
		if got, _ := s.GetBuild(ctx, "b1"); got.Status != api.BuildRunning {
			t.Fatalf("a failed update changed the build to %s", got.Status)
		}
		if _, err := s.UpdateBuild(ctx, "b1", func(b *Build) error {
			b.Status, b.Digest, b.ImageSize = api.BuildSucceeded, "sha256:abc", 1234
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		_, err = s.UpdateBuild(ctx, "b1", func(b *Build) error { b.Digest = "sha256:other"; return nil })
		wantErr(t, err, ErrInvalid, `build "b1" is succeeded and can no longer change: invalid`)
		_, err = s.GetBuild(ctx, "nope")
		wantErr(t, err, ErrNotFound, `build "nope": not found`)
	})
}

func TestListBuildsNewestFirstWithCursor(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		mustCreateProject(t, s, "shop")
		mustCreateComponent(t, s, "shop", "api")
		mustCreateComponent(t, s, "shop", "web")
		for i := range 5 {
			if _, err := s.CreateBuild(ctx, newBuild(fmt.Sprintf("b%d", i))); err != nil {
				t.Fatal(err)
			}
		}
		other := newBuild("w0")
		other.Component = "web"
		if _, err := s.CreateBuild(ctx, other); err != nil {
			t.Fatal(err)
		}
		var ids []string
		after := ""
		for {
			page, err := s.ListBuilds(ctx, "shop", "api", after, 2)
			if err != nil {
				t.Fatal(err)
			}
			if len(page) == 0 {
				break
			}
			for _, b := range page {
				ids = append(ids, b.ID)
			}
			after = page[len(page)-1].ID
		}
		if fmt.Sprint(ids) != "[b4 b3 b2 b1 b0]" {
			t.Fatalf("pages gave %v, want newest first without repeats", ids)
		}
		_, err := s.ListBuilds(ctx, "shop", "nope", "", 0)
		wantErr(t, err, ErrNotFound, "")
	})
}

func TestBuildsOfCommitsNewestFirst(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		mustCreateProject(t, s, "shop")
		mustCreateComponent(t, s, "shop", "api")
		mustCreateComponent(t, s, "shop", "web")
		a, b := "aaaa", "bbbb"
		for i, commit := range []string{a, b, a, a} {
			bd := newBuild(fmt.Sprintf("b%d", i))
			bd.Commit = commit
			if _, err := s.CreateBuild(ctx, bd); err != nil {
				t.Fatal(err)
			}
		}
		other := newBuild("w0")
		other.Component, other.Commit = "web", a
		if _, err := s.CreateBuild(ctx, other); err != nil {
			t.Fatal(err)
		}
		ids := func(bs []Build) string {
			var out []string
			for _, b := range bs {
				out = append(out, b.ID)
			}
			return fmt.Sprint(out)
		}
		if got, err := s.BuildsOfCommits(ctx, "shop", "api", a); err != nil || ids(got) != "[b3 b2 b0]" {
			t.Fatalf("builds of %s = %s, %v; want the rebuilds first and nothing of web", a, ids(got), err)
		}
		if got, err := s.BuildsOfCommits(ctx, "shop", "api", a, b); err != nil || ids(got) != "[b3 b2 b1 b0]" {
			t.Fatalf("builds of both = %s, %v", ids(got), err)
		}
		if got, err := s.BuildsOfCommits(ctx, "shop", "api"); err != nil || len(got) != 0 {
			t.Fatalf("builds of no commit = %s, %v", ids(got), err)
		}
	})
}

func TestBuildLogAppendAndFollow(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		mustCreateProject(t, s, "shop")
		mustCreateComponent(t, s, "shop", "api")
		if _, err := s.CreateBuild(ctx, newBuild("b1")); err != nil {
			t.Fatal(err)
		}
		if err := s.AppendBuildLog(ctx, "b1", "#1 [1/2] FROM busybox", "#1 DONE 0.1s"); err != nil {
			t.Fatal(err)
		}
		if err := s.AppendBuildLog(ctx, "b1", "#2 RUN echo hi"); err != nil {
			t.Fatal(err)
		}
		if err := s.AppendBuildLog(ctx, "b1", "ERROR: failed:\r\n  line two\n"); err != nil {
			t.Fatal(err)
		}
		all, err := s.BuildLog(ctx, "b1", 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(all) != 5 || all[0].Seq != 1 || all[2].Seq != 3 || all[2].Text != "#2 RUN echo hi" ||
			all[3].Text != "ERROR: failed:" || all[4].Text != "  line two" {
			t.Fatalf("log = %+v", all)
		}
		tail, err := s.BuildLog(ctx, "b1", 2, 1)
		if err != nil || len(tail) != 1 || tail[0].Seq != 3 {
			t.Fatalf("log after 2 = %+v, %v", tail, err)
		}
		wantErr(t, s.AppendBuildLog(ctx, "nope", "x"), ErrNotFound, "")
		_, err = s.BuildLog(ctx, "nope", 0, 0)
		wantErr(t, err, ErrNotFound, "")
		if err := s.DeleteComponent(ctx, "shop", "api"); err != nil {
			t.Fatal(err)
		}
		if n := count(t, s, "SELECT build_id FROM build_logs"); n != 0 {
			t.Fatalf("%d log lines left after deleting the component", n)
		}
	})
}
