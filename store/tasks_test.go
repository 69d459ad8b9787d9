package store

import (
	"reflect"
	"testing"
	"time"

	"github.com/slipway-dev/slipway/api"
)

func TestComponentTypeDefaultsToService(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		mustCreateProject(t, s, "shop")
		c := mustCreateComponent(t, s, "shop", "api")
		if c.Type != api.ComponentService {
			t.Errorf("created type = %q, want %q", c.Type, api.ComponentService)
		}
		c.Type = api.ComponentScheduledTask
		u, err := s.UpdateComponent(ctx, c)
		must(t, err)
		got, err := s.GetComponent(ctx, "shop", "api")
		must(t, err)
		if u.Type != api.ComponentScheduledTask || got.Type != api.ComponentScheduledTask {
			t.Errorf("updated type = %q, read back %q, want %q", u.Type, got.Type, api.ComponentScheduledTask)
		}
	})
}

func TestTaskScheduleLifecycle(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		mustCreateProject(t, s, "shop")
		mustCreateComponent(t, s, "shop", "nightly")
		_, err := s.GetTaskSchedule(ctx, "shop", "nightly", "development")
		wantErr(t, err, ErrNotFound, `schedule of component "nightly" in project "shop" in "development": not found`)
		_, err = s.PutTaskSchedule(ctx, TaskSchedule{Project: "shop", Component: "nightly", Environment: "staging", Cron: "* * * * *"})
		wantErr(t, err, ErrNotFound, "")
		_, err = s.PutTaskSchedule(ctx, TaskSchedule{Project: "shop", Component: "nightly", Environment: "development"})
		wantErr(t, err, ErrInvalid, "")

		put, err := s.PutTaskSchedule(ctx, TaskSchedule{Project: "shop", Component: "nightly", Environment: "development", Cron: "* * * * *"})
		must(t, err)
		if put.TimeZone != "UTC" || put.Overlap != api.OverlapSkip {
			t.Errorf("defaults = %q, %q, want UTC, skip", put.TimeZone, put.Overlap)
		}
		again, err := s.PutTaskSchedule(ctx, TaskSchedule{Project: "shop", Component: "nightly", Environment: "development",
			Cron: "0 3 * * *", TimeZone: "Europe/Berlin", Overlap: api.OverlapBufferOne, Paused: true})
		must(t, err)
		got, err := s.GetTaskSchedule(ctx, "shop", "nightly", "development")
		must(t, err)
		if !reflect.DeepEqual(got, again) {
			t.Errorf("GetTaskSchedule = %+v, want the replaced %+v", got, again)
		}
		list, err := s.ListTaskSchedules(ctx, "shop", "nightly")
		must(t, err)
		all, err := s.ListTaskSchedules(ctx, "", "")
		must(t, err)
		if len(list) != 1 || len(all) != 1 || !reflect.DeepEqual(list[0], again) {
			t.Errorf("ListTaskSchedules = %+v / %+v, want the one schedule", list, all)
		}
		must(t, s.DeleteTaskSchedule(ctx, "shop", "nightly", "development"))
		wantErr(t, s.DeleteTaskSchedule(ctx, "shop", "nightly", "development"), ErrNotFound, "")
	})
}

func TestTaskRunLifecycle(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		mustCreateProject(t, s, "shop")
		mustCreateComponent(t, s, "shop", "nightly")
		r, err := s.CreateTaskRun(ctx, TaskRun{ID: "r1", Project: "shop", Component: "nightly", Environment: "development",
			Trigger: api.RunTriggerManual, Actor: "admin"})
		must(t, err)
		if r.Status != api.RunQueued || r.ExitCode != nil {
			t.Errorf("created run = %+v, want queued without exit code", r)
		}
		_, err = s.CreateTaskRun(ctx, TaskRun{ID: "r1", Project: "shop", Component: "nightly", Environment: "development"})
		wantErr(t, err, ErrExists, "")
		must(t, s.AppendTaskRunLog(ctx, "r1", "first\nsecond\n", "third"))
		start := time.Now().UTC()
		code := 3
		done, err := s.UpdateTaskRun(ctx, "r1", func(x *TaskRun) error {
			x.Status, x.ExitCode, x.BuildID, x.StartedAt, x.EndedAt = api.RunFailed, &code, "b1", &start, &start
			return nil
		})
		must(t, err)
		got, err := s.GetTaskRun(ctx, "r1")
		must(t, err)
		if got.ExitCode == nil || *got.ExitCode != 3 || got.Status != api.RunFailed || got.BuildID != "b1" || !reflect.DeepEqual(got, done) {
			t.Errorf("GetTaskRun = %+v, want the update %+v", got, done)
		}
		_, err = s.UpdateTaskRun(ctx, "r1", func(x *TaskRun) error { return nil })
		wantErr(t, err, ErrInvalid, "")
		lines, err := s.TaskRunLog(ctx, "r1", 1, 0)
		must(t, err)
		if len(lines) != 2 || lines[0].Text != "second" || lines[1].Seq != 3 {
			t.Errorf("TaskRunLog after 1 = %+v, want second and third", lines)
		}
		_, err = s.CreateTaskRun(ctx, TaskRun{ID: "r2", Project: "shop", Component: "nightly", Environment: "production", Trigger: api.RunTriggerSchedule})
		must(t, err)
		runs, err := s.ListTaskRuns(ctx, "shop", "nightly", "", "", 0)
		must(t, err)
		dev, err := s.ListTaskRuns(ctx, "shop", "nightly", "development", "", 0)
		must(t, err)
		older, err := s.ListTaskRuns(ctx, "shop", "nightly", "", "r2", 0)
		must(t, err)
		if len(runs) != 2 || runs[0].ID != "r2" || len(dev) != 1 || dev[0].ID != "r1" || len(older) != 1 || older[0].ID != "r1" {
			t.Errorf("ListTaskRuns = %d newest %v, development %d, after r2 %d: want 2 newest first, 1, 1", len(runs), runs, len(dev), len(older))
		}
		must(t, s.DeleteComponent(ctx, "shop", "nightly"))
		_, err = s.GetTaskRun(ctx, "r1")
		wantErr(t, err, ErrNotFound, "")
	})
}
