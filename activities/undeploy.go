package activities

import (
	"context"
	"fmt"
	"slices"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/slipway-dev/slipway/dataplane"
	"github.com/slipway-dev/slipway/entry"
	"github.com/slipway-dev/slipway/workflows"
)

// Undeploy removes what the project's component (every component when in.Component is "") runs in
// every environment (on in.DataPlane only, when set): each release of it the data plane lists, and the release recorded as serving,
// go as a failed one would with nothing to restore (its containers, or its Deployment and Secrets),
// and its entry stops. Run again it finds nothing and removes nothing.
func (d *Deploys) Undeploy(ctx context.Context, in workflows.UndeployInput) (workflows.UndeployResult, error) {
	current, err := d.Store.CurrentDeployments(ctx)
	if err != nil {
		return workflows.UndeployResult{}, err
	}
	var res workflows.UndeployResult
	for _, dep := range current {
		if dep.Project != in.Project || in.Component != "" && dep.Component != in.Component {
			continue
		}
		env, err := d.environment(ctx, dep.Project, dep.Environment)
		if err != nil {
			return res, err
		}
		if in.DataPlane != "" && plane(env.DataPlane) != plane(in.DataPlane) {
			continue // another activity, on a worker serving that plane, sees to it
		}
		activity.RecordHeartbeat(ctx, "undeploying "+dep.Component+" from "+dep.Environment)
		driver, err := d.DriverFor(ctx, env, 0)
		if err != nil {
			return res, err
		}
		insts, err := driver.Describe(ctx, dep.Project, dep.Component, dep.Environment)
		if err != nil {
			return res, classifyDataPlane(fmt.Errorf("listing what %s runs in %s: %w", dep.Component, dep.Environment, err))
		}
		builds := []string{dep.BuildID}
		for _, i := range insts {
			if !slices.Contains(builds, i.BuildID) {
				builds = append(builds, i.BuildID)
			}
		}
		for _, b := range builds {
			rel := dataplane.Release{Project: dep.Project, Component: dep.Component, Environment: dep.Environment, BuildID: b}
			if err := driver.Restore(ctx, rel, nil); err != nil {
				return res, classifyDataPlane(fmt.Errorf("removing %s of %s from %s: %w", b, dep.Component, dep.Environment, err))
			}
			res.Removed++
		}
		if d.Router != nil {
			key := entry.Key{Project: dep.Project, Component: dep.Component, Environment: dep.Environment}
			sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			err := d.Router.Remove(sctx, key)
			cancel()
			if err != nil {
				activity.GetLogger(ctx).Warn("stopping the entry", "entry", key.String(), "error", err)
			}
		}
	}
	return res, nil
}
