package activities

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"go.temporal.io/sdk/temporal"

	"github.com/slipway-dev/slipway/api"
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
	if d, err = forType(d, in.Type); err != nil {
		return workflows.UpdateSpecResult{}, temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeInvalidDescriptor, err)
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

// webAppPort is the port a web app without a descriptor or an exposed port is taken to listen on: PORT's default.
const webAppPort = 8080

// forType checks that the descriptor d fits a component of type typ and fills in what the type implies when d is
// a default one: a task serves nothing (a default descriptor's endpoint from an exposed port is dropped; a
// written one with endpoints is refused); a web app serves one HTTP endpoint (a default descriptor's is made
// HTTP, on port 8080 when nothing is exposed; a written one must have exactly one, over HTTP).
func forType(d descriptor.Descriptor, typ string) (descriptor.Descriptor, error) {
	switch {
	case api.IsTask(typ):
		if d.Default {
			d.Endpoints = nil
			return d, nil
		}
		if len(d.Endpoints) > 0 {
			return d, fmt.Errorf("%s: endpoints: a %s serves no endpoints (it runs to an end): remove them, or make the component a service", descriptor.Path, typ)
		}
	case typ == api.ComponentWebApp:
		if d.Default {
			port := webAppPort
			if len(d.Endpoints) == 1 && d.Endpoints[0].Type == descriptor.TCP {
				port = d.Endpoints[0].Port
			}
			d.Endpoints = []descriptor.Endpoint{{Name: "web", Port: port, Type: descriptor.REST}}
			return d, nil
		}
		if len(d.Endpoints) != 1 || !httpBorne(d.Endpoints[0].Type) {
			return d, fmt.Errorf("%s: endpoints: a web-app serves exactly one HTTP endpoint (REST, GraphQL or WS), this one declares %d%s",
				descriptor.Path, len(d.Endpoints), typesOf(d.Endpoints))
		}
	}
	return d, nil
}

func httpBorne(t string) bool {
	return t == descriptor.REST || t == descriptor.GraphQL || t == descriptor.WS
}

// typesOf lists the endpoints' types for a message: "" for none, else " (TCP, gRPC)".
func typesOf(es []descriptor.Endpoint) string {
	if len(es) == 0 {
		return ""
	}
	ts := make([]string, len(es))
	for i, e := range es {
		ts[i] = e.Type
	}
	return " (" + strings.Join(ts, ", ") + ")"
}

// specError classifies a descriptor error: an invalid descriptor or spec will not get better on retry.
func specError(err error) error {
	if errors.Is(err, descriptor.ErrInvalid) {
		return temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeInvalidDescriptor, err)
	}
	return fmt.Errorf("reading the component descriptor: %w", err)
}
