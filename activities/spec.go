package activities

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sort"

	"go.temporal.io/sdk/temporal"

	"github.com/slipway-dev/slipway/descriptor"
	"github.com/slipway-dev/slipway/imagepush"
	"github.com/slipway-dev/slipway/store"
	"github.com/slipway-dev/slipway/workflows"
)

// ErrTypeInvalidDescriptor means the repository's component descriptor, or an API spec it names, is
// invalid; the message names the file, line and field.
const ErrTypeInvalidDescriptor = "InvalidDescriptor"

// UpdateSpec reads the component descriptor at the build's commit and the API specs it names,
// validates them and stores them with the build. A repository without a descriptor gets a default
// one: an endpoint on the image's lowest exposed port and no health check beyond the process
// running; the build log says so.
func (b *Builds) UpdateSpec(ctx context.Context, in workflows.UpdateSpecInput) (workflows.UpdateSpecResult, error) {
	src := filepath.Join(in.Workspace, "src")
	d, found, err := descriptor.Load(src)
	if err != nil {
		return workflows.UpdateSpecResult{}, specError(err)
	}
	if !found {
		cfg, err := imagepush.ImageConfig(in.Layout)
		if err != nil {
			return workflows.UpdateSpecResult{}, err
		}
		var exposed []string
		for p := range cfg.Config.ExposedPorts {
			exposed = append(exposed, p)
		}
		sort.Strings(exposed)
		d = descriptor.Default(exposed)
		b.appendLog(ctx, in.BuildID, fmt.Sprintf("no %s in the repository: using a default descriptor (exposed ports %v; no health check beyond the process running)", descriptor.Path, exposed))
	}
	specs, err := descriptor.Specs(src, d)
	if err != nil {
		return workflows.UpdateSpecResult{}, specError(err)
	}
	if err := b.Store.PutBuildSpec(ctx, in.BuildID, d, specs); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return workflows.UpdateSpecResult{}, temporal.NewNonRetryableApplicationError("storing the spec of build "+in.BuildID, ErrTypeBuildNotFound, err)
		}
		return workflows.UpdateSpecResult{}, fmt.Errorf("storing the spec: %w", err)
	}
	for _, e := range d.Endpoints {
		b.appendLog(ctx, in.BuildID, fmt.Sprintf("endpoint %s: %s port %d %s", e.Name, e.Type, e.Port, e.BasePath))
	}
	for _, s := range specs {
		b.appendLog(ctx, in.BuildID, fmt.Sprintf("API spec of %s: %s (%s)", s.Endpoint, s.Path, s.Format))
	}
	return workflows.UpdateSpecResult{Endpoints: len(d.Endpoints), Specs: len(specs), Default: !found}, nil
}

// specError classifies a descriptor error: an invalid descriptor or spec will not get better on retry.
func specError(err error) error {
	if errors.Is(err, descriptor.ErrInvalid) {
		return temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeInvalidDescriptor, err)
	}
	return fmt.Errorf("reading the component descriptor: %w", err)
}
