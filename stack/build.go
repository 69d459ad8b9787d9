package stack

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"go.temporal.io/sdk/activity"

	"github.com/slipway-dev/slipway/activities"
	"github.com/slipway-dev/slipway/buildkit"
	"github.com/slipway-dev/slipway/config"
	"github.com/slipway-dev/slipway/imagepush"
	"github.com/slipway-dev/slipway/ociregistry"
	"github.com/slipway-dev/slipway/secretbox"
	"github.com/slipway-dev/slipway/sourcebuild"
	"github.com/slipway-dev/slipway/store"
	"github.com/slipway-dev/slipway/trivydb"
	"github.com/slipway-dev/slipway/trivyscan"
)

// defaultBuildkitAddress is where a split worker finds buildkitd when none is configured.
const defaultBuildkitAddress = "unix:///run/buildkit/buildkitd.sock"

// startBuildkitd starts buildkitd as a child process with its state in dataDir/buildkit, allowed to
// pull from and push to the plain-HTTP registry and using it as docker.io's mirror (so `FROM
// busybox` finds the image seedBusybox put there), its build steps on cfg.Build.Network, and
// returns its address.
func (p *Process) startBuildkitd(ctx context.Context, cfg config.Config, registry string) (string, error) {
	bin, err := findTool("buildkitd", cfg.Build.BuildkitdBinary, "--buildkitd")
	if err != nil {
		return "", err
	}
	network, err := buildkit.ParseNetwork(cfg.Build.Network)
	if err != nil {
		return "", err
	}
	d, err := buildkit.StartDaemon(ctx, buildkit.DaemonConfig{
		Binary:             bin,
		Network:            network,
		RootDir:            filepath.Join(cfg.DataDir, "buildkit"),
		InsecureRegistries: []string{registry},
		Mirrors:            map[string][]string{"docker.io": {registry}},
		Logger:             p.log.With("part", "buildkitd"),
	})
	if err != nil {
		return "", err
	}
	p.onStop("buildkitd", d.Stop)
	return d.Address(), nil
}

// findTool returns the program name to run: the one configured, else bin/<name> beside the slipway
// executable, ./bin/<name>, or name on PATH. flag is the option that configures it, for the error.
func findTool(name, configured, flag string) (string, error) {
	if configured != "" {
		if _, err := os.Stat(configured); err != nil {
			return "", fmt.Errorf("%s %s: %w", name, configured, err)
		}
		return configured, nil
	}
	var candidates []string
	if exe, err := os.Executable(); err == nil {
		candidates = append(candidates, filepath.Join(filepath.Dir(exe), name), filepath.Join(filepath.Dir(exe), "..", "bin", name))
	}
	candidates = append(candidates, filepath.Join("bin", name))
	for _, c := range candidates {
		if fi, err := os.Stat(c); err == nil && !fi.IsDir() {
			return filepath.Abs(c)
		}
	}
	if path, err := exec.LookPath(name); err == nil {
		return path, nil
	}
	return "", fmt.Errorf("%s not found: run `make tools` (it builds bin/%s) or pass %s", name, name, flag)
}

// builds assembles the build activities for a worker using buildkitd at address, opening repo
// credentials with keys and pushing to registry.
//
// localCache leaves BuildKit's cache to buildkitd (slipway dev's own, whose state persists in the data dir):
// exporting it to the registry too would cost every build time and gain a single buildkitd nothing.
//
// push holds registry's push credentials, given to the pusher and to buildkitd for that registry only;
// nil means anonymous.
func builds(cfg config.Config, st *store.Store, keys *secretbox.Keyring, buildkitAddress, registry string, insecure, localCache bool, push *ociregistry.Credentials) (*activities.Builds, error) {
	if err := os.MkdirAll(cfg.Build.WorkDir, 0o700); err != nil {
		return nil, fmt.Errorf("creating work dir: %w", err)
	}
	opts := []imagepush.Option{imagepush.WithProgress(heartbeatPushProgress)}
	if insecure {
		opts = append(opts, imagepush.WithInsecureRegistries(registry))
	}
	builder := &buildkit.Builder{Address: buildkitAddress}
	if push != nil {
		opts = append(opts, imagepush.WithKeychain(push.Keychain(registry)))
		builder.Registries = map[string]buildkit.RegistryAuth{registry: {Username: push.Username, Password: push.Password}}
	}
	scanner, err := newScanner(cfg, registry, insecure, push)
	if err != nil {
		return nil, err
	}
	images, err := sourceImages(cfg.Build.SourceImages)
	if err != nil {
		return nil, err
	}
	return &activities.Builds{
		Store:          st,
		Keyring:        keys,
		WorkDir:        cfg.Build.WorkDir,
		BuildKit:       builder,
		Pusher:         imagepush.New(opts...),
		Registry:       registry,
		Scanner:        scanner,
		CacheInsecure:  insecure,
		LocalCacheOnly: localCache,
		SourceImages:   images,
	}, nil
}

// sourceImages turns the roles of config.Build.SourceImages into sourcebuild's images; an unknown role is an
// error naming the known ones.
func sourceImages(byRole map[string]string) (sourcebuild.Images, error) {
	var im sourcebuild.Images
	fields := map[string]*string{"go": &im.Go, "go-runtime": &im.GoRuntime, "node": &im.Node, "python": &im.Python, "static": &im.Static}
	for role, image := range byRole {
		dst, ok := fields[role]
		if !ok {
			return im, fmt.Errorf("--source-image %s=%s: unknown role %q: want go, go-runtime, node, python or static", role, image, role)
		}
		*dst = image
	}
	return im, nil
}

// newScanner makes the worker's Trivy scanner, its cache in the work dir, the vulnerability
// database from cfg.Scan or, by default, from Trivy's own repositories and then, as the offline
// mirror, trivy/db:2 in registry (plain HTTP when insecure), which Trivy reads with push's credentials
// (nil: anonymously).
func newScanner(cfg config.Config, registry string, insecure bool, push *ociregistry.Credentials) (*trivyscan.Scanner, error) {
	bin, err := findTool("trivy", cfg.Scan.TrivyBinary, "--trivy")
	if err != nil {
		return nil, err
	}
	repos := append(trivyscan.DefaultDBRepositories(), registry+"/"+trivydb.DefaultRepository+":"+trivydb.DefaultTag)
	if cfg.Scan.DBRepository != "" {
		if repos, err = trivyscan.ParseDBRepositories(cfg.Scan.DBRepository); err != nil {
			return nil, fmt.Errorf("--trivy-db-repository: %w", err)
		}
	}
	var plainHTTP []string
	if insecure {
		plainHTTP = []string{registry}
	}
	var dockerConfig string
	if push != nil {
		dockerConfig = filepath.Join(cfg.Build.WorkDir, "trivy", "docker")
		if err := push.WriteDockerConfig(dockerConfig, registry); err != nil {
			return nil, err
		}
	}
	return &trivyscan.Scanner{
		Binary:             bin,
		DockerConfig:       dockerConfig,
		CacheDir:           filepath.Join(cfg.Build.WorkDir, "trivy"),
		DBDir:              cfg.Scan.DBDir,
		DBRepositories:     repos,
		InsecureRegistries: plainHTTP,
	}, nil
}

// heartbeatPushProgress heartbeats the push activity with the bytes uploaded so far, so a long
// push of a big image is not timed out while it makes progress. Outside an activity (a Pusher
// used directly) it does nothing: activity.RecordHeartbeat panics without an activity context.
func heartbeatPushProgress(ctx context.Context, done, _ int64) {
	if activity.IsActivity(ctx) {
		activity.RecordHeartbeat(ctx, done)
	}
}
