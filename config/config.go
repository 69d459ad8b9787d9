package config

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Config is everything a slipway process needs. `slipway dev` fills it from DataDir and listen
// addresses; `slipway server` and `slipway worker` from flags naming external parts.
type Config struct {
	// DataDir holds everything `slipway dev` keeps: the metadata and Temporal SQLite files, the
	// registry, the KEK file, admin-token and endpoints.json. Zero means ".slipway".
	DataDir string
	// DB is the metadata store DSN: "sqlite:///path/slipway.db" or "postgres://…". Zero means
	// the SQLite file slipway.db in DataDir.
	DB string
	// KEKFile is the key-encryption key file (created 0600 on first start when missing). Zero means
	// DataDir/kek.json.
	KEKFile string
	// HTTP is the API listener.
	HTTP HTTP
	// Temporal says which Temporal to use or, for `slipway dev`, where the embedded one listens.
	Temporal Temporal
	// Registry is the OCI registry: for `slipway dev` the listen address of the embedded one, for
	// the split processes the host[:port] images are pushed to.
	Registry Registry
	// Build configures where and how images are built.
	Build Build
	// Scan configures how images are scanned before they are pushed.
	Scan Scan
	// Deploy configures rollouts.
	Deploy Deploy
	// Edge is where a worker serves the public endpoints of the releases it runs on Docker.
	Edge Edge
}

// Edge configures the edge (package entry): one listener of the worker that serves every public release
// on its Docker Engine by host name, <component>.<environment>.<project>.<Domain>.
type Edge struct {
	// Address is host:port; port 0 picks a free port. Zero means 127.0.0.1:8000.
	Address string
	// Domain is the domain public releases are named under, on Docker (the edge) and Kubernetes (the
	// host of their Ingress; set, it is also the URL a Kubernetes deployment reports). Zero means
	// localhost, whose names browsers and curl resolve to the loopback address; a Kubernetes deployment
	// then reports its Service's in-cluster address.
	Domain string
	// TLSCert and TLSKey are PEM files; when both are set the edge serves HTTPS only and deployments'
	// URLs are https. Zero means plain HTTP.
	TLSCert, TLSKey string
}

// Deploy configures how releases roll out.
type Deploy struct {
	// ReadyTimeout is how long a new release may take to pass its readiness check before the rollout
	// gives up on it (the previous release keeps serving). Zero means two minutes.
	ReadyTimeout time.Duration
	// IngressClass is the ingressClassName of the Ingresses of public releases on Kubernetes. Zero means
	// the cluster's default class.
	IngressClass string
	// DataPlanes are the data planes the worker serves ("docker", "kubernetes"): it polls their task queues
	// with the activities that reach them, and serving docker it runs the edge beside its Docker Engine. One
	// worker of an install serves docker. Empty (not nil) serves none; nil means both.
	DataPlanes []string
}

// Scan configures the Trivy scanner a worker runs.
type Scan struct {
	// TrivyBinary is the trivy executable. Zero means bin/trivy beside the slipway executable,
	// ./bin/trivy, or trivy on PATH, the first that exists.
	TrivyBinary string
	// DBRepository is a comma-separated list of OCI repositories holding Trivy's vulnerability
	// database (as Trivy's --db-repository; no tag means tag 2), tried in order at each hourly
	// refresh: the first that has a database wins, one that does not answer within a few seconds is
	// left out until the next refresh. Zero means Trivy's own, mirror.gcr.io/aquasec/trivy-db:2 then
	// ghcr.io/aquasecurity/trivy-db:2, then, as the offline mirror, trivy/db:2 in the registry
	// images are pushed to, where `slipway trivy-db push` puts it.
	DBRepository string
	// DBDir is a directory holding trivy.db and metadata.json, used instead of DBRepository. Zero
	// means the database comes from DBRepository.
	DBDir string
}

// Build configures the worker's builds.
type Build struct {
	// BuildkitAddress is an external buildkitd (unix:// or tcp://). Zero means: `slipway dev` starts
	// its own from BuildkitdBinary; a split worker uses unix:///run/buildkit/buildkitd.sock.
	BuildkitAddress string
	// BuildkitdBinary is the buildkitd `slipway dev` starts. Zero means bin/buildkitd beside the
	// slipway executable, ./bin/buildkitd, or buildkitd on PATH, the first that exists.
	BuildkitdBinary string
	// WorkDir holds the builds' workspaces. Zero means DataDir/work.
	WorkDir string
	// RegistryCache makes `slipway dev` with its own buildkitd keep BuildKit's cache in the registry too
	// (<repo>:buildcache, pushed with the image after the scan), as split workers and an external buildkitd
	// always do. Zero means its buildkitd's own cache, kept in the data dir, is the only one.
	RegistryCache bool
	// Network is the network the build steps of `slipway dev`'s own buildkitd run in: "isolated" (a
	// namespace of their own that reaches the outside but not the host's loopback, where slipway's
	// services listen), "none" (no network) or "host" (the host's, every loopback service included).
	// Zero means "isolated". An external buildkitd (BuildkitAddress) is configured where it runs.
	Network string
	// SourceImages are the base images of builds from source (components without a Dockerfile), by role: go
	// (the Go toolchain), go-runtime (what a Go binary runs on), node, python and static. A role not named takes
	// the official image a user with internet would pull (see sourcebuild). Nil means every default.
	SourceImages map[string]string
}

// HTTP configures the API listener.
type HTTP struct {
	// Address is host:port; port 0 picks a free port. Zero means 127.0.0.1:8080.
	Address string
	// TLSCert and TLSKey are PEM files; when both are set the API is served over HTTPS only.
	TLSCert, TLSKey string
	// PublicURL is the base URL Git hosts deliver webhooks to. Zero means the address the API serves at.
	PublicURL string
	// GitHubAPI is the GitHub REST API base URL (GitHub Enterprise: https://host/api/v3). Zero means
	// https://api.github.com.
	GitHubAPI string
	// GitHubToken lets slipway create and delete repository webhooks on GitHub. Zero means webhooks are
	// added by hand (the API shows the URL and secret once).
	GitHubToken string
}

// Temporal configures the connection to Temporal.
type Temporal struct {
	// Address is host:port of the frontend. For `slipway dev` it is where the embedded server
	// listens (port 0 picks one). Zero means 127.0.0.1:7233.
	Address string
	// Namespace is the Temporal namespace; zero means "default".
	Namespace string
	// UIAddress is where `slipway dev` serves the Temporal UI; "" serves none.
	UIAddress string
	// TLS configures TLS or mTLS to an external Temporal; zero means plaintext.
	TLS ClientTLS
}

// ClientTLS configures a TLS client. All fields zero means plaintext; CA alone means TLS with that
// trust root; Cert and Key add a client certificate (mTLS).
type ClientTLS struct {
	// Enabled turns TLS on with the system roots when no CA is given.
	Enabled bool
	// CA is a PEM file of trusted roots; zero means the system roots.
	CA string
	// Cert and Key are the PEM client certificate and key for mTLS; zero means none.
	Cert, Key string
	// ServerName overrides the name checked in the server's certificate; zero means the host of Address.
	ServerName string
}

// Registry configures the OCI registry.
type Registry struct {
	// Address is host:port; for `slipway dev` port 0 picks a free port. Zero means 127.0.0.1:5000.
	Address string
	// Insecure says the registry speaks plain HTTP (always true for the embedded one).
	Insecure bool
	// AnonymousRead lets anyone pull from the embedded registry an image they can name; pushes,
	// deletes and listings need its credentials all the same. Zero means every request needs them.
	AnonymousRead bool
}

// Resolve returns c with every zero field that has a default filled in and every path made
// absolute against the working directory, so that nothing below cmd/ joins a relative path twice
// (a workspace under a relative work dir, say) or depends on where it runs.
func (c Config) Resolve() (Config, error) {
	if c.DataDir == "" {
		c.DataDir = ".slipway"
	}
	var err error
	abs := func(p *string) {
		if *p != "" && err == nil {
			*p, err = filepath.Abs(*p)
		}
	}
	abs(&c.DataDir)
	if c.DB == "" {
		c.DB = "sqlite://" + filepath.Join(c.DataDir, "slipway.db")
	} else if path, ok := strings.CutPrefix(c.DB, "sqlite://"); ok && path != "" {
		abs(&path)
		c.DB = "sqlite://" + path
	}
	if c.KEKFile == "" {
		c.KEKFile = filepath.Join(c.DataDir, "kek.json")
	}
	if c.Build.WorkDir == "" {
		c.Build.WorkDir = filepath.Join(c.DataDir, "work")
	}
	for _, p := range []*string{&c.KEKFile, &c.Build.WorkDir, &c.Build.BuildkitdBinary, &c.Scan.TrivyBinary, &c.Scan.DBDir,
		&c.HTTP.TLSCert, &c.HTTP.TLSKey, &c.Edge.TLSCert, &c.Edge.TLSKey, &c.Temporal.TLS.CA, &c.Temporal.TLS.Cert, &c.Temporal.TLS.Key} {
		abs(p)
	}
	if err != nil {
		return Config{}, fmt.Errorf("making the configured paths absolute: %w", err)
	}
	if c.HTTP.Address == "" {
		c.HTTP.Address = "127.0.0.1:8080"
	}
	if c.Temporal.Address == "" {
		c.Temporal.Address = "127.0.0.1:7233"
	}
	if c.Edge.Address == "" {
		c.Edge.Address = "127.0.0.1:8000"
	}
	if c.Temporal.Namespace == "" {
		c.Temporal.Namespace = "default"
	}
	if c.Registry.Address == "" {
		c.Registry.Address = "127.0.0.1:5000"
	}
	if c.Deploy.DataPlanes == nil {
		c.Deploy.DataPlanes = []string{"docker", "kubernetes"}
	}
	return c, nil
}

// Config returns the *tls.Config for the Temporal connection, or nil for plaintext.
func (t ClientTLS) Config() (*tls.Config, error) {
	if !t.Enabled && t.CA == "" && t.Cert == "" && t.Key == "" {
		return nil, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: t.ServerName}
	if t.CA != "" {
		pem, err := os.ReadFile(t.CA)
		if err != nil {
			return nil, fmt.Errorf("reading Temporal CA: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("temporal CA %s holds no PEM certificate", t.CA)
		}
		cfg.RootCAs = pool
	}
	if (t.Cert == "") != (t.Key == "") {
		return nil, fmt.Errorf("temporal client certificate and key must be given together")
	}
	if t.Cert != "" {
		pair, err := tls.LoadX509KeyPair(t.Cert, t.Key)
		if err != nil {
			return nil, fmt.Errorf("loading Temporal client certificate: %w", err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	return cfg, nil
}
