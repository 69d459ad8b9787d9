package activities

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/slipway-dev/slipway/api"
	"github.com/slipway-dev/slipway/dataplane"
	"github.com/slipway-dev/slipway/store"
	"github.com/slipway-dev/slipway/workflows"
)

// Rollout starts the deployment's release on the environment's data plane (beside the one serving, or
// in its place), waits until it is ready, serves it (on Docker the entry is switched to it; on a cluster
// its Service serves it), and drains and removes what it replaced (in RetireReplaced, with RetireLater).
// A release that does not get ready is restored away and never served: the previous release keeps
// serving and the deployment is recorded failed with the last check. Repeating it (a retried activity)
// picks up where it stopped; a deployment already ended is answered as recorded.
func (d *Deploys) Rollout(ctx context.Context, in workflows.RolloutInput) (workflows.RolloutResult, error) {
	dep, err := d.Store.GetDeployment(ctx, in.DeploymentID)
	if err != nil {
		return workflows.RolloutResult{}, err
	}
	if store.Ended(dep.Status) {
		return workflows.RolloutResult{Status: dep.Status, URL: dep.URL, Message: dep.Message}, nil
	}
	env, err := d.environment(ctx, dep.Project, dep.Environment)
	if err != nil {
		return workflows.RolloutResult{}, err
	}
	comp, err := d.Store.GetComponent(ctx, dep.Project, dep.Component)
	if err != nil {
		return workflows.RolloutResult{}, err
	}
	if api.IsTask(comp.Type) {
		return d.releaseTask(ctx, dep, env, comp.Type)
	}
	timeout := orDefault(time.Duration(env.DeployTimeoutSeconds)*time.Second, orDefault(d.ReadyTimeout, 2*time.Minute))
	driver, err := d.DriverFor(ctx, env, timeout)
	if err != nil {
		return workflows.RolloutResult{}, err
	}
	rel, dep, err := d.fixRelease(ctx, dep, env)
	if err != nil {
		return workflows.RolloutResult{}, err
	}

	var progress atomic.Pointer[string] // what the heartbeats say
	progress.Store(new("starting " + dep.BuildID))
	// A previous attempt that got as far as restoring said so in its last heartbeat: this one restores
	// at once rather than rolling the release that failed out again.
	var failed string
	if activity.HasHeartbeatDetails(ctx) {
		var said string
		if activity.GetHeartbeatDetails(ctx, &said) == nil {
			if rest, ok := strings.CutPrefix(said, restoringAfter); ok {
				failed = rest
				progress.Store(&said)
			}
		}
	}
	stop := heartbeatEvery(heartbeatInterval, func() { activity.RecordHeartbeat(ctx, *progress.Load()) })
	defer stop()
	var insts []dataplane.Instance
	var last dataplane.Probe
	if failed == "" {
		if insts, err = driver.Apply(ctx, rel); err != nil {
			return workflows.RolloutResult{}, classifyDataPlane(fmt.Errorf("starting the release: %w", err))
		}
		wctx, cancel := context.WithTimeout(ctx, timeout+driver.VerdictWait())
		last, err = driver.WaitReady(wctx, rel, func(p dataplane.Probe) { progress.Store(&p.Message) })
		cancel()
		if ctx.Err() != nil {
			return workflows.RolloutResult{}, ctx.Err()
		}
		if !last.Ready {
			failed = "not ready: " + last.Message
			if err != nil && !errors.Is(err, context.DeadlineExceeded) && !strings.Contains(last.Message, err.Error()) {
				failed = "not ready: " + err.Error()
			}
		}
	}
	if failed != "" {
		progress.Store(new(restoringAfter + failed))
		return d.restore(ctx, driver, dep, env, rel, failed)
	}

	url, err := driver.Serve(ctx, rel, insts, d.proxy())
	if err != nil {
		return workflows.RolloutResult{}, err
	}
	d.leaveOtherPlane(ctx, activity.GetLogger(ctx), dep, env)
	replaced, err := driver.Commit(ctx, rel)
	if err != nil {
		return workflows.RolloutResult{}, err
	}
	if !in.RetireLater {
		if err := d.retire(ctx, driver, dep, replaced); err != nil {
			return workflows.RolloutResult{}, err
		}
		replaced = nil
	}
	// The release serves: that is the deployment's outcome. What it replaced goes in RetireReplaced.
	res, err := d.end(ctx, dep, api.DeploymentSucceeded, url, "ready: "+last.Message)
	res.Replaced = replaced
	return res, err
}

// releaseTask records the deployment of a task: nothing starts — its runs do, on its schedule or when asked —
// but the release is fixed, with the configs and secrets it runs with sealed into the deployment, as a service's
// is. It then is the environment's current release of the task.
func (d *Deploys) releaseTask(ctx context.Context, dep store.Deployment, env store.Environment, typ string) (workflows.RolloutResult, error) {
	_, dep, err := d.fixRelease(ctx, dep, env)
	if err != nil {
		return workflows.RolloutResult{}, err
	}
	msg := "released: runs when asked (POST …/environments/" + env.Name + "/runs)"
	if typ == api.ComponentScheduledTask {
		msg = "released: runs on the schedule of " + env.Name
	}
	return d.end(ctx, dep, api.DeploymentSucceeded, "", msg)
}

// fixRelease assembles the deployment's release and records the deployment running with it: the configs it gets,
// sealed into the deployment (those already sealed, on a retry), their hash and the data plane.
func (d *Deploys) fixRelease(ctx context.Context, dep store.Deployment, env store.Environment) (dataplane.Release, store.Deployment, error) {
	b, err := d.Store.GetBuild(ctx, dep.BuildID)
	if err != nil {
		return dataplane.Release{}, dep, err
	}
	rel, hash, err := d.release(ctx, dep, b, env)
	if err != nil {
		return dataplane.Release{}, dep, err
	}
	sealed := dep.ReleaseConfig
	if sealed == nil {
		if sealed, err = d.sealConfig(dep.ID, rel); err != nil {
			return dataplane.Release{}, dep, err
		}
	}
	dep, err = d.Store.UpdateDeployment(ctx, dep.ID, func(x *store.Deployment) error {
		if x.StartedAt == nil {
			now := time.Now().UTC()
			x.StartedAt = &now
		}
		x.Status, x.ConfigHash, x.ReleaseConfig, x.DataPlane = api.DeploymentRunning, hash, sealed, plane(env.DataPlane)
		return nil
	})
	return rel, dep, err
}

// restoringAfter begins the heartbeat of a rollout restoring the previous release; the not-ready
// message follows it.
const restoringAfter = "restoring the previous release after: "

// restore undoes a release that did not get ready so the previous one serves, and records the
// deployment failed with why. A data plane that replaces releases in place needs the previous release
// to go back to; on one that does not (Docker: the old containers never stopped) it goes on without
// it when that cannot be read.
func (d *Deploys) restore(ctx context.Context, driver dataplane.Driver, dep store.Deployment, env store.Environment,
	rel dataplane.Release, failed string) (workflows.RolloutResult, error) {
	prev, err := d.previous(ctx, dep, env)
	if err != nil {
		if driver.ReplacesInPlace() {
			return workflows.RolloutResult{}, err
		}
		activity.GetLogger(ctx).Warn("reading the previous release", "deployment", dep.ID, "error", err)
		prev = nil
	}
	if err := driver.Restore(ctx, rel, prev); err != nil {
		return workflows.RolloutResult{}, classifyDataPlane(fmt.Errorf("restoring the previous release: %w", err))
	}
	msg := failed + "; removed: nothing served before"
	if prev != nil {
		msg = failed + "; rolled back: the previous release " + prev.BuildID + " keeps serving"
	}
	return d.end(ctx, dep, api.DeploymentFailed, "", msg)
}

// classifyDataPlane makes an answer of the data plane that will not change (dataplane.ErrRefused)
// non-retryable.
func classifyDataPlane(err error) error {
	if errors.Is(err, dataplane.ErrRefused) {
		return temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeDataPlaneRefused, nil)
	}
	return err
}

// previous is the release serving in the deployment's environment before it (nil when none): its
// build with the configs it was released with when they were recorded, else the environment's.
func (d *Deploys) previous(ctx context.Context, dep store.Deployment, env store.Environment) (*dataplane.Release, error) {
	cur, err := d.Store.CurrentDeployment(ctx, dep.Project, dep.Component, dep.Environment)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if plane(cur.DataPlane) != plane(env.DataPlane) {
		return nil, nil // it ran on the data plane the environment left: nothing of it to go back to here
	}
	b, err := d.Store.GetBuild(ctx, cur.BuildID)
	if err != nil {
		return nil, err
	}
	rel, _, err := d.release(ctx, cur, b, env)
	if err != nil {
		return nil, err
	}
	return &rel, nil
}

func (d *Deploys) end(ctx context.Context, dep store.Deployment, status, url, msg string) (workflows.RolloutResult, error) {
	_, err := d.Store.UpdateDeployment(ctx, dep.ID, func(x *store.Deployment) error {
		now := time.Now().UTC()
		x.Status, x.URL, x.Message, x.EndedAt = status, url, msg, &now
		return nil
	})
	if err != nil && !errors.Is(err, store.ErrInvalid) {
		return workflows.RolloutResult{}, err
	}
	return workflows.RolloutResult{Status: status, URL: url, Message: msg}, nil
}
