package activities

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/log"

	"github.com/slipway-dev/slipway/dataplane"
	"github.com/slipway-dev/slipway/entry"
	"github.com/slipway-dev/slipway/store"
	"github.com/slipway-dev/slipway/workflows"
)

// RetireReplaced stops and removes the releases of the builds a succeeded deployment replaced, each with
// DrainTimeout to finish what it serves (the entry sends them nothing any more). It runs beside the next
// deployments of the environment, so it never removes the build serving there now, and it does nothing once
// the environment has moved to another data plane. Repeating it removes what is left.
func (d *Deploys) RetireReplaced(ctx context.Context, in workflows.RetireReplacedInput) error {
	dep, err := d.Store.GetDeployment(ctx, in.DeploymentID)
	if err != nil {
		return err
	}
	env, err := d.environment(ctx, dep.Project, dep.Environment)
	if err != nil {
		return err
	}
	if plane(dep.DataPlane) != plane(env.DataPlane) {
		return nil
	}
	driver, err := d.DriverFor(ctx, env, 0)
	if err != nil {
		return err
	}
	builds := slices.Clone(in.Builds)
	if cur, err := d.Store.CurrentDeployment(ctx, dep.Project, dep.Component, dep.Environment); err == nil {
		builds = slices.DeleteFunc(builds, func(b string) bool { return b == cur.BuildID })
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	stop := heartbeatEvery(heartbeatInterval, func() { activity.RecordHeartbeat(ctx, "retiring what "+dep.BuildID+" replaced") })
	defer stop()
	return d.retire(ctx, driver, dep, builds)
}

// retire removes the releases of builds from the deployment's component and environment.
func (d *Deploys) retire(ctx context.Context, driver dataplane.Driver, dep store.Deployment, builds []string) error {
	for _, id := range builds {
		if id == dep.BuildID {
			continue
		}
		if err := driver.Remove(ctx, dep.Project, dep.Component, dep.Environment, id, d.drainTimeout()); err != nil {
			return fmt.Errorf("removing the previous release %s: %w", id, err)
		}
	}
	return nil
}

// leaveOtherPlane stops the release an environment ran on the worker's Docker Engine before it moved to
// another data plane, once the first release there serves: its containers (and the values in them)
// go, and its entry serves nothing. A release that ran on a cluster the environment left is not
// reachable any more (its kubeconfig went with the binding); it is logged.
func (d *Deploys) leaveOtherPlane(ctx context.Context, log log.Logger, dep store.Deployment, env store.Environment) {
	cur, err := d.Store.CurrentDeployment(ctx, dep.Project, dep.Component, dep.Environment)
	if err != nil || plane(cur.DataPlane) == plane(env.DataPlane) {
		return
	}
	if plane(cur.DataPlane) != store.DataPlaneDocker || d.Driver == nil {
		log.Warn("the release of the data plane the environment left is not removed: remove it by hand",
			"deployment", cur.ID, "dataPlane", cur.DataPlane)
		return
	}
	if err := d.Driver.Remove(ctx, cur.Project, cur.Component, cur.Environment, cur.BuildID, d.drainTimeout()); err != nil {
		log.Warn("removing the Docker release the environment left", "deployment", cur.ID, "error", err)
	}
	key := entry.Key{Project: cur.Project, Component: cur.Component, Environment: cur.Environment}
	if d.Router != nil && len(d.Router.Backends(key)) > 0 {
		if _, err := d.Router.Switch(ctx, key, nil); err != nil {
			log.Warn("emptying the entry the environment left", "deployment", cur.ID, "error", err)
		}
	}
}
