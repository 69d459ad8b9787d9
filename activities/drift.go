package activities

import (
	"context"

	"github.com/slipway-dev/slipway/dataplane"
	"github.com/slipway-dev/slipway/store"
)

// Drift reports what was changed by hand on the data plane of env since component's current release
// was deployed there; nil when the data plane does not tell (docker).
func (d *Deploys) Drift(ctx context.Context, env store.Environment, component string) (*dataplane.Drift, error) {
	if env.DataPlane != store.DataPlaneKubernetes {
		return nil, nil
	}
	drv, err := d.cluster(ctx, env, 0)
	if err != nil {
		return nil, err
	}
	drift, err := drv.Drift(ctx, env.Project, component, env.Name)
	if err != nil {
		return nil, err
	}
	return &drift, nil
}
