package activities

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/slipway-dev/slipway/api"
	"github.com/slipway-dev/slipway/dataplane"
	"github.com/slipway-dev/slipway/store"
	"github.com/slipway-dev/slipway/workflows"
)

// ErrTypeNotATask means a run was asked of a component that is not a task (it serves; it does not run to an end).
const ErrTypeNotATask = "NotATask"

// StartTaskRun records the run (once: a repeated start finds it) and picks the release it runs, the one current
// in its environment. With nothing deployed there, or a component that is not a task, the run is recorded failed
// saying so and is not runnable.
func (d *Deploys) StartTaskRun(ctx context.Context, in workflows.StartTaskRunInput) (workflows.StartTaskRunResult, error) {
	t := in.Task
	run, err := d.Store.CreateTaskRun(ctx, store.TaskRun{ID: in.RunID, Project: t.Project, Component: t.Component,
		Environment: t.Environment, Trigger: t.Trigger, Actor: t.Actor, WorkflowID: in.WorkflowID})
	if errors.Is(err, store.ErrExists) {
		run, err = d.Store.GetTaskRun(ctx, in.RunID)
	}
	if errors.Is(err, store.ErrNotFound) {
		// The component or environment went: nothing to record the run against.
		return workflows.StartTaskRunResult{}, temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeNotATask, err)
	}
	if err != nil {
		return workflows.StartTaskRunResult{}, err
	}
	if ended(run) {
		return workflows.StartTaskRunResult{}, nil
	}
	if run.DeploymentID != "" {
		return d.runnable(ctx, t)
	}
	comp, err := d.Store.GetComponent(ctx, t.Project, t.Component)
	if err != nil {
		return workflows.StartTaskRunResult{}, err
	}
	if !api.IsTask(comp.Type) {
		return workflows.StartTaskRunResult{}, d.failRun(ctx, run.ID, fmt.Sprintf("%s is a %s, not a task: it serves rather than runs to an end", comp.Name, comp.Type))
	}
	cur, err := d.Store.CurrentDeployment(ctx, t.Project, t.Component, t.Environment)
	if errors.Is(err, store.ErrNotFound) {
		return workflows.StartTaskRunResult{}, d.failRun(ctx, run.ID, fmt.Sprintf("nothing of %s is deployed to %s: deploy a build there first", t.Component, t.Environment))
	}
	if err != nil {
		return workflows.StartTaskRunResult{}, err
	}
	if _, err := d.Store.UpdateTaskRun(ctx, run.ID, func(x *store.TaskRun) error {
		x.BuildID, x.DeploymentID = cur.BuildID, cur.ID
		return nil
	}); err != nil {
		return workflows.StartTaskRunResult{}, err
	}
	return d.runnable(ctx, t)
}

// runnable is the start of a run that runs: on the data plane of its environment, whose task queue it goes to.
func (d *Deploys) runnable(ctx context.Context, t workflows.TaskRunInput) (workflows.StartTaskRunResult, error) {
	env, err := d.environment(ctx, t.Project, t.Environment)
	if err != nil {
		return workflows.StartTaskRunResult{}, err
	}
	return workflows.StartTaskRunResult{Runnable: true, DataPlane: plane(env.DataPlane)}, nil
}

// ended says whether the run has its outcome.
func ended(r store.TaskRun) bool { return r.Status == api.RunSucceeded || r.Status == api.RunFailed }

// failRun records the run failed with msg; a run already ended keeps its outcome.
func (d *Deploys) failRun(ctx context.Context, id, msg string) error {
	_, err := d.Store.UpdateTaskRun(ctx, id, func(x *store.TaskRun) error {
		now := time.Now().UTC()
		x.Status, x.Message, x.EndedAt = api.RunFailed, msg, &now
		return nil
	})
	if errors.Is(err, store.ErrInvalid) {
		return nil
	}
	return err
}

// FailTaskRun records a run that could not run to an end (its activity failed, or it was cancelled).
func (d *Deploys) FailTaskRun(ctx context.Context, in workflows.FailTaskRunInput) error {
	return d.failRun(ctx, in.RunID, in.Message)
}

// RunTask runs the recorded run's release — the build deployed with the configs and secrets that deployment
// got — to completion on the environment's data plane, heartbeating while it runs, keeps what it wrote as the
// run's log, and records its exit code: 0 succeeded, anything else failed. A retried attempt waits for the run
// the first started rather than starting another; a run already ended is answered as recorded.
func (d *Deploys) RunTask(ctx context.Context, in workflows.RunTaskInput) (workflows.TaskRunResult, error) {
	run, err := d.Store.GetTaskRun(ctx, in.RunID)
	if err != nil {
		return workflows.TaskRunResult{}, err
	}
	if ended(run) {
		return runResult(run), nil
	}
	dep, err := d.Store.GetDeployment(ctx, run.DeploymentID)
	if err != nil {
		return workflows.TaskRunResult{}, err
	}
	b, err := d.Store.GetBuild(ctx, dep.BuildID)
	if err != nil {
		return workflows.TaskRunResult{}, err
	}
	env, err := d.environment(ctx, run.Project, run.Environment)
	if err != nil {
		return workflows.TaskRunResult{}, err
	}
	driver, err := d.DriverFor(ctx, env, 0)
	if err != nil {
		return workflows.TaskRunResult{}, err
	}
	runner, ok := driver.(dataplane.Runner)
	if !ok {
		return workflows.TaskRunResult{}, temporal.NewNonRetryableApplicationError("the "+plane(env.DataPlane)+" data plane does not run tasks", ErrTypeNoDataPlane, nil)
	}
	rel, _, err := d.release(ctx, dep, b, env)
	if err != nil {
		return workflows.TaskRunResult{}, err
	}
	if in.Verifies != "" {
		if err := d.tellVerified(ctx, driver, in.Verifies, &rel); err != nil {
			return workflows.TaskRunResult{}, err
		}
	}
	if run.Status != api.RunRunning {
		if run, err = d.Store.UpdateTaskRun(ctx, run.ID, func(x *store.TaskRun) error {
			now := time.Now().UTC()
			x.Status, x.StartedAt = api.RunRunning, &now
			return nil
		}); err != nil {
			return workflows.TaskRunResult{}, err
		}
	}
	stop := heartbeatEvery(heartbeatInterval, func() { activity.RecordHeartbeat(ctx, "running "+run.ID) })
	res, err := runner.Run(ctx, rel, run.ID, func(lines []string) error {
		// A retried attempt that finds the output kept already does not keep it twice.
		if kept, err := d.Store.TaskRunLog(ctx, run.ID, 0, 1); err != nil || len(kept) > 0 {
			return err
		}
		return d.Store.AppendTaskRunLog(ctx, run.ID, lines...)
	})
	stop()
	if err != nil {
		return workflows.TaskRunResult{}, classifyDataPlane(fmt.Errorf("running %s: %w", run.ID, err))
	}
	run, err = d.Store.UpdateTaskRun(ctx, run.ID, func(x *store.TaskRun) error {
		code := res.ExitCode
		x.ExitCode, x.Status, x.Message = &code, api.RunSucceeded, ""
		if code != 0 {
			x.Status, x.Message = api.RunFailed, fmt.Sprintf("exited with status %d", code)
		}
		if !res.StartedAt.IsZero() && !res.EndedAt.IsZero() {
			x.StartedAt, x.EndedAt = &res.StartedAt, &res.EndedAt
		} else {
			now := time.Now().UTC()
			x.EndedAt = &now
		}
		return nil
	})
	if err != nil {
		return workflows.TaskRunResult{}, err
	}
	return runResult(run), nil
}

func runResult(r store.TaskRun) workflows.TaskRunResult {
	return workflows.TaskRunResult{Status: r.Status, ExitCode: r.ExitCode, Message: r.Message}
}

// tellVerified tells a verification run where the release it verifies is reached, in its environment:
// SLIPWAY_VERIFY_ADDRESS (host:port of one of its instances, from inside the environment; "" when it listens
// nowhere), SLIPWAY_VERIFY_URL (its public URL, "" when none) and SLIPWAY_VERIFY_BUILD.
func (d *Deploys) tellVerified(ctx context.Context, driver dataplane.Driver, deploymentID string, rel *dataplane.Release) error {
	v, err := d.Store.GetDeployment(ctx, deploymentID)
	if err != nil {
		return err
	}
	insts, err := driver.Describe(ctx, v.Project, v.Component, v.Environment)
	if err != nil {
		return classifyDataPlane(fmt.Errorf("finding the release %s verifies: %w", deploymentID, err))
	}
	addr := ""
	for _, i := range insts {
		if i.BuildID == v.BuildID && i.Address != "" {
			addr = i.Address
			break
		}
	}
	if rel.Env == nil {
		rel.Env = map[string]string{}
	}
	rel.Env["SLIPWAY_VERIFY_ADDRESS"], rel.Env["SLIPWAY_VERIFY_URL"], rel.Env["SLIPWAY_VERIFY_BUILD"] = addr, v.URL, v.BuildID
	return nil
}
