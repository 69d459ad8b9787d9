package delivery

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/robfig/cron/v3"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/slipway-dev/slipway/api"
	"github.com/slipway-dev/slipway/store"
	"github.com/slipway-dev/slipway/workflows"
)

// TaskStore is the part of the metadata store the task use cases use.
type TaskStore interface {
	EnvironmentLister
	PutTaskSchedule(ctx context.Context, ts store.TaskSchedule) (store.TaskSchedule, error)
	ListTaskSchedules(ctx context.Context, project, component string) ([]store.TaskSchedule, error)
	DeleteTaskSchedule(ctx context.Context, project, component, environment string) error
	CurrentDeployment(ctx context.Context, project, component, environment string) (store.Deployment, error)
	CreateTaskRun(ctx context.Context, r store.TaskRun) (store.TaskRun, error)
	UpdateTaskRun(ctx context.Context, id string, update func(*store.TaskRun) error) (store.TaskRun, error)
}

// TaskTemporal is what the task use cases ask of Temporal (client.Client): start runs, keep Schedules.
type TaskTemporal interface {
	ExecuteWorkflow(ctx context.Context, options client.StartWorkflowOptions, workflow any, args ...any) (client.WorkflowRun, error)
	ScheduleClient() client.ScheduleClient
}

// Tasks keeps the schedules of scheduled tasks (each a Temporal Schedule that starts TaskRun workflows) and starts
// the runs of tasks on demand. Store is required.
type Tasks struct {
	Store TaskStore
	// Temporal runs the tasks; nil refuses schedules and runs as Unavailable.
	Temporal TaskTemporal
	// Log receives what a use case does not return; nil means slog.Default().
	Log *slog.Logger
}

func (t *Tasks) log() *slog.Logger {
	if t.Log == nil {
		return slog.Default()
	}
	return t.Log
}

// cronParser reads the cron expressions Temporal Schedules take: five fields, or a descriptor (@hourly, @every 5m).
var cronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// overlapPolicies maps the API's overlap policies to Temporal's.
var overlapPolicies = map[string]enumspb.ScheduleOverlapPolicy{
	api.OverlapSkip:        enumspb.SCHEDULE_OVERLAP_POLICY_SKIP,
	api.OverlapBufferOne:   enumspb.SCHEDULE_OVERLAP_POLICY_BUFFER_ONE,
	api.OverlapAllow:       enumspb.SCHEDULE_OVERLAP_POLICY_ALLOW_ALL,
	api.OverlapCancelOther: enumspb.SCHEDULE_OVERLAP_POLICY_CANCEL_OTHER,
}

// NextRuns returns the next n times (UTC) a schedule starts a run after from; none when it is paused or does not
// parse.
func NextRuns(ts store.TaskSchedule, from time.Time, n int) []time.Time {
	out := []time.Time{}
	sched, loc, err := parseSchedule(ts.Cron, ts.TimeZone)
	if err != nil || ts.Paused {
		return out
	}
	at := from.In(loc)
	for range n {
		at = sched.Next(at)
		out = append(out, at.UTC())
	}
	return out
}

// parseSchedule parses a cron expression and a time zone ("" is UTC), naming the field at fault.
func parseSchedule(expr, zone string) (cron.Schedule, *time.Location, error) {
	sched, err := cronParser.Parse(expr)
	if err != nil {
		return nil, nil, refuse(Invalid, "invalid", "cron", "cron expression %q does not parse: %v (five fields: minute hour day-of-month month day-of-week, or @hourly, @daily, @every 10m …)", expr, err)
	}
	if zone == "" {
		zone = "UTC"
	}
	loc, err := time.LoadLocation(zone)
	if err != nil {
		return nil, nil, refuse(Invalid, "invalid", "timeZone", "time zone %q is not an IANA time zone (such as Europe/Berlin or UTC)", zone)
	}
	return sched, loc, nil
}

// SetSchedule checks and stores when the scheduled task comp runs in environment env, and makes (or changes) the
// Temporal Schedule that starts its runs. Only a scheduled-task has a schedule.
func (t *Tasks) SetSchedule(ctx context.Context, comp store.Component, env string, f api.TaskScheduleFields) (store.TaskSchedule, error) {
	if comp.Type != api.ComponentScheduledTask {
		return store.TaskSchedule{}, refuse(Conflict, "not_scheduled", "type", "%s is a %s: only a %s has a schedule (PATCH its type first)", comp.Name, comp.Type, api.ComponentScheduledTask)
	}
	if _, _, err := parseSchedule(f.Cron, f.TimeZone); err != nil {
		return store.TaskSchedule{}, err
	}
	if f.Overlap == "" {
		f.Overlap = api.OverlapSkip
	}
	if _, ok := overlapPolicies[f.Overlap]; !ok {
		return store.TaskSchedule{}, refuse(Invalid, "invalid", "overlap", "overlap %q is none of %v", f.Overlap, api.OverlapPolicies)
	}
	if _, err := Environment(ctx, t.Store, comp.Project, env); err != nil {
		return store.TaskSchedule{}, err
	}
	if t.Temporal == nil {
		return store.TaskSchedule{}, errTemporalUnavailable("Temporal is not configured: schedules cannot run")
	}
	ts, err := t.Store.PutTaskSchedule(ctx, store.TaskSchedule{Project: comp.Project, Component: comp.Name, Environment: env,
		Cron: f.Cron, TimeZone: f.TimeZone, Overlap: f.Overlap, Paused: f.Paused})
	if err != nil {
		return store.TaskSchedule{}, err
	}
	// The row is stored first: a Schedule that could not be made is made by the next PUT, which the error asks for.
	if err := t.upsert(ctx, ts); err != nil {
		return store.TaskSchedule{}, t.temporalError(err, "the schedule of %s in %s is stored but its Temporal Schedule could not be made: PUT it again", comp.Name, env)
	}
	return ts, nil
}

// temporalError is the refusal of a use case Temporal did not carry out: Unavailable when it did not answer.
func (t *Tasks) temporalError(err error, format string, args ...any) error {
	if Unreachable(err) {
		e := errTemporalUnavailable(format, args...)
		e.Err = err
		return e
	}
	return fmt.Errorf(format+": %w", append(args, err)...)
}

// scheduleOptions is the Temporal Schedule of ts.
func scheduleOptions(ts store.TaskSchedule) client.ScheduleOptions {
	in := workflows.TaskRunInput{Project: ts.Project, Component: ts.Component, Environment: ts.Environment, Trigger: api.RunTriggerSchedule}
	return client.ScheduleOptions{
		ID:      workflows.TaskScheduleID(ts.Project, ts.Component, ts.Environment),
		Spec:    client.ScheduleSpec{CronExpressions: []string{ts.Cron}, TimeZoneName: ts.TimeZone},
		Overlap: overlapPolicies[ts.Overlap],
		Paused:  ts.Paused,
		Action: &client.ScheduleWorkflowAction{
			ID: workflows.TaskRunWorkflowID(ts.Project, ts.Component, ts.Environment), Workflow: workflows.TaskRun,
			Args: []any{in}, TaskQueue: workflows.TaskQueue,
			TypedSearchAttributes: temporal.NewSearchAttributes(
				temporal.NewSearchAttributeKeyKeyword(workflows.SearchAttrProject).ValueSet(ts.Project),
				temporal.NewSearchAttributeKeyKeyword(workflows.SearchAttrComponent).ValueSet(ts.Component),
				temporal.NewSearchAttributeKeyKeyword(workflows.SearchAttrEnvironment).ValueSet(ts.Environment),
				temporal.NewSearchAttributeKeyKeyword(workflows.SearchAttrTrigger).ValueSet(api.RunTriggerSchedule),
			),
		},
	}
}

// upsert makes the Temporal Schedule of ts, or replaces the spec, action and policy of the one there.
func (t *Tasks) upsert(ctx context.Context, ts store.TaskSchedule) error {
	ctx, cancel := context.WithTimeout(ctx, TemporalTimeout)
	defer cancel()
	opts := scheduleOptions(ts)
	sc := t.Temporal.ScheduleClient()
	_, err := sc.Create(ctx, opts)
	if !errors.Is(err, temporal.ErrScheduleAlreadyRunning) {
		return err
	}
	h := sc.GetHandle(ctx, opts.ID)
	err = h.Update(ctx, client.ScheduleUpdateOptions{DoUpdate: func(in client.ScheduleUpdateInput) (*client.ScheduleUpdate, error) {
		s := in.Description.Schedule
		s.Spec, s.Action = &opts.Spec, opts.Action
		if s.Policy == nil {
			s.Policy = &client.SchedulePolicies{}
		}
		s.Policy.Overlap = opts.Overlap
		return &client.ScheduleUpdate{Schedule: &s}, nil
	}})
	if err != nil {
		return err
	}
	if ts.Paused {
		return h.Pause(ctx, client.SchedulePauseOptions{Note: "paused through slipway"})
	}
	return h.Unpause(ctx, client.ScheduleUnpauseOptions{Note: "resumed through slipway"})
}

// DeleteSchedule deletes the schedule of comp in env, and its Temporal Schedule: no run starts after.
func (t *Tasks) DeleteSchedule(ctx context.Context, comp store.Component, env string) error {
	if err := t.Store.DeleteTaskSchedule(ctx, comp.Project, comp.Name, env); err != nil {
		return err
	}
	return t.deleteTemporalSchedule(ctx, comp.Project, comp.Name, env)
}

// deleteTemporalSchedule deletes the Temporal Schedule of comp in env; one already gone is no error.
func (t *Tasks) deleteTemporalSchedule(ctx context.Context, project, component, env string) error {
	if t.Temporal == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, TemporalTimeout)
	defer cancel()
	err := t.Temporal.ScheduleClient().GetHandle(ctx, workflows.TaskScheduleID(project, component, env)).Delete(ctx)
	var nf *serviceerror.NotFound
	if err != nil && !errors.As(err, &nf) {
		return t.temporalError(err, "the Temporal Schedule of %s in %s could not be deleted", component, env)
	}
	return nil
}

// DeleteSchedules deletes every Temporal Schedule of comp, as the component goes (its rows go with it).
func (t *Tasks) DeleteSchedules(ctx context.Context, comp store.Component) error {
	list, err := t.Store.ListTaskSchedules(ctx, comp.Project, comp.Name)
	if err != nil {
		return err
	}
	for _, ts := range list {
		if err := t.deleteTemporalSchedule(ctx, ts.Project, ts.Component, ts.Environment); err != nil {
			return err
		}
	}
	return nil
}

// Run starts a run of the task comp's release current in env now, by actor: it is recorded queued and its
// TaskRun workflow started. Only a task runs, only where a build of it is deployed, and only an admin runs one
// in a production environment (MayDeployTo).
func (t *Tasks) Run(ctx context.Context, comp store.Component, envName, actor string, admin bool) (store.TaskRun, error) {
	if !api.IsTask(comp.Type) {
		return store.TaskRun{}, refuse(Conflict, "not_a_task", "type", "%s is a %s: only a %s or %s runs to an end", comp.Name, comp.Type, api.ComponentManualTask, api.ComponentScheduledTask)
	}
	env, err := Environment(ctx, t.Store, comp.Project, envName)
	if err != nil {
		return store.TaskRun{}, err
	}
	if err := MayDeployTo(env, admin, "running a task"); err != nil {
		return store.TaskRun{}, err
	}
	cur, err := t.Store.CurrentDeployment(ctx, comp.Project, comp.Name, env.Name)
	if errors.Is(err, store.ErrNotFound) {
		return store.TaskRun{}, refuse(Conflict, "nothing_deployed", "environment", "nothing of %s is deployed to %s: deploy a build there first", comp.Name, env.Name)
	}
	if err != nil {
		return store.TaskRun{}, err
	}
	if t.Temporal == nil {
		return store.TaskRun{}, errTemporalUnavailable("Temporal is not configured: tasks cannot run")
	}
	b := make([]byte, 6)
	rand.Read(b)
	wid := workflows.TaskRunWorkflowID(comp.Project, comp.Name, env.Name) + "/manual-" + hex.EncodeToString(b)
	run, err := t.Store.CreateTaskRun(ctx, store.TaskRun{ID: workflows.TaskRunID(wid), Project: comp.Project, Component: comp.Name,
		Environment: env.Name, BuildID: cur.BuildID, DeploymentID: cur.ID, Trigger: api.RunTriggerManual, Actor: actor, WorkflowID: wid})
	if err != nil {
		return store.TaskRun{}, err
	}
	in := workflows.TaskRunInput{Project: comp.Project, Component: comp.Name, Environment: env.Name, Trigger: api.RunTriggerManual, Actor: actor}
	sctx, cancel := context.WithTimeout(ctx, TemporalTimeout)
	defer cancel()
	_, err = t.Temporal.ExecuteWorkflow(sctx, client.StartWorkflowOptions{ID: wid, TaskQueue: workflows.TaskQueue,
		TypedSearchAttributes: temporal.NewSearchAttributes(
			temporal.NewSearchAttributeKeyKeyword(workflows.SearchAttrProject).ValueSet(comp.Project),
			temporal.NewSearchAttributeKeyKeyword(workflows.SearchAttrComponent).ValueSet(comp.Name),
			temporal.NewSearchAttributeKeyKeyword(workflows.SearchAttrEnvironment).ValueSet(env.Name),
			temporal.NewSearchAttributeKeyKeyword(workflows.SearchAttrTrigger).ValueSet(api.RunTriggerManual),
		)}, workflows.TaskRun, in)
	if err != nil {
		if _, ferr := t.Store.UpdateTaskRun(context.WithoutCancel(ctx), run.ID, func(x *store.TaskRun) error {
			now := time.Now().UTC()
			x.Status, x.Message, x.EndedAt = api.RunFailed, "could not be started: "+err.Error(), &now
			return nil
		}); ferr != nil {
			t.log().Warn("recording a task run that could not start", "run", run.ID, "error", ferr)
		}
		return store.TaskRun{}, t.temporalError(err, "run %s could not be started", run.ID)
	}
	return run, nil
}
