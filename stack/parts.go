package stack

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/moby/moby/api/types/registry"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/slipway-dev/slipway/activities"
	"github.com/slipway-dev/slipway/api"
	"github.com/slipway-dev/slipway/config"
	"github.com/slipway-dev/slipway/dataplane"
	"github.com/slipway-dev/slipway/dataplane/docker"
	"github.com/slipway-dev/slipway/dataplane/kubernetes"
	"github.com/slipway-dev/slipway/delivery"
	"github.com/slipway-dev/slipway/entry"
	"github.com/slipway-dev/slipway/ociregistry"
	"github.com/slipway-dev/slipway/payloadcodec"
	"github.com/slipway-dev/slipway/secretbox"
	"github.com/slipway-dev/slipway/server"
	"github.com/slipway-dev/slipway/store"
	"github.com/slipway-dev/slipway/worker"
	"github.com/slipway-dev/slipway/workflows"
)

// openStore opens the metadata store and checks that keys holds every KEK its values are wrapped
// with, so a lost or wrong key file stops the start instead of failing requests later.
func (p *Process) openStore(ctx context.Context, dsn string, keys *secretbox.Keyring) (*store.Store, error) {
	st, err := store.Open(ctx, dsn)
	if err != nil {
		return nil, err
	}
	p.onStop("store", func(context.Context) error { return st.Close() })
	ids, err := st.KEKIDs(ctx)
	if err != nil {
		return nil, err
	}
	if err := keys.Require(ids); err != nil {
		return nil, err
	}
	return st, nil
}

// notifyEvery is how often the notifier reads the change feed.
const notifyEvery = 500 * time.Millisecond

// startWorker starts the worker and, when it serves the docker data plane, its edge, and returns the edge's
// base URL (scheme://host:port; "" without one). pull holds the credentials the data plane pulls images from
// registry with; nil means anonymous pulls.
func (p *Process) startWorker(ctx context.Context, cfg config.Config, c client.Client, st *store.Store, keys *secretbox.Keyring, b *activities.Builds, registry string, pull *ociregistry.Credentials) (string, error) {
	deploys, edge, err := p.deploys(ctx, cfg, c, st, keys, registry, pull)
	if err != nil {
		return "", err
	}
	w := worker.New(c, worker.Deps{Store: st, Keyring: keys, Builds: b, Deploys: deploys, DataPlanes: cfg.Deploy.DataPlanes,
		Promotions: &activities.Promotions{Store: st, Temporal: c}, Notifications: &activities.Notifications{Store: st, Keyring: keys}})
	if err := w.Start(); err != nil {
		return "", fmt.Errorf("starting worker: %w", err)
	}
	p.onStop("worker", func(context.Context) error { w.Stop(); return nil })
	// The notifier follows the change feed beside the worker: every worker may, each delivery is made once.
	nctx, stopNotifier := context.WithCancel(context.WithoutCancel(ctx))
	notifier := &delivery.Notifications{Store: st, Temporal: c, Keys: keys, Log: p.log}
	done := make(chan struct{})
	go func() { defer close(done); notifier.Follow(nctx, notifyEvery) }()
	p.onStop("notifier", func(context.Context) error { stopNotifier(); <-done; return nil })
	return edge, nil
}

// deploys assembles the deploy activities for the data planes cfg.Deploy.DataPlanes names: for docker the
// edge (which must listen), the Docker Engine when one answers (else its deploys fail, saying so, and builds go
// on) and the edge's entries, pointed back at the releases recorded as serving; for kubernetes the clusters'
// clients. Both data planes label what they make with the install's ID; without one, neither is there. It
// returns the edge's base URL too ("" when the worker does not serve docker).
func (p *Process) deploys(ctx context.Context, cfg config.Config, c client.Client, st *store.Store, keys *secretbox.Keyring, registryHost string, pull *ociregistry.Credentials) (*activities.Deploys, string, error) {
	d := &activities.Deploys{Store: st, Keyring: keys, Temporal: c, Registry: registryHost, ReadyTimeout: cfg.Deploy.ReadyTimeout}
	serves := func(plane string) bool { return slices.Contains(cfg.Deploy.DataPlanes, plane) }
	var edge string
	if serves(workflows.DataPlaneDocker) {
		router := &entry.Router{Addr: cfg.Edge.Address, Domain: cfg.Edge.Domain, TLSCert: cfg.Edge.TLSCert, TLSKey: cfg.Edge.TLSKey,
			Logger: p.log.With("part", "edge")}
		addr, err := router.Listen()
		if err != nil {
			return nil, "", err
		}
		p.onStop("edge", router.Close)
		d.Router = router
		edge = "http://" + addr
		if cfg.Edge.TLSCert != "" {
			edge = "https://" + addr
		}
	}
	if len(cfg.Deploy.DataPlanes) == 0 {
		return d, edge, nil
	}
	install, err := st.InstallID(ctx)
	if err != nil {
		p.log.Warn("no data plane: the install's ID cannot be read, and without it a rollout could touch another install's containers or cluster objects", "err", err)
		return d, edge, nil
	}
	if serves(workflows.DataPlaneKubernetes) {
		d.Kubernetes = &kubernetes.Clients{Install: install, Domain: cfg.Edge.Domain, IngressClass: cfg.Deploy.IngressClass}
	}
	if !serves(workflows.DataPlaneDocker) {
		return d, edge, nil
	}
	dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	drv, err := docker.New(dctx)
	if err != nil {
		p.log.Warn("no Docker data plane: deployments to it will fail until a Docker Engine answers and slipway restarts", "err", err)
		return d, edge, nil
	}
	p.onStop("docker client", func(context.Context) error { return drv.Client.Close() })
	drv.Install = install
	if pull != nil {
		drv.Registries = map[string]registry.AuthConfig{registryHost: {Username: pull.Username, Password: pull.Password}}
	}
	d.Driver = drv
	current, err := st.CurrentDeployments(ctx)
	if err == nil {
		err = d.Reattach(ctx, current)
	}
	if err != nil {
		p.log.Warn("pointing entries back at their releases", "err", err)
	}
	return d, edge, nil
}

// serveAPI serves the HTTP API and returns it and its base URL.
// namespace is the Temporal namespace, which the console's links into the Temporal UI name.
func (p *Process) serveAPI(cfg config.HTTP, st *store.Store, keys *secretbox.Keyring, c client.Client, registry, namespace string) (*server.Server, string, error) {
	srv := server.New(server.Deps{
		Store:    st,
		Keys:     keys,
		Temporal: c,
		Registry: registry,
		Rewrap:   rewrapViaTemporal(c, keys),
		// The API reads drift on the clusters itself, so it shows it in a process without a worker too;
		// drift writes nothing, so its drivers need no install ID.
		Drift:    driftForAPI((&activities.Deploys{Store: st, Keyring: keys, Kubernetes: &kubernetes.Clients{}}).Drift),
		Webhooks: server.WebhookConfig{PublicURL: cfg.PublicURL, GitHubAPI: cfg.GitHubAPI, GitHubToken: cfg.GitHubToken},
		Logger:   p.log,

		TemporalNamespace: namespace,
		PayloadCodec:      payloadcodec.Codec{Keys: keys},
	})
	addr, err := p.serveHTTP("api", cfg.Address, srv.Handler(), cfg.TLSCert, cfg.TLSKey, srv.EndStreams)
	if err != nil {
		return nil, "", err
	}
	return srv, baseURL(cfg, addr), nil
}

// driftForAPI adapts a data plane's drift reader (activities.Deploys.Drift) to server.Deps.Drift: the same
// answer as an api.Drift, nil staying nil.
func driftForAPI(read func(ctx context.Context, env store.Environment, component string) (*dataplane.Drift, error)) func(ctx context.Context, env store.Environment, component string) (*api.Drift, error) {
	return func(ctx context.Context, env store.Environment, component string) (*api.Drift, error) {
		d, err := read(ctx, env, component)
		if err != nil || d == nil {
			return nil, err
		}
		return &api.Drift{Detected: d.Detected, Message: d.Message}, nil
	}
}

// baseURL is the URL of what serves at addr with cfg's TLS pair.
func baseURL(cfg config.HTTP, addr string) string {
	if cfg.TLSCert != "" {
		return "https://" + addr
	}
	return "http://" + addr
}

// rewrapViaTemporal runs the re-wrap after a KEK rotation as the RotateKeys workflow, so it is
// durable and seen in the Temporal UI, and waits for its result.
func rewrapViaTemporal(c client.Client, keys *secretbox.Keyring) func(context.Context) (int, error) {
	return func(ctx context.Context) (int, error) {
		kek := keys.ActiveID()
		run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
			ID:                       workflows.RotateKeysWorkflowID(kek),
			TaskQueue:                workflows.TaskQueue,
			WorkflowIDConflictPolicy: enums.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		}, workflows.RotateKeys, workflows.RotateKeysInput{KEKID: kek})
		if err != nil {
			return 0, fmt.Errorf("starting key rotation to %s: %w", kek, err)
		}
		var res workflows.RotateKeysResult
		if err := run.Get(ctx, &res); err != nil {
			return 0, fmt.Errorf("key rotation to %s: %w", kek, err)
		}
		return res.Rewrapped, nil
	}
}

// keyReloadInterval is how often a split process re-reads its key file, so a KEK added by an
// operator and distributed to every process becomes the one new values are sealed with.
const keyReloadInterval = 30 * time.Second

// reloadKeysPeriodically re-reads the key file every keyReloadInterval until the process stops.
func (p *Process) reloadKeysPeriodically(keys *secretbox.Keyring) {
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(keyReloadInterval)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				if err := keys.Reload(); err != nil {
					p.log.Warn("re-reading the key file", "file", keys.Path(), "err", err)
				}
			}
		}
	}()
	p.onStop("key reloader", func(context.Context) error { close(done); return nil })
}
