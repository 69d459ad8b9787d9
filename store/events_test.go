package store

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/slipway-dev/slipway/api"
	"github.com/slipway-dev/slipway/descriptor"
	"github.com/slipway-dev/slipway/scan"
)

// eventsAfter returns every event after seq, failing the test on an error or a gap in the numbering.
func eventsAfter(t *testing.T, s *Store, after int64) []Event {
	t.Helper()
	var out []Event
	for {
		page, err := s.Events(t.Context(), after, 0)
		must(t, err)
		for _, e := range page {
			if e.Seq != after+1 {
				t.Fatalf("event seq %d follows %d: a gap", e.Seq, after)
			}
			after = e.Seq
		}
		out = append(out, page...)
		if len(page) < eventBatch {
			return out
		}
	}
}

// brief is an event without Seq and At, for comparisons.
func brief(e Event) Event { e.Seq, e.At = 0, time.Time{}; return e }

func TestEventsRecordEveryChangeInOrder(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		if last, err := s.LastEventSeq(ctx); err != nil || last != 0 {
			t.Fatalf("LastEventSeq of an empty feed = %d, %v; want 0", last, err)
		}
		mustCreateProject(t, s, "shop")
		c := mustCreateComponent(t, s, "shop", "api")
		_, err := s.CreateBuild(ctx, newBuild("b1"))
		must(t, err)
		_, err = s.CreateBuild(ctx, newBuild("b1")) // fails: no event
		wantErr(t, err, ErrExists, "")
		_, err = s.UpdateBuild(ctx, "b1", func(b *Build) error { b.Status = api.BuildRunning; return nil })
		must(t, err)
		must(t, s.PutBuildSpec(ctx, "b1", descriptor.Descriptor{Default: true}, nil))
		must(t, s.PutBuildScan(ctx, "b1", scan.Report{}, scan.Summary{}))
		_, err = s.UpdateBuild(ctx, "b1", func(b *Build) error { b.Status, b.Digest = api.BuildSucceeded, "sha256:1"; return nil })
		must(t, err)
		_, err = s.UpdateBuild(ctx, "b1", func(b *Build) error { return nil }) // finished: fails, no event
		wantErr(t, err, ErrInvalid, "")
		_, err = s.CreateDeployment(ctx, Deployment{ID: "d1", Project: "shop", Component: "api", Environment: "production", BuildID: "b1"})
		must(t, err)
		_, err = s.UpdateDeployment(ctx, "d1", func(d *Deployment) error { d.Status = api.DeploymentRunning; return nil })
		must(t, err)
		c.AutoDeploy = true
		_, err = s.UpdateComponent(ctx, c)
		must(t, err)
		_, _, err = s.PutConfig(ctx, ConfigValue{Project: "shop", Component: "api", Environment: "production", Key: "TOKEN",
			Secret: true, Sealed: fakeSealed("kek-1", "v1")}, false)
		must(t, err)
		_, _, err = s.PutConfig(ctx, ConfigValue{Project: "shop", Component: "api", Environment: "production", Key: "TOKEN",
			Sealed: fakeSealed("kek-1", "v2")}, true)
		must(t, err)
		must(t, s.DeleteConfig(ctx, "shop", "api", "production", "TOKEN"))
		wantErr(t, s.DeleteConfig(ctx, "shop", "api", "production", "TOKEN"), ErrNotFound, "") // no event
		_, err = s.CreateEnvironment(ctx, Environment{Project: "shop", Name: "staging"})
		must(t, err)
		_, err = s.UpdateEnvironment(ctx, "shop", "staging", func(e *Environment) error { e.Replicas = 2; return nil })
		must(t, err)
		_, err = s.ReorderEnvironments(ctx, "shop", []string{"development", "staging", "production"})
		must(t, err)
		_, err = s.UpdateProject(ctx, "shop", func(*Project) error { return nil })
		must(t, err)
		must(t, s.DeleteComponent(ctx, "shop", "api"))
		wantErr(t, s.DeleteComponent(ctx, "shop", "api"), ErrNotFound, `component "api" in project "shop": not found`)
		must(t, s.DeleteProject(ctx, "shop"))
		wantErr(t, s.DeleteProject(ctx, "shop"), ErrNotFound, `project "shop": not found`)

		build := func(state string) Event {
			return Event{Kind: EventBuild, Project: "shop", Component: "api", Ref: "b1", State: state}
		}
		deployment := func(state string) Event {
			return Event{Kind: EventDeployment, Project: "shop", Component: "api", Environment: "production", Ref: "d1", State: state}
		}
		component := Event{Kind: EventComponent, Project: "shop", Component: "api"}
		config := Event{Kind: EventConfig, Project: "shop", Component: "api", Environment: "production", Ref: "TOKEN"}
		staging := Event{Kind: EventEnvironment, Project: "shop", Environment: "staging"}
		project := Event{Kind: EventProject, Project: "shop"}
		// Each build and deployment event carries the state the change committed.
		want := []Event{project, component, build(api.BuildQueued), build(api.BuildRunning), build(api.BuildRunning), build(api.BuildRunning),
			build(api.BuildSucceeded), deployment(api.DeploymentQueued), deployment(api.DeploymentRunning), component,
			config, config, config, staging, staging, {Kind: EventEnvironment, Project: "shop"}, project, component, project}

		got := eventsAfter(t, s, 0)
		if len(got) != len(want) {
			t.Fatalf("%d events, want %d: %+v", len(got), len(want), got)
		}
		for i, e := range got {
			if brief(e) != want[i] {
				t.Errorf("event %d = %+v, want %+v", i+1, e, want[i])
			}
			if e.At.IsZero() || i > 0 && e.At.Before(got[i-1].At) {
				t.Errorf("event %d at %v, after event %d at %v", e.Seq, e.At, i, got[max(i-1, 0)].At)
			}
		}
		if last, err := s.LastEventSeq(ctx); err != nil || last != int64(len(want)) {
			t.Errorf("LastEventSeq = %d, %v; want %d", last, err, len(want))
		}
	})
}

func TestEventsPage(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		for i := range 5 {
			mustCreateProject(t, s, fmt.Sprintf("p%d", i))
		}
		for _, tc := range []struct {
			after       int64
			limit       int
			first, last int64 // 0, 0: none
		}{
			{0, 0, 1, 5}, {0, 2, 1, 2}, {2, 2, 3, 4}, {4, 2, 5, 5}, {5, 2, 0, 0}, {9, 0, 0, 0},
		} {
			page, err := s.Events(ctx, tc.after, tc.limit)
			must(t, err)
			var first, last int64
			if len(page) > 0 {
				first, last = page[0].Seq, page[len(page)-1].Seq
			}
			if first != tc.first || last != tc.last || page == nil || last > 0 && int(last-first+1) != len(page) {
				t.Errorf("Events(%d, %d) = seq %d..%d (%d events), want %d..%d", tc.after, tc.limit, first, last, len(page), tc.first, tc.last)
			}
			if len(page) > 0 && page[0].Project != fmt.Sprintf("p%d", first-1) {
				t.Errorf("Events(%d, %d) starts with %+v", tc.after, tc.limit, page[0])
			}
		}
	})
}

// TestEventsNoGapsUnderConcurrentWriters has writers append at once while a reader follows the feed: the
// numbering has no gap, no seq is taken twice, and the reader never sees a later event before an earlier one.
func TestEventsNoGapsUnderConcurrentWriters(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		mustCreateProject(t, s, "shop")
		mustCreateComponent(t, s, "shop", "api")
		start, err := s.LastEventSeq(ctx)
		must(t, err)
		const writers, writes = 8, 20
		errs := make(chan error, writers*writes+1)
		var wg sync.WaitGroup
		for w := range writers {
			wg.Go(func() {
				id := fmt.Sprintf("b%d", w)
				if _, err := s.CreateBuild(ctx, newBuild(id)); err != nil {
					errs <- err
					return
				}
				for i := 1; i < writes; i++ {
					if _, err := s.UpdateBuild(ctx, id, func(b *Build) error { b.RunID = fmt.Sprint(i); return nil }); err != nil {
						errs <- err
					}
				}
			})
		}
		const total = writers * writes
		// The reader follows the feed while it grows; every page it reads must continue where the last one ended.
		seen := map[string]int{}
		read := make(chan error, 1)
		written := make(chan struct{})
		go func() {
			after, last := start, false
			for after < start+total {
				page, err := s.Events(ctx, after, 7)
				if err != nil {
					read <- err
					return
				}
				if len(page) == 0 && last {
					read <- fmt.Errorf("the feed ends at %d after the writers are done, want %d", after, start+total)
					return
				}
				select {
				case <-written: // one more read, then what is there is all there is
					last = true
				default:
				}
				for _, e := range page {
					if e.Seq != after+1 {
						read <- fmt.Errorf("the reader saw seq %d after %d", e.Seq, after)
						return
					}
					after = e.Seq
					seen[e.Ref]++
				}
			}
			read <- nil
		}()
		wg.Wait()
		close(written)
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		if err := <-read; err != nil {
			t.Fatal(err)
		}
		for w := range writers {
			if id := fmt.Sprintf("b%d", w); seen[id] != writes {
				t.Errorf("%d events of %s, want %d", seen[id], id, writes)
			}
		}
		if got := eventsAfter(t, s, start); len(got) != total {
			t.Errorf("%d events after %d, want %d", len(got), start, total)
		}
	})
}

func TestEventsPrunedAfterAnHour(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		old := time.Now().Add(-eventRetention - time.Minute)
		appendAt := func(n int, at time.Time) {
			t.Helper()
			must(t, s.inTx(ctx, func(c conn) error {
				for range n {
					if err := appendEvent(ctx, c, Event{Kind: EventProject, Project: "p", At: at}); err != nil {
						return err
					}
				}
				return nil
			}))
		}
		// 200 old events and 55 recent ones: the 256th append prunes the old ones.
		appendAt(200, old)
		appendAt(55, time.Time{})
		if n := count(t, s, "SELECT seq FROM events"); n != 255 {
			t.Fatalf("%d events before pruning, want 255", n)
		}
		appendAt(1, time.Time{})
		got := eventsAfter(t, s, 200)
		if n := count(t, s, "SELECT seq FROM events"); n != 56 || len(got) != 56 || got[0].Seq != 201 {
			t.Fatalf("%d events after pruning (%d from 201), want seq 201..256", n, len(got))
		}
		// Only old events: the newest is kept, and numbering goes on after it.
		must(t, s.inTx(ctx, func(c conn) error {
			_, err := c.exec(ctx, "UPDATE events SET at = ?", toDB(old))
			return err
		}))
		appendAt(256, old)
		if n := count(t, s, "SELECT seq FROM events"); n != 1 {
			t.Fatalf("%d events after pruning only old ones, want 1", n)
		}
		if last, err := s.LastEventSeq(ctx); err != nil || last != 512 {
			t.Fatalf("LastEventSeq = %d, %v; want 512", last, err)
		}
		appendAt(1, time.Time{})
		if got, err := s.Events(ctx, 0, 0); err != nil || len(got) != 2 || got[0].Seq != 512 || got[1].Seq != 513 {
			t.Fatalf("Events = %+v, %v; want seq 512 and 513", got, err)
		}
	})
}
