package stack

import (
	"context"
	"log/slog"
	"path/filepath"

	"github.com/slipway-dev/slipway/config"
	"github.com/slipway-dev/slipway/secretbox"
)

// StartServer starts `slipway server`: the API against an external Temporal and metadata store. When
// the store holds no token yet it creates an admin token in cfg.DataDir. It returns the API's URL.
func StartServer(ctx context.Context, cfg config.Config, log *slog.Logger) (*Process, string, error) {
	proc := newProcess(log)
	p := &proc
	cfg, err := cfg.Resolve()
	if err != nil {
		return p, "", err
	}
	url, err := p.startServer(ctx, cfg)
	return p, url, p.stopOnError(err)
}

func (p *Process) startServer(ctx context.Context, cfg config.Config) (string, error) {
	keys, err := secretbox.LoadKeyring(cfg.KEKFile)
	if err != nil {
		return "", err
	}
	p.reloadKeysPeriodically(keys)
	st, err := p.openStore(ctx, cfg.DB, keys)
	if err != nil {
		return "", err
	}
	path := filepath.Join(cfg.DataDir, AdminTokenFile)
	if minted, err := ensureAdminToken(ctx, st, path, true); err != nil {
		return "", err
	} else if minted {
		p.log.Info("created the first admin token", "file", path)
	}
	c, err := p.dialTemporal(ctx, cfg.Temporal, keys)
	if err != nil {
		return "", err
	}
	_, url, err := p.serveAPI(cfg.HTTP, st, keys, c, cfg.Registry.Address, cfg.Temporal.Namespace)
	return url, err
}

// StartWorker starts `slipway worker`: a Temporal worker against an external Temporal and metadata store.
func StartWorker(ctx context.Context, cfg config.Config, log *slog.Logger) (*Process, error) {
	proc := newProcess(log)
	p := &proc
	cfg, err := cfg.Resolve()
	if err != nil {
		return p, err
	}
	return p, p.stopOnError(p.startWorkerProcess(ctx, cfg))
}

func (p *Process) startWorkerProcess(ctx context.Context, cfg config.Config) error {
	keys, err := secretbox.LoadKeyring(cfg.KEKFile)
	if err != nil {
		return err
	}
	p.reloadKeysPeriodically(keys)
	st, err := p.openStore(ctx, cfg.DB, keys)
	if err != nil {
		return err
	}
	c, err := p.dialTemporal(ctx, cfg.Temporal, keys)
	if err != nil {
		return err
	}
	bkAddr := cfg.Build.BuildkitAddress
	if bkAddr == "" {
		bkAddr = defaultBuildkitAddress
	}
	b, err := builds(cfg, st, keys, bkAddr, cfg.Registry.Address, cfg.Registry.Insecure, false, nil)
	if err != nil {
		return err
	}
	edge, err := p.startWorker(ctx, cfg, c, st, keys, b, cfg.Registry.Address, nil)
	if err == nil && edge != "" {
		p.log.Info("the edge serves public releases", "url", edge)
	}
	return err
}
