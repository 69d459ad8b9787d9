package stack

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"

	"go.temporal.io/sdk/client"

	"github.com/slipway-dev/slipway/baseimages"
	"github.com/slipway-dev/slipway/config"
	"github.com/slipway-dev/slipway/localtemporal"
	"github.com/slipway-dev/slipway/ociregistry"
	"github.com/slipway-dev/slipway/secretbox"
	"github.com/slipway-dev/slipway/server"
	"github.com/slipway-dev/slipway/store"
	"github.com/slipway-dev/slipway/workflows"
)

// Endpoints are the addresses a running `slipway dev` serves, as written to endpoints.json.
type Endpoints struct {
	// HTTP is the API's base URL (http:// or https://).
	HTTP string `json:"http"`
	// Temporal is the host:port of the Temporal frontend.
	Temporal string `json:"temporal"`
	// UI is the Temporal UI's base URL; "" when no UI runs.
	UI string `json:"ui"`
	// Registry is the host:port of the OCI registry, the prefix of every image reference.
	Registry string `json:"registry"`
	// Edge is the base URL (http:// or https://) of the edge, where public releases on Docker are served
	// by host name, <component>.<environment>.<project>.<domain>.
	Edge string `json:"edge"`
}

// EndpointsFile and AdminTokenFile are the names of the files `slipway dev` writes in its data dir.
const (
	EndpointsFile  = "endpoints.json"
	AdminTokenFile = "admin-token"
	// RegistryCredentialsFile (0600) holds the embedded registry's push credentials, made on first
	// start: pushes and deletes need them, reads do not.
	RegistryCredentialsFile = "registry-push.json"
)

// Dev is a running `slipway dev`: Temporal with its UI, the registry, the worker and the API in one
// process, on the files of one data dir.
type Dev struct {
	Process
	// Endpoints are the addresses actually bound.
	Endpoints Endpoints
	// Store is the metadata store.
	Store *store.Store
	// Temporal is a client of the embedded Temporal; it encrypts payloads with Keys.
	Temporal client.Client
	// Keys is the keyring that seals config values and Temporal payloads.
	Keys *secretbox.Keyring
}

// StartDev starts every part on cfg's data dir and writes endpoints.json. On error nothing is left
// running.
func StartDev(ctx context.Context, cfg config.Config, log *slog.Logger) (*Dev, error) {
	d := &Dev{Process: newProcess(log)}
	cfg, err := cfg.Resolve()
	if err != nil {
		return d, err
	}
	return d, d.stopOnError(d.start(ctx, cfg))
}

func (d *Dev) start(ctx context.Context, cfg config.Config) error {
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("creating data dir: %w", err)
	}
	if err := d.lockDataDir(cfg.DataDir); err != nil {
		return err
	}
	keys, err := secretbox.LoadOrCreateKeyring(cfg.KEKFile)
	d.Keys = keys
	if err != nil {
		return err
	}
	if d.Store, err = d.openStore(ctx, cfg.DB, keys); err != nil {
		return err
	}
	if _, err := ensureAdminToken(ctx, d.Store, filepath.Join(cfg.DataDir, AdminTokenFile), false); err != nil {
		return err
	}

	reg, err := ociregistry.Open(filepath.Join(cfg.DataDir, "registry"), d.log)
	if err != nil {
		return err
	}
	d.onStop("registry journal", func(context.Context) error { return reg.Close() })
	push, err := ociregistry.LoadOrCreateCredentials(filepath.Join(cfg.DataDir, RegistryCredentialsFile))
	if err != nil {
		return err
	}
	if d.Endpoints.Registry, err = d.serveHTTP("registry", cfg.Registry.Address, ociregistry.Guard(push, cfg.Registry.AnonymousRead, reg), "", "", nil); err != nil {
		return err
	}
	seedBusybox(ctx, d.log, d.Endpoints.Registry, baseimages.BusyboxBinary, push.Keychain(d.Endpoints.Registry))

	ts, err := localtemporal.Start(localtemporal.Config{
		DBPath:           filepath.Join(cfg.DataDir, "temporal.db"),
		Address:          cfg.Temporal.Address,
		UIAddress:        uiBackend(cfg.Temporal.UIAddress),
		UICodecEndpoint:  server.UICodecPath,
		Namespaces:       []string{cfg.Temporal.Namespace},
		SearchAttributes: workflows.SearchAttributes(),
		Logger:           d.log,
		LogLevel:         slog.LevelWarn,
	})
	if err != nil {
		return err
	}
	d.onStop("temporal", func(context.Context) error { ts.Stop(); return nil })
	d.Endpoints.Temporal = ts.Address()
	tcfg := cfg.Temporal
	tcfg.Address = ts.Address()
	if d.Temporal, err = d.dialTemporal(ctx, tcfg, keys); err != nil {
		return err
	}
	bkAddr := cfg.Build.BuildkitAddress
	if bkAddr == "" {
		if bkAddr, err = d.startBuildkitd(ctx, cfg, d.Endpoints.Registry); err != nil {
			return err
		}
	}
	localCache := cfg.Build.BuildkitAddress == "" && !cfg.Build.RegistryCache
	b, err := builds(cfg, d.Store, keys, bkAddr, d.Endpoints.Registry, true, localCache, &push)
	if err != nil {
		return err
	}
	if d.Endpoints.Edge, err = d.startWorker(ctx, cfg, d.Temporal, d.Store, keys, b, d.Endpoints.Registry, &push); err != nil {
		return err
	}
	api, apiURL, err := d.serveAPI(cfg.HTTP, d.Store, keys, d.Temporal, d.Endpoints.Registry, cfg.Temporal.Namespace)
	if err != nil {
		return err
	}
	d.Endpoints.HTTP = apiURL
	if ts.UIAddress() != "" {
		// The UI's own server listens on a loopback port of its own; users reach it only through
		// slipway's sign-in, at the address asked for.
		ui := api.TemporalUI(&url.URL{Scheme: "http", Host: ts.UIAddress()})
		addr, err := d.serveHTTP("temporal ui", cfg.Temporal.UIAddress, ui, cfg.HTTP.TLSCert, cfg.HTTP.TLSKey, nil)
		if err != nil {
			return err
		}
		d.Endpoints.UI = baseURL(cfg.HTTP, addr)
		api.LinkTemporalUI(d.Endpoints.UI)
	}
	return writeJSON(filepath.Join(cfg.DataDir, EndpointsFile), d.Endpoints)
}

// uiBackend is where the Temporal UI's own server listens when the UI is asked for at address: a
// free loopback port, behind the sign-in slipway serves at address. "" when no UI is asked for.
func uiBackend(address string) string {
	if address == "" {
		return ""
	}
	return "127.0.0.1:0"
}

// writeJSON writes v to path atomically (temporary file, then rename).
func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}
