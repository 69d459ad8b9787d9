package buildkit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/moby/buildkit/client"
)

const (
	// socketName is the name of buildkitd's unix socket inside DaemonConfig.RootDir.
	socketName = "buildkitd.sock"
	// configName is the name of the buildkitd.toml StartDaemon writes into DaemonConfig.RootDir.
	configName = "buildkitd.toml"
	// maxSocketPath is the longest unix socket path Linux accepts (sun_path is 108 bytes with the NUL).
	maxSocketPath = 107
	// defaultStartTimeout bounds the wait for a new buildkitd to answer.
	defaultStartTimeout = 60 * time.Second
	// stopGrace is how long buildkitd has to exit after SIGTERM when its start context is
	// cancelled, before it is killed.
	stopGrace = 10 * time.Second
	// pollInterval is how often StartDaemon asks a starting buildkitd for its workers.
	pollInterval = 100 * time.Millisecond
	// tailLines is how many of buildkitd's last output lines a start error quotes.
	tailLines = 15
)

// runcPaths are where runc is looked for when it is not on PATH: Debian's runc package installs
// it in /usr/sbin, which is not on every user's PATH.
var runcPaths = []string{"/usr/sbin/runc", "/usr/local/sbin/runc", "/sbin/runc", "/usr/bin/runc", "/usr/local/bin/runc"}

// DaemonConfig says how StartDaemon runs buildkitd.
type DaemonConfig struct {
	// Binary is the buildkitd executable. Empty means "buildkitd" looked up on PATH.
	Binary string
	// RootDir holds buildkitd's state (its cache and snapshots), the buildkitd.toml StartDaemon
	// writes and the socket buildkitd listens on (RootDir/buildkitd.sock). Required; created with
	// mode 0700 if missing. Its absolute path must leave room for the socket name within Linux's
	// 107-byte limit on socket paths. Only one buildkitd may use a RootDir at a time.
	RootDir string
	// Runc is the OCI runtime the worker runs build steps with. Empty means "runc" on PATH, then
	// the usual sbin and bin directories (Debian's runc package installs /usr/sbin/runc).
	Runc string
	// InsecureRegistries lists registries, as host or host:port, that buildkitd pulls from and
	// pushes to over plain HTTP without verifying TLS, such as slipway's embedded registry.
	// (Request.CacheInsecure says the same for one build's cache ref, for a buildkitd configured
	// elsewhere.)
	InsecureRegistries []string
	// Mirrors maps a registry host, such as "docker.io", to mirrors (host or host:port) that
	// buildkitd tries before it. A mirror that speaks plain HTTP must also be in
	// InsecureRegistries. Nil means no mirrors.
	Mirrors map[string][]string
	// Logger receives buildkitd's output, one record per line; buildkitd's info lines are logged
	// at debug level, its warnings and errors at theirs. Nil means slog.Default().
	Logger *slog.Logger
	// StartTimeout bounds how long StartDaemon waits for buildkitd to list its workers. Zero means
	// 60 seconds.
	StartTimeout time.Duration
	// Network is the network build steps (RUN) run in; see the Network constants. Zero means
	// NetworkIsolated.
	Network Network
	// CNIBinaryDir holds the CNI plugins (bridge, host-local, loopback, firewall) the isolated and
	// none networks are made with. Zero means /usr/lib/cni, where Debian's
	// containernetworking-plugins installs them.
	CNIBinaryDir string
}

// Network says which network build steps run in.
type Network string

const (
	// NetworkIsolated runs each build step in a network namespace of its own on a bridge
	// (slipway-bk0, 10.218.0.0/16) with NAT to the outside: a step reaches the internet and
	// whatever the host's routes lead to, but not the host's loopback, where slipway's services
	// (API, registry, Temporal and its UI, entries) listen by default. Needs the CNI plugins and
	// iptables.
	NetworkIsolated Network = "isolated"
	// NetworkNone gives each build step a loopback interface only: no step reaches anything.
	NetworkNone Network = "none"
	// NetworkHost runs build steps in the host's network, seeing every service on its loopback.
	// Only for an install whose builds are all trusted.
	NetworkHost Network = "host"
)

// ParseNetwork returns the Network s names; "" is NetworkIsolated.
func ParseNetwork(s string) (Network, error) {
	switch n := Network(s); n {
	case "":
		return NetworkIsolated, nil
	case NetworkIsolated, NetworkNone, NetworkHost:
		return n, nil
	}
	return "", fmt.Errorf("build network %q: want isolated, none or host", s)
}

const (
	// cniConfigName is the CNI network list StartDaemon writes into DaemonConfig.RootDir.
	cniConfigName = "cni.conflist"
	// defaultCNIBinaryDir is where Debian's containernetworking-plugins installs the plugins.
	defaultCNIBinaryDir = "/usr/lib/cni"
	// buildBridge and buildSubnet are the bridge and subnet of NetworkIsolated. Every buildkitd on
	// a host shares them: the bridge plugin makes the bridge once and leaves it, and host-local
	// hands out addresses under a file lock, so daemons starting and stopping never cut another's
	// steps off (buildkit's own "bridge" mode deletes its bridge when the daemon that made it stops).
	buildBridge = "slipway-bk0"
	buildSubnet = "10.218.0.0/16"
)

// cniConfig returns the CNI network list of n, or "" for NetworkHost.
func cniConfig(n Network) string {
	switch n {
	case NetworkNone:
		return `{"cniVersion": "1.0.0", "name": "slipway-build-none", "plugins": [{"type": "loopback"}]}` + "\n"
	case NetworkHost:
		return ""
	}
	return `{
  "cniVersion": "1.0.0",
  "name": "slipway-build",
  "plugins": [
    {"type": "loopback"},
    {"type": "bridge", "bridge": "` + buildBridge + `", "isGateway": true, "isDefaultGateway": true, "ipMasq": true,
     "ipam": {"type": "host-local", "ranges": [[{"subnet": "` + buildSubnet + `"}]]}},
    {"type": "firewall", "ingressPolicy": "same-bridge"}
  ]
}
`
}

// Daemon is a buildkitd child process with an OCI (runc) worker, listening on a unix socket.
type Daemon struct {
	cmd     *exec.Cmd
	addr    string
	out     *outputLog
	done    chan struct{} // closed when buildkitd has exited and waitErr is set
	waitErr error

	stopOnce sync.Once
	stopErr  error
}

// StartDaemon writes RootDir/buildkitd.toml from cfg, starts buildkitd in its own process group
// and returns once buildkitd lists a worker. ctx bounds the daemon's life: cancelling it stops
// buildkitd (SIGTERM, then SIGKILL after 10 seconds), as Stop does. If buildkitd exits or does
// not answer within cfg.StartTimeout, StartDaemon stops it and returns an error quoting its last
// output lines.
func StartDaemon(ctx context.Context, cfg DaemonConfig) (*Daemon, error) {
	if cfg.RootDir == "" {
		return nil, errors.New("starting buildkitd: RootDir is required")
	}
	root, err := filepath.Abs(cfg.RootDir)
	if err != nil {
		return nil, fmt.Errorf("starting buildkitd: resolving RootDir: %w", err)
	}
	sock := filepath.Join(root, socketName)
	if len(sock) > maxSocketPath {
		return nil, fmt.Errorf("starting buildkitd: socket path %s is %d bytes, over Linux's limit of %d: use a shorter RootDir", sock, len(sock), maxSocketPath)
	}
	binary := cfg.Binary
	if binary == "" {
		binary = "buildkitd"
	}
	binary, err = exec.LookPath(binary)
	if err != nil {
		return nil, fmt.Errorf("starting buildkitd: finding buildkitd (run `make tools` to build bin/buildkitd): %w", err)
	}
	runc, err := findRunc(cfg.Runc)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(root, 0o700); err != nil {
		return nil, fmt.Errorf("starting buildkitd: creating root dir: %w", err)
	}
	network := cfg.Network
	if network == "" {
		network = NetworkIsolated
	}
	net := networkTOML{mode: "host"}
	if conf := cniConfig(network); conf != "" {
		net = networkTOML{mode: "cni", config: filepath.Join(root, cniConfigName), binaries: cfg.CNIBinaryDir}
		if net.binaries == "" {
			net.binaries = defaultCNIBinaryDir
		}
		if _, err := os.Stat(filepath.Join(net.binaries, "bridge")); err != nil {
			return nil, fmt.Errorf("starting buildkitd: build network %s needs the CNI plugins in %s (Debian: apt-get install containernetworking-plugins), or set the build network to host: %w", network, net.binaries, err)
		}
		if err := os.WriteFile(net.config, []byte(conf), 0o600); err != nil {
			return nil, fmt.Errorf("starting buildkitd: writing %s: %w", net.config, err)
		}
	}
	toml, err := daemonConfigTOML(root, runc, net, cfg.InsecureRegistries, cfg.Mirrors)
	if err != nil {
		return nil, fmt.Errorf("starting buildkitd: %w", err)
	}
	configPath := filepath.Join(root, configName)
	if err := os.WriteFile(configPath, []byte(toml), 0o600); err != nil {
		return nil, fmt.Errorf("starting buildkitd: writing %s: %w", configPath, err)
	}

	logger := cfg.Logger
	if logger == nil {
		logger = slog.Default()
	}
	addr := "unix://" + sock
	d := &Daemon{addr: addr, out: newOutputLog(logger), done: make(chan struct{})}
	cmd := exec.CommandContext(ctx, binary,
		"--config", configPath,
		"--root", root,
		"--addr", addr,
		"--oci-worker=true",
		"--containerd-worker=false",
	)
	// Its own process group, so a terminal's Ctrl-C reaches slipway, which stops buildkitd in
	// order, and so Stop can kill buildkitd together with the runc processes it started.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	cmd.Cancel = func() error {
		d.out.quiet.Store(true)
		return cmd.Process.Signal(syscall.SIGTERM)
	}
	cmd.WaitDelay = stopGrace
	cmd.Stdout = d.out
	cmd.Stderr = d.out
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting buildkitd: %w", err)
	}
	d.cmd = cmd
	go func() {
		d.waitErr = cmd.Wait()
		d.out.flush()
		if err := releaseNetNS(root); err != nil {
			logger.Warn("releasing the network namespaces buildkitd left", "err", err)
		}
		close(d.done)
	}()

	timeout := cfg.StartTimeout
	if timeout == 0 {
		timeout = defaultStartTimeout
	}
	if err := d.waitReady(ctx, timeout); err != nil {
		stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), stopGrace)
		defer cancel()
		_ = d.Stop(stopCtx) // the start error says more than how the failed daemon stopped
		return nil, fmt.Errorf("starting buildkitd: %w%s", err, d.out.tail())
	}
	return d, nil
}

// netNSDir is where buildkitd's CNI network keeps its build steps' network namespaces, below its root.
const netNSDir = "net/cni"

// releaseNetNS unmounts and removes the network namespaces buildkitd left under root when it exited
// (its pool of spare ones outlives a graceful stop, and a namespace it was making when it was
// killed is mounted but in no pool), so the root can be removed and no namespace lingers. A path
// can carry more than one mount stacked on it, so each is unmounted until none is left.
func releaseNetNS(root string) error {
	dir := filepath.Join(root, netNSDir)
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var errs []error
	for _, e := range entries {
		p := filepath.Join(dir, e.Name())
		if err := unmountAll(p); err != nil {
			errs = append(errs, err)
			continue
		}
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// maxStackedMounts bounds unmountAll: more mounts than this on one namespace file is a loop, not a stack.
const maxStackedMounts = 16

// unmountAll lazily unmounts every mount on p, the newest first; p not being a mount point
// (EINVAL) or not existing ends it without an error.
func unmountAll(p string) error {
	for range maxStackedMounts {
		err := syscall.Unmount(p, syscall.MNT_DETACH)
		if errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.ENOENT) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("unmounting %s: %w", p, err)
		}
	}
	return fmt.Errorf("unmounting %s: still mounted after %d unmounts", p, maxStackedMounts)
}

// Address returns the address BuildKit clients reach buildkitd at, "unix://<RootDir>/buildkitd.sock";
// it is what Builder.Address takes.
func (d *Daemon) Address() string { return d.addr }

// Done returns a channel that is closed when buildkitd has exited, whether stopped or crashed.
func (d *Daemon) Done() <-chan struct{} { return d.done }

// Stop sends buildkitd SIGTERM and waits for it to exit; when ctx ends first, it kills
// buildkitd's process group with SIGKILL and waits for that. It returns nil when buildkitd exited
// on the SIGTERM (buildkitd exits with status 1 then: that is not an error), an error when it had
// to be killed, and buildkitd's exit error when it had exited before Stop was called. Stop may be
// called more than once; later calls return what the first returned.
func (d *Daemon) Stop(ctx context.Context) error {
	d.stopOnce.Do(func() { d.stopErr = d.stop(ctx) })
	return d.stopErr
}

func (d *Daemon) stop(ctx context.Context) error {
	select {
	case <-d.done:
		return d.exitErr() // exited on its own, or on its start context's cancellation
	default:
	}
	d.out.quiet.Store(true) // its shutdown trace is no news
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.done:
		return nil
	case <-ctx.Done():
		_ = syscall.Kill(-d.cmd.Process.Pid, syscall.SIGKILL)
		<-d.done
		return fmt.Errorf("stopping buildkitd: killed after %w", context.Cause(ctx))
	}
}

// exitErr reports how buildkitd exited, once it has.
func (d *Daemon) exitErr() error {
	if d.waitErr != nil {
		return fmt.Errorf("buildkitd: %w", d.waitErr)
	}
	return nil
}

// waitReady polls buildkitd until it lists a worker, it exits, ctx ends or timeout passes.
func (d *Daemon) waitReady(ctx context.Context, timeout time.Duration) error {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	var last error
	for {
		if last = d.ping(ctx); last == nil {
			return nil
		}
		select {
		case <-d.done:
			return fmt.Errorf("buildkitd exited before it was ready: %w", d.exitErr())
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-deadline.C:
			return fmt.Errorf("buildkitd not ready after %s: %w", timeout, last)
		case <-tick.C:
		}
	}
}

// ping asks buildkitd for its workers once.
func (d *Daemon) ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	c, err := client.New(ctx, d.addr)
	if err != nil {
		return err
	}
	defer c.Close()
	workers, err := c.ListWorkers(ctx)
	if err != nil {
		return err
	}
	if len(workers) == 0 {
		return errors.New("buildkitd has no workers")
	}
	return nil
}

// findRunc returns the absolute path of the runc to use: configured, on PATH, or in runcPaths.
func findRunc(configured string) (string, error) {
	if configured != "" {
		p, err := exec.LookPath(configured)
		if err != nil {
			return "", fmt.Errorf("starting buildkitd: finding runc: %w", err)
		}
		return filepath.Abs(p)
	}
	if p, err := exec.LookPath("runc"); err == nil {
		return filepath.Abs(p)
	}
	for _, p := range runcPaths {
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("starting buildkitd: runc not found on PATH nor in %s: install the Debian package runc", strings.Join(runcPaths, ", "))
}

// networkTOML is the OCI worker's network in buildkitd.toml: mode "host", or "cni" with the
// network list at config and the plugins in binaries.
type networkTOML struct{ mode, config, binaries string }

// daemonConfigTOML renders buildkitd.toml: the OCI worker with the given runc and network, no
// containerd worker, and one [registry."host"] table per insecure registry or mirrored host.
// (The network is set here, not by flags: buildkitd v0.34's --oci-cni-config-path flag is read
// under another name and lost.)
func daemonConfigTOML(root, runc string, net networkTOML, insecure []string, mirrors map[string][]string) (string, error) {
	var b strings.Builder
	q := func(s string) (string, error) { return tomlString(s) }
	rootQ, err := q(root)
	if err != nil {
		return "", err
	}
	runcQ, err := q(runc)
	if err != nil {
		return "", err
	}
	fmt.Fprintf(&b, "root = %s\n\n[worker.oci]\n  enabled = true\n  binary = %s\n", rootQ, runcQ)
	modeQ, err := q(net.mode)
	if err != nil {
		return "", err
	}
	fmt.Fprintf(&b, "  networkMode = %s\n", modeQ)
	if net.mode == "cni" {
		configQ, err := q(net.config)
		if err != nil {
			return "", err
		}
		binQ, err := q(net.binaries)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(&b, "  cniConfigPath = %s\n  cniBinaryPath = %s\n", configQ, binQ)
	}
	b.WriteString("\n[worker.containerd]\n  enabled = false\n")

	hosts := slices.Clone(insecure)
	for host := range mirrors {
		hosts = append(hosts, host)
	}
	slices.Sort(hosts)
	hosts = slices.Compact(hosts)
	for _, host := range hosts {
		if host == "" || strings.ContainsAny(host, "/ ") {
			return "", fmt.Errorf("registry %q is not a host or host:port", host)
		}
		hostQ, err := q(host)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(&b, "\n[registry.%s]\n", hostQ)
		if ms := mirrors[host]; len(ms) > 0 {
			quoted := make([]string, len(ms))
			for i, m := range ms {
				if quoted[i], err = q(m); err != nil {
					return "", err
				}
			}
			fmt.Fprintf(&b, "  mirrors = [%s]\n", strings.Join(quoted, ", "))
		}
		if slices.Contains(insecure, host) {
			b.WriteString("  http = true\n  insecure = true\n")
		}
	}
	return b.String(), nil
}

// tomlString quotes s as a TOML basic string.
func tomlString(s string) (string, error) {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f:
			return "", fmt.Errorf("%q: control characters are not allowed", s)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String(), nil
}
