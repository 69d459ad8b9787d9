package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/slipway-dev/slipway/buildkit"
	"github.com/slipway-dev/slipway/config"
	"github.com/slipway-dev/slipway/stack"
	"github.com/slipway-dev/slipway/workflows"
)

// stopTimeout bounds a graceful stop; every part gets the rest of it.
const stopTimeout = 10 * time.Second

// checkAndLog returns the first failed check of a process verb's parsed flags, or its logger.
func (r *runner) checkAndLog(level string, checks ...error) (*slog.Logger, error) {
	for _, err := range checks {
		if err != nil {
			return nil, err
		}
	}
	return r.logger(level)
}

func (r *runner) logger(level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	return slog.New(slog.NewTextHandler(r.stderr, &slog.HandlerOptions{Level: l})), nil
}

// temporalFlags adds the flags of an external Temporal connection to fs.
func temporalFlags(fs *pflag.FlagSet, t *config.Temporal) {
	fs.StringVar(&t.Address, "temporal-address", "127.0.0.1:7233", "Temporal frontend host:port")
	fs.StringVar(&t.Namespace, "namespace", "default", "Temporal namespace")
	fs.BoolVar(&t.TLS.Enabled, "temporal-tls", false, "connect to Temporal over TLS (system roots unless --temporal-ca)")
	fs.StringVar(&t.TLS.CA, "temporal-ca", "", "PEM file of CAs trusted for Temporal's certificate")
	fs.StringVar(&t.TLS.Cert, "temporal-cert", "", "PEM client certificate for mTLS to Temporal")
	fs.StringVar(&t.TLS.Key, "temporal-key", "", "PEM client key for mTLS to Temporal")
	fs.StringVar(&t.TLS.ServerName, "temporal-server-name", "", "name expected in Temporal's certificate (default: host of --temporal-address)")
}

// scanFlags are the options of the scanner a worker runs.
func scanFlags(fs *pflag.FlagSet, s *config.Scan) {
	fs.StringVar(&s.TrivyBinary, "trivy", "", "trivy to scan with (default: bin/trivy beside slipway, ./bin/trivy or on PATH)")
	fs.StringVar(&s.DBRepository, "trivy-db-repository", "", "OCI repositories of Trivy's vulnerability database, comma-separated, tried in order (default: Trivy's own, then the offline mirror: mirror.gcr.io/aquasec/trivy-db:2,ghcr.io/aquasecurity/trivy-db:2,<registry>/trivy/db:2)")
	fs.StringVar(&s.DBDir, "trivy-db-dir", "", "directory holding trivy.db and metadata.json, used instead of --trivy-db-repository")
}

// sourceFlags are the base images of builds from source a worker runs.
func sourceFlags(fs *pflag.FlagSet, b *config.Build) {
	fs.StringToStringVar(&b.SourceImages, "source-image", nil, "base image of builds from source, ROLE=IMAGE (roles go, go-runtime, node, python, static; repeatable; default: the official images)")
}

// deployFlags are the options of the rollouts a worker runs and of the edge it serves public releases on
// Docker through.
func deployFlags(fs *pflag.FlagSet, d *config.Deploy, e *config.Edge) {
	fs.DurationVar(&d.ReadyTimeout, "ready-timeout", 2*time.Minute, "how long a new release may take to get ready before its rollout gives up")
	fs.StringVar(&d.IngressClass, "ingress-class", "", "ingressClassName of the Ingresses of public releases on Kubernetes (default: the cluster's default class)")
	fs.StringVar(&e.Address, "edge", "127.0.0.1:8000", "edge listen address: public releases on Docker are served there by host name (port 0 picks one)")
	fs.StringVar(&e.Domain, "edge-domain", "", "domain public releases are named under, <component>.<environment>.<project>.<domain>, on the edge and in Kubernetes Ingresses (default localhost; set, Kubernetes deployments report their Ingress's URL)")
	fs.StringVar(&e.TLSCert, "edge-tls-cert", "", "PEM certificate: serve the edge over HTTPS (for the names under --edge-domain, a wildcard one say)")
	fs.StringVar(&e.TLSKey, "edge-tls-key", "", "PEM key for --edge-tls-cert")
}

// webhookFlags are the options of how Git hosts reach the API.
func webhookFlags(fs *pflag.FlagSet, h *config.HTTP) {
	fs.StringVar(&h.PublicURL, "public-url", "", "base URL Git hosts deliver webhooks to (default: the API's address)")
	fs.StringVar(&h.GitHubAPI, "github-api", "", "GitHub REST API base URL (default https://api.github.com; Enterprise: https://host/api/v3)")
	fs.StringVar(&h.GitHubToken, "github-token", "", "token that may manage repository webhooks (default: webhooks are added by hand)")
}

func (r *runner) devCmd() *cobra.Command {
	var cfg config.Config
	var level string
	cmd := &cobra.Command{Use: "dev", Short: "run everything in one process on embedded defaults", Args: args()}
	fs := cmd.Flags()
	fs.StringVar(&cfg.DataDir, "data-dir", ".slipway", "directory holding all state")
	fs.StringVar(&cfg.HTTP.Address, "http", "127.0.0.1:8080", "API listen address (port 0 picks one)")
	fs.StringVar(&cfg.Temporal.Address, "temporal", "127.0.0.1:7233", "embedded Temporal frontend listen address (port 0 picks one)")
	fs.StringVar(&cfg.Temporal.UIAddress, "ui", "127.0.0.1:8233", `Temporal UI listen address (port 0 picks one, "" serves none)`)
	fs.StringVar(&cfg.Registry.Address, "registry", "127.0.0.1:5000", "OCI registry listen address (port 0 picks one)")
	fs.BoolVar(&cfg.Registry.AnonymousRead, "registry-anonymous-read", false, "let anyone pull an image they can name from the registry (pushes, deletes and listings still need its credentials)")
	fs.StringVar(&cfg.HTTP.TLSCert, "tls-cert", "", "PEM certificate: serve the API over HTTPS")
	fs.StringVar(&cfg.HTTP.TLSKey, "tls-key", "", "PEM key for --tls-cert")
	fs.StringVar(&cfg.KEKFile, "kek-file", "", "key-encryption key file, created 0600 when missing (default <data-dir>/kek.json)")
	fs.StringVar(&cfg.Build.BuildkitdBinary, "buildkitd", "", "buildkitd to start (default: bin/buildkitd beside slipway, ./bin/buildkitd or on PATH)")
	fs.StringVar(&cfg.Build.BuildkitAddress, "buildkit-address", "", "use this buildkitd (unix:// or tcp://) instead of starting one")
	fs.StringVar(&cfg.Build.Network, "build-network", "isolated", "network of build steps: isolated (reaches the outside, not this host's loopback), none, or host")
	fs.StringVar(&level, "log-level", "info", "debug, info, warn or error")
	scanFlags(fs, &cfg.Scan)
	sourceFlags(fs, &cfg.Build)
	deployFlags(fs, &cfg.Deploy, &cfg.Edge)
	webhookFlags(fs, &cfg.HTTP)
	cmd.RunE = func(cmd *cobra.Command, _ []string) error { return r.runDev(cmd.Context(), cfg, level) }
	return cmd
}

func (r *runner) runDev(ctx context.Context, cfg config.Config, level string) error {
	log, err := r.checkAndLog(level, checkTLSPair(cfg.HTTP), checkEdge(cfg.Edge), checkBuildNetwork(cfg.Build.Network))
	if err != nil {
		return err
	}
	dev, err := stack.StartDev(ctx, cfg, log)
	if err != nil {
		return err
	}
	e := dev.Endpoints
	fmt.Fprintf(r.stdout, "slipway dev is running (data dir %s)\n  console   %s/ (sign in with the token)\n  API       %s\n  Temporal  %s\n  UI        %s\n  registry  %s\n  edge      %s\n  token     %s/%s\n",
		cfg.DataDir, e.HTTP, e.HTTP, e.Temporal, e.UI, e.Registry, e.Edge, cfg.DataDir, stack.AdminTokenFile)
	return waitAndStop(ctx, log, &dev.Process)
}

func (r *runner) serverCmd() *cobra.Command {
	var cfg config.Config
	var level string
	cmd := &cobra.Command{Use: "server", Short: "run the API against an external Temporal, database and registry", Args: args()}
	fs := cmd.Flags()
	fs.StringVar(&cfg.HTTP.Address, "http", "127.0.0.1:8080", "API listen address")
	fs.StringVar(&cfg.HTTP.TLSCert, "tls-cert", "", "PEM certificate: serve the API over HTTPS")
	fs.StringVar(&cfg.HTTP.TLSKey, "tls-key", "", "PEM key for --tls-cert")
	fs.StringVar(&cfg.DB, "db", "", "metadata store DSN: sqlite:///path/slipway.db or postgres://user:pass@host/db (required)")
	fs.StringVar(&cfg.Registry.Address, "registry", "127.0.0.1:5000", "OCI registry host[:port] images are pushed to")
	fs.StringVar(&cfg.KEKFile, "kek-file", "", "key-encryption key file (required; create one with: slipway keys create)")
	fs.StringVar(&cfg.DataDir, "data-dir", ".slipway", "where the first admin token is written when the store has none")
	fs.StringVar(&level, "log-level", "info", "debug, info, warn or error")
	temporalFlags(fs, &cfg.Temporal)
	webhookFlags(fs, &cfg.HTTP)
	cmd.RunE = func(cmd *cobra.Command, _ []string) error { return r.runServer(cmd.Context(), cfg, level) }
	return cmd
}

func (r *runner) runServer(ctx context.Context, cfg config.Config, level string) error {
	log, err := r.checkAndLog(level, required("--db", cfg.DB, "--kek-file", cfg.KEKFile), checkTLSPair(cfg.HTTP))
	if err != nil {
		return err
	}
	p, url, err := stack.StartServer(ctx, cfg, log)
	if err != nil {
		return err
	}
	fmt.Fprintf(r.stdout, "slipway server is serving the API on %s\n", url)
	return waitAndStop(ctx, log, p)
}

func (r *runner) workerCmd() *cobra.Command {
	var cfg config.Config
	var level string
	cmd := &cobra.Command{Use: "worker", Short: "run a Temporal worker against an external Temporal, database and registry", Args: args()}
	fs := cmd.Flags()
	fs.StringVar(&cfg.DB, "db", "", "metadata store DSN: sqlite:///path/slipway.db or postgres://user:pass@host/db (required)")
	fs.StringVar(&cfg.Registry.Address, "registry", "127.0.0.1:5000", "OCI registry host[:port] images are pushed to")
	fs.StringVar(&cfg.KEKFile, "kek-file", "", "key-encryption key file, the same as the server's (required)")
	fs.StringVar(&cfg.Build.BuildkitAddress, "buildkit-address", "unix:///run/buildkit/buildkitd.sock", "buildkitd to build with")
	fs.StringVar(&cfg.Build.WorkDir, "work-dir", "", "where build workspaces live (default .slipway/work)")
	fs.BoolVar(&cfg.Registry.Insecure, "registry-insecure", false, "the registry speaks plain HTTP")
	fs.StringVar(&level, "log-level", "info", "debug, info, warn or error")
	temporalFlags(fs, &cfg.Temporal)
	scanFlags(fs, &cfg.Scan)
	sourceFlags(fs, &cfg.Build)
	deployFlags(fs, &cfg.Deploy, &cfg.Edge)
	fs.StringSliceVar(&cfg.Deploy.DataPlanes, "data-plane", workflows.DataPlanes(),
		"data planes this worker deploys to: docker (its Docker Engine, behind its edge; one worker of an install), kubernetes (any number), or none")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error { return r.runWorker(cmd.Context(), cfg, level) }
	return cmd
}

func (r *runner) runWorker(ctx context.Context, cfg config.Config, level string) error {
	planes, planesErr := dataPlanes(cfg.Deploy.DataPlanes)
	cfg.Deploy.DataPlanes = planes
	log, err := r.checkAndLog(level, required("--db", cfg.DB, "--kek-file", cfg.KEKFile), checkEdge(cfg.Edge), planesErr)
	if err != nil {
		return err
	}
	p, err := stack.StartWorker(ctx, cfg, log)
	if err != nil {
		return err
	}
	served := "none"
	if len(planes) > 0 {
		served = strings.Join(planes, ", ")
	}
	fmt.Fprintf(r.stdout, "slipway worker is polling Temporal at %s (data planes: %s)\n", cfg.Temporal.Address, served)
	return waitAndStop(ctx, log, p)
}

// dataPlanes checks the --data-plane values: data planes (workflows.DataPlanes), each once, or "none" alone,
// which it returns as an empty, non-nil list.
func dataPlanes(values []string) ([]string, error) {
	if len(values) == 1 && values[0] == "none" {
		return []string{}, nil
	}
	var planes []string
	for _, v := range values {
		if !slices.Contains(workflows.DataPlanes(), v) {
			return nil, fmt.Errorf("--data-plane %q: want %s, or none", v, strings.Join(workflows.DataPlanes(), " or "))
		}
		if slices.Contains(planes, v) {
			return nil, fmt.Errorf("--data-plane %q is given twice", v)
		}
		planes = append(planes, v)
	}
	if len(planes) == 0 {
		return nil, fmt.Errorf("--data-plane is empty: name %s, or none", strings.Join(workflows.DataPlanes(), " or "))
	}
	return planes, nil
}

// required fails naming the first flag, in the order given as name, value pairs, that is empty.
func required(nameValues ...string) error {
	for i := 0; i+1 < len(nameValues); i += 2 {
		if nameValues[i+1] == "" {
			return fmt.Errorf("%s is required", nameValues[i])
		}
	}
	return nil
}

func checkTLSPair(h config.HTTP) error {
	if (h.TLSCert == "") != (h.TLSKey == "") {
		return fmt.Errorf("--tls-cert and --tls-key must be given together")
	}
	return nil
}

// checkEdge fails naming the edge flag that is wrong: half a TLS pair, or a domain that is no DNS name.
func checkEdge(e config.Edge) error {
	if (e.TLSCert == "") != (e.TLSKey == "") {
		return fmt.Errorf("--edge-tls-cert and --edge-tls-key must be given together")
	}
	if d := strings.Trim(e.Domain, "."); e.Domain != "" && !dnsName.MatchString(d) {
		return fmt.Errorf("--edge-domain %q: want a DNS name such as apps.example.com (lowercase letters, digits, '-' and '.')", e.Domain)
	}
	if _, _, err := net.SplitHostPort(e.Address); err != nil {
		return fmt.Errorf("--edge %q: want host:port (port 0 picks one): %w", e.Address, err)
	}
	return nil
}

// dnsName matches a DNS name of lower-case labels.
var dnsName = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$`)

func checkBuildNetwork(network string) error {
	if _, err := buildkit.ParseNetwork(network); err != nil {
		return fmt.Errorf("--build-network: %w", err)
	}
	return nil
}

// waitAndStop blocks until ctx ends (SIGINT or SIGTERM) or a part fails, then stops p within
// stopTimeout.
func waitAndStop(ctx context.Context, log *slog.Logger, p *stack.Process) error {
	var failure error
	select {
	case <-ctx.Done():
		log.Info("stopping")
	case failure = <-p.Failed():
		log.Error("stopping: a part failed", "err", failure)
	}
	stopCtx, cancel := context.WithTimeout(context.Background(), stopTimeout)
	defer cancel()
	start := time.Now()
	err := p.Stop(stopCtx)
	log.Info("stopped", "took", time.Since(start).Round(time.Millisecond))
	return errors.Join(failure, err)
}
