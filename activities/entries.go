package activities

import (
	"context"
	"errors"

	"github.com/slipway-dev/slipway/dataplane"
	"github.com/slipway-dev/slipway/entry"
	"github.com/slipway-dev/slipway/store"
)

// proxy is the Router as the entry through which a data plane that routes nothing itself (Docker) is
// served; nil when there is no Router.
func (d *Deploys) proxy() dataplane.Entry {
	if d.Router == nil {
		return nil
	}
	return routerEntry{d}
}

// routerEntry is the Router of Deploys as a dataplane.Entry.
type routerEntry struct{ d *Deploys }

// Switch switches the entry of the release's component in its environment (on the edge, opening it if
// need be) to the new instances' addrs, draining the old ones for up to DrainTimeout, and returns its URL.
func (e routerEntry) Switch(ctx context.Context, r dataplane.Release, addrs []string) (string, error) {
	d := e.d
	key := entry.Key{Project: r.Project, Component: r.Component, Environment: r.Environment}
	dctx, cancel := context.WithTimeout(ctx, d.drainTimeout())
	defer cancel()
	url, err := d.Router.Switch(dctx, key, addrs)
	if err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return "", err
	}
	return url, nil
}

// Close closes the entry of the release's component in its environment, letting the requests under way
// finish for up to DrainTimeout.
func (e routerEntry) Close(ctx context.Context, r dataplane.Release) error {
	dctx, cancel := context.WithTimeout(ctx, e.d.drainTimeout())
	defer cancel()
	err := e.d.Router.Remove(dctx, entry.Key{Project: r.Project, Component: r.Component, Environment: r.Environment})
	if err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return nil
}

// Reattach points every entry back at the release recorded as serving it through the edge, after a
// restart: the containers kept running, the edge did not. The URL recorded stays what it was: an edge
// that listens on another port or under another domain than before serves it at another one.
func (d *Deploys) Reattach(ctx context.Context, current []store.Deployment) error {
	if d.Driver == nil {
		return nil
	}
	var errs []error
	for _, dep := range current {
		if dep.URL == "" || plane(dep.DataPlane) != store.DataPlaneDocker {
			continue // nothing served, or served by its cluster rather than by an entry
		}
		insts, err := d.Driver.Describe(ctx, dep.Project, dep.Component, dep.Environment)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		var addrs []string
		for _, i := range insts {
			if i.BuildID == dep.BuildID && i.Address != "" {
				addrs = append(addrs, i.Address)
			}
		}
		key := entry.Key{Project: dep.Project, Component: dep.Component, Environment: dep.Environment}
		_, err = d.Router.Switch(ctx, key, addrs)
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
