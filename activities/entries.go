package activities

import (
	"context"
	"errors"
	"strings"

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

// Switch opens the entry (at the address the current release was served at, if any) and switches it to
// the new instances' addrs, draining the old ones for up to DrainTimeout.
func (e routerEntry) Switch(ctx context.Context, r dataplane.Release, addrs []string) (string, error) {
	d := e.d
	key := entry.Key{Project: r.Project, Component: r.Component, Environment: r.Environment}
	addr := ""
	if cur, err := d.Store.CurrentDeployment(ctx, r.Project, r.Component, r.Environment); err == nil {
		addr = strings.TrimPrefix(cur.URL, "http://")
	}
	url, err := d.Router.Open(key, addr)
	if err != nil && addr != "" {
		url, err = d.Router.Open(key, "") // the recorded port is taken: a new one
	}
	if err != nil {
		return "", err
	}
	dctx, cancel := context.WithTimeout(ctx, d.drainTimeout())
	defer cancel()
	if err := d.Router.Switch(dctx, key, addrs); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return "", err
	}
	return url, nil
}

// Reattach points every entry back at the release recorded as serving it, after a restart: the
// containers kept running, the proxy did not.
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
		if _, err := d.Router.Open(key, strings.TrimPrefix(dep.URL, "http://")); err != nil {
			errs = append(errs, err)
			continue
		}
		errs = append(errs, d.Router.Switch(ctx, key, addrs))
	}
	return errors.Join(errs...)
}
