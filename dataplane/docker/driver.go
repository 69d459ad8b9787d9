// Package docker is the data plane on one machine: the Docker Engine API (Docker, or Podman's
// compatible socket). Each (project, environment) gets its own bridge network, so containers of
// different environments cannot reach each other; each release runs as labelled containers of its
// image, pulled by digest, beside the release it replaces until the deploy activity has switched
// slipway's entry to it and retired the old one. The Docker Engine routes nothing itself: Serve hands
// a release's instances to the entry.
package docker

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/api/types/registry"
	"github.com/moby/moby/client"

	"github.com/slipway-dev/slipway/dataplane"
	"github.com/slipway-dev/slipway/descriptor"
)

// labelPort records the port traffic is sent to, so Describe can give an instance's address.
const labelPort = "dev.slipway.port"

// Driver runs releases on a Docker Engine. Its Client is required.
type Driver struct {
	Client *client.Client
	// Install is the install's ID: the driver labels every container and network it makes with it, puts it
	// in their names, and touches no container of another install. Containers made before installs had IDs
	// (no label) are taken for its own. "" means none: names and labels without one.
	Install string
	// Registries holds the credentials the engine pulls with, by registry host ("host:port" as in
	// image references), sent as X-Registry-Auth for that registry's images only. Nil means anonymous
	// pulls.
	Registries map[string]registry.AuthConfig
}

// registryAuth is the X-Registry-Auth value for pulling image: base64url JSON of the credentials of
// its registry, or "" when there are none.
func (d *Driver) registryAuth(image string) (string, error) {
	host, _, _ := strings.Cut(image, "/")
	a, ok := d.Registries[host]
	if !ok {
		return "", nil
	}
	a.ServerAddress = host
	b, err := json.Marshal(a)
	if err != nil {
		return "", err
	}
	return base64.URLEncoding.EncodeToString(b), nil
}

var _ dataplane.Driver = (*Driver)(nil)

// New connects to the engine named by DOCKER_HOST (default unix:///var/run/docker.sock),
// negotiating the API version (Debian's Docker 20.10 speaks 1.41), and checks it answers.
func New(ctx context.Context) (*Driver, error) {
	c, err := client.New(client.FromEnv) // negotiates the API version by default
	if err != nil {
		return nil, fmt.Errorf("docker client: %w", err)
	}
	if _, err := c.Ping(ctx, client.PingOptions{NegotiateAPIVersion: true}); err != nil {
		c.Close()
		return nil, fmt.Errorf("no Docker Engine answers at %s (scripts/dockerd.sh starts one): %w", c.DaemonHost(), err)
	}
	return &Driver{Client: c}, nil
}

// NetworkName is the Docker network of an environment of a project of the install ("" for none). Names
// are DNS-1123 labels and the install's ID is hex, neither holds '_', so no two installs or
// (project, environment) pairs share one.
func NetworkName(install, project, environment string) string {
	return "slipway_" + prefixed(install) + project + "_" + environment
}

// prefixed is the install's part of a name: "<install>_", or "" for none.
func prefixed(install string) string {
	if install == "" {
		return ""
	}
	return install + "_"
}

func (d *Driver) containerName(r dataplane.Release, i int) string {
	return fmt.Sprintf("slipway_%s%s_%s_%s_%s_%d", prefixed(d.Install), r.Project, r.Component, r.Environment, r.BuildID, i)
}

// ownerLabels are the labels of what the driver makes for a component in an environment (the install's
// among them); listing filters on those but the install's, so that containers made before it are found too.
func (d *Driver) ownerLabels(project, component, environment string) map[string]string {
	l := map[string]string{
		dataplane.LabelManaged: "true", dataplane.LabelProject: project,
		dataplane.LabelComponent: component, dataplane.LabelEnvironment: environment,
	}
	if d.Install != "" {
		l[dataplane.LabelInstall] = d.Install
	}
	return l
}

// owns says whether a container with these labels is the install's: it carries the install's ID, or none.
func (d *Driver) owns(labels map[string]string) bool {
	id, ok := labels[dataplane.LabelInstall]
	return !ok || id == d.Install
}

func filters(labels map[string]string) client.Filters {
	f := client.Filters{}
	for k, v := range labels {
		f.Add("label", k+"="+v)
	}
	return f
}

// ensureNetwork creates the environment's network unless it exists.
func (d *Driver) ensureNetwork(ctx context.Context, project, environment string) (string, error) {
	name := NetworkName(d.Install, project, environment)
	if _, err := d.Client.NetworkInspect(ctx, name, client.NetworkInspectOptions{}); err == nil {
		return name, nil
	} else if !cerrdefs.IsNotFound(err) {
		return "", fmt.Errorf("inspecting network %s: %w", name, err)
	}
	labels := map[string]string{dataplane.LabelManaged: "true", dataplane.LabelProject: project, dataplane.LabelEnvironment: environment}
	if d.Install != "" {
		labels[dataplane.LabelInstall] = d.Install
	}
	_, err := d.Client.NetworkCreate(ctx, name, client.NetworkCreateOptions{Driver: "bridge", Labels: labels})
	if err != nil && !cerrdefs.IsConflict(err) && !strings.Contains(err.Error(), "already exists") {
		return "", fmt.Errorf("creating network %s: %w", name, err)
	}
	return name, nil
}

// Apply pulls the image by digest and starts the release's containers on the environment's
// network; containers of this release already there are kept (started if stopped).
func (d *Driver) Apply(ctx context.Context, r dataplane.Release) ([]dataplane.Instance, error) {
	net, err := d.ensureNetwork(ctx, r.Project, r.Environment)
	if err != nil {
		return nil, err
	}
	if err := d.pull(ctx, r.Image); err != nil {
		return nil, err
	}
	labels := d.ownerLabels(r.Project, r.Component, r.Environment)
	labels[dataplane.LabelBuild], labels[dataplane.LabelDigest] = r.BuildID, r.Digest
	if port := r.Port(); port > 0 {
		labels[labelPort] = strconv.Itoa(port)
	}
	env := make([]string, 0, len(r.Env))
	for k, v := range r.Env {
		env = append(env, k+"="+v)
	}
	slices.Sort(env)
	for i := range max(r.Replicas, 1) {
		name := d.containerName(r, i)
		info, err := d.Client.ContainerInspect(ctx, name, client.ContainerInspectOptions{})
		switch {
		case err == nil && info.Container.State != nil && info.Container.State.Running:
			continue
		case err == nil:
		case cerrdefs.IsNotFound(err):
			_, err = d.Client.ContainerCreate(ctx, client.ContainerCreateOptions{
				Name:   name,
				Config: &container.Config{Image: r.Image, Env: env, Labels: labels},
				HostConfig: &container.HostConfig{
					RestartPolicy: container.RestartPolicy{Name: container.RestartPolicyUnlessStopped},
					Resources:     container.Resources{NanoCPUs: int64(r.CPUs * 1e9), Memory: r.MemoryBytes},
				},
				NetworkingConfig: &network.NetworkingConfig{EndpointsConfig: map[string]*network.EndpointSettings{
					net: {Aliases: []string{r.Component}},
				}},
			})
			if err != nil && !cerrdefs.IsConflict(err) {
				return nil, fmt.Errorf("creating container %s: %w", name, err)
			}
		default:
			return nil, fmt.Errorf("inspecting container %s: %w", name, err)
		}
		if err := d.copyFiles(ctx, name, r.Files); err != nil {
			return nil, err
		}
		if _, err := d.Client.ContainerStart(ctx, name, client.ContainerStartOptions{}); err != nil {
			return nil, fmt.Errorf("starting container %s: %w", name, err)
		}
	}
	return d.instances(ctx, r.Project, r.Component, r.Environment, r.BuildID)
}

// pull pulls image (by digest) with its registry's credentials.
func (d *Driver) pull(ctx context.Context, image string) error {
	auth, err := d.registryAuth(image)
	if err != nil {
		return err
	}
	pull, err := d.Client.ImagePull(ctx, image, client.ImagePullOptions{RegistryAuth: auth})
	if err == nil {
		err = pull.Wait(ctx)
		pull.Close()
	}
	if err != nil {
		return fmt.Errorf("pulling %s: %w", image, err)
	}
	return nil
}

// copyFiles writes files (absolute path → content, readable by any user of the container, as the
// component may not run as root) into the container before it starts.
func (d *Driver) copyFiles(ctx context.Context, container string, files map[string][]byte) error {
	if len(files) == 0 {
		return nil
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	dirs := map[string]bool{}
	paths := slices.Sorted(maps.Keys(files))
	for _, p := range paths {
		rel := strings.TrimPrefix(path.Clean(p), "/")
		for dir := path.Dir(rel); dir != "." && !dirs[dir]; dir = path.Dir(dir) {
			dirs[dir] = true
		}
	}
	for _, dir := range slices.Sorted(maps.Keys(dirs)) {
		if err := tw.WriteHeader(&tar.Header{Name: dir + "/", Typeflag: tar.TypeDir, Mode: 0o755}); err != nil {
			return err
		}
	}
	for _, p := range paths {
		body := files[p]
		if err := tw.WriteHeader(&tar.Header{Name: strings.TrimPrefix(path.Clean(p), "/"), Typeflag: tar.TypeReg, Mode: 0o444, Size: int64(len(body))}); err != nil {
			return err
		}
		if _, err := tw.Write(body); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	if _, err := d.Client.CopyToContainer(ctx, container, client.CopyToContainerOptions{DestinationPath: "/", Content: &buf}); err != nil {
		return fmt.Errorf("writing config files into container %s: %w", container, err)
	}
	return nil
}

// WaitReady checks every instance of the release (after InitialDelaySeconds), first after 10 ms and then
// twice as long each time up to every rolloutPoll — or PeriodSeconds, if shorter — until all pass, one stops running, or ctx ends; a container that
// exits fails at once.
func (d *Driver) WaitReady(ctx context.Context, r dataplane.Release, beat func(dataplane.Probe)) (dataplane.Probe, error) {
	period := rolloutPoll
	if p := r.Readiness; p != nil {
		if p.PeriodSeconds > 0 {
			period = min(period, time.Duration(p.PeriodSeconds)*time.Second)
		}
		if err := sleep(ctx, time.Duration(p.InitialDelaySeconds)*time.Second); err != nil {
			return dataplane.Probe{Message: "waiting out the initial delay"}, err
		}
	}
	return pollReady(ctx, period, func(ctx context.Context) (dataplane.Probe, error) { return d.checkAll(ctx, r) }, beat)
}

// pollReady runs check first after 10 ms and then twice as long each time, up to every period (most
// processes listen within a few hundred ms), until it passes, fails, or ctx ends. When ctx ends during a
// check, the check before it says why the release is not ready: the cut-short one only says the time ran out.
func pollReady(ctx context.Context, period time.Duration, check func(context.Context) (dataplane.Probe, error), beat func(dataplane.Probe)) (dataplane.Probe, error) {
	wait := min(10*time.Millisecond, period)
	var last dataplane.Probe
	for {
		probe, err := check(ctx)
		if ctx.Err() != nil && !last.At.IsZero() {
			return last, ctx.Err()
		}
		if beat != nil {
			beat(probe)
		}
		if err != nil || probe.Ready {
			return probe, err
		}
		last = probe
		if err := sleep(ctx, wait); err != nil {
			return probe, err
		}
		wait = min(2*wait, period)
	}
}

// rolloutPoll is how often a rollout checks a new release: a release waiting for traffic is checked
// more often than its PeriodSeconds (which paces checks once it serves), so a rollout sees a ready
// release within about this long instead of a whole period after a check that came before the process
// listened. A check is a container list and one local request, so ten a second cost little.
const rolloutPoll = 100 * time.Millisecond

// ErrStopped means an instance of the release stopped while it was checked: it will not get ready.
var ErrStopped = errors.New("instance stopped")

func (d *Driver) checkAll(ctx context.Context, r dataplane.Release) (dataplane.Probe, error) {
	insts, err := d.instances(ctx, r.Project, r.Component, r.Environment, r.BuildID)
	if err != nil {
		return dataplane.Probe{Message: err.Error(), At: time.Now().UTC()}, err
	}
	if len(insts) < max(r.Replicas, 1) {
		return dataplane.Probe{Message: fmt.Sprintf("%d of %d instances exist", len(insts), max(r.Replicas, 1)), At: time.Now().UTC()}, nil
	}
	last := dataplane.Probe{Ready: true, At: time.Now().UTC()}
	for _, in := range insts {
		if !in.Running {
			info, _ := d.Client.ContainerInspect(ctx, in.ID, client.ContainerInspectOptions{})
			msg := "container " + shortID(in.ID) + " is not running"
			if s := info.Container.State; s != nil {
				msg = fmt.Sprintf("container %s %s with code %d", shortID(in.ID), s.Status, s.ExitCode)
			}
			return dataplane.Probe{Message: msg, At: time.Now().UTC()}, fmt.Errorf("%w: %s", ErrStopped, msg)
		}
		if r.Readiness != nil && r.Readiness.Exec != nil {
			last = d.execCheck(ctx, in.ID, r.Readiness)
		} else {
			host, _, _ := net.SplitHostPort(in.Address)
			last = dataplane.Check(ctx, r.Readiness, host)
		}
		if !last.Ready {
			return last, nil
		}
	}
	return last, nil
}

// execCheck runs the probe's command in the container; exit status 0 passes.
func (d *Driver) execCheck(ctx context.Context, id string, p *descriptor.Probe) dataplane.Probe {
	now := time.Now().UTC()
	ctx, cancel := context.WithTimeout(ctx, time.Duration(max(p.TimeoutSeconds, 1))*time.Second)
	defer cancel()
	cmd := strings.Join(p.Exec.Command, " ")
	ex, err := d.Client.ExecCreate(ctx, id, client.ExecCreateOptions{Cmd: p.Exec.Command})
	if err == nil {
		_, err = d.Client.ExecStart(ctx, ex.ID, client.ExecStartOptions{Detach: true})
	}
	for err == nil {
		var res client.ExecInspectResult
		res, err = d.Client.ExecInspect(ctx, ex.ID, client.ExecInspectOptions{})
		if err == nil && !res.Running {
			return dataplane.Probe{Ready: res.ExitCode == 0, Message: fmt.Sprintf("exec %s: exit %d", cmd, res.ExitCode), At: now}
		}
		if err == nil {
			err = sleep(ctx, 50*time.Millisecond)
		}
	}
	return dataplane.Probe{Message: "exec " + cmd + ": " + err.Error(), At: now}
}

// VerdictWait is zero: slipway's own checks (WaitReady) are the verdict.
func (d *Driver) VerdictWait() time.Duration { return 0 }

// Serve switches entry to the release's instances insts (their addresses), draining the previous
// release's, and returns the entry's URL. A release that is not public (dataplane.Release.Public) gets
// no URL: the entry of its component, if a release before opened one, is closed, and the project's
// components reach it at http://<component>:<port> on the environment's network (its network alias).
// The Docker Engine routes nothing itself: without an entry a public release is not served.
func (d *Driver) Serve(ctx context.Context, r dataplane.Release, insts []dataplane.Instance, entry dataplane.Entry) (string, error) {
	if !r.Public() {
		if entry != nil {
			return "", entry.Close(ctx, r)
		}
		return "", nil
	}
	if entry == nil {
		return "", errors.New("no entry serves the releases of this Docker Engine")
	}
	var addrs []string
	for _, i := range insts {
		if i.Address != "" {
			addrs = append(addrs, i.Address)
		}
	}
	return entry.Switch(ctx, r, addrs)
}

// Commit names the builds of the component running in the environment beside r (sorted): their
// containers kept running through the switch, and go with Remove once they have drained.
func (d *Driver) Commit(ctx context.Context, r dataplane.Release) ([]string, error) {
	running, err := d.Describe(ctx, r.Project, r.Component, r.Environment)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, i := range running {
		if i.BuildID != r.BuildID && !slices.Contains(out, i.BuildID) {
			out = append(out, i.BuildID)
		}
	}
	slices.Sort(out)
	return out, nil
}

// ReplacesInPlace is false: a release starts beside the one serving, which never stops for it.
func (d *Driver) ReplacesInPlace() bool { return false }

// Restore removes the failed release's containers at once: the previous release's were never
// stopped, so they serve as before; previous is not needed.
func (d *Driver) Restore(ctx context.Context, failed dataplane.Release, _ *dataplane.Release) error {
	return d.Remove(ctx, failed.Project, failed.Component, failed.Environment, failed.BuildID, 0)
}

// Remove stops the build's containers, giving each grace to finish what it serves (zero: stopped at
// once), and removes them; another install's it leaves alone.
func (d *Driver) Remove(ctx context.Context, project, component, environment, buildID string, grace time.Duration) error {
	insts, err := d.instances(ctx, project, component, environment, buildID)
	if err != nil {
		return err
	}
	secs := int(grace.Seconds())
	for _, in := range insts {
		if _, err := d.Client.ContainerStop(ctx, in.ID, client.ContainerStopOptions{Timeout: &secs}); err != nil && !cerrdefs.IsNotFound(err) {
			return fmt.Errorf("stopping container %s: %w", shortID(in.ID), err)
		}
		// A conflict is a removal already under way (another retirement of the same release): it goes.
		if _, err := d.Client.ContainerRemove(ctx, in.ID, client.ContainerRemoveOptions{Force: true}); err != nil && !cerrdefs.IsNotFound(err) && !cerrdefs.IsConflict(err) {
			return fmt.Errorf("removing container %s: %w", shortID(in.ID), err)
		}
	}
	return nil
}

// Describe lists every instance of the component in the environment, of any build.
func (d *Driver) Describe(ctx context.Context, project, component, environment string) ([]dataplane.Instance, error) {
	return d.instances(ctx, project, component, environment, "")
}

// instances lists the containers of the component in the environment, of one build unless buildID is "".
func (d *Driver) instances(ctx context.Context, project, component, environment, buildID string) ([]dataplane.Instance, error) {
	labels := d.ownerLabels(project, component, environment)
	delete(labels, dataplane.LabelInstall) // owns picks the install's and those made before
	if buildID != "" {
		labels[dataplane.LabelBuild] = buildID
	}
	list, err := d.Client.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: filters(labels)})
	if err != nil {
		return nil, fmt.Errorf("listing containers: %w", err)
	}
	netName := NetworkName(d.Install, project, environment)
	out := []dataplane.Instance{}
	for _, c := range list.Items {
		if !d.owns(c.Labels) {
			continue
		}
		in := dataplane.Instance{ID: c.ID, BuildID: c.Labels[dataplane.LabelBuild], Digest: c.Labels[dataplane.LabelDigest],
			Running: c.State == container.StateRunning}
		if c.NetworkSettings != nil {
			ep := c.NetworkSettings.Networks[netName]
			if _, labelled := c.Labels[dataplane.LabelInstall]; !labelled {
				ep = c.NetworkSettings.Networks[NetworkName("", project, environment)] // made before installs had IDs
			}
			if ep != nil && ep.IPAddress.IsValid() && c.Labels[labelPort] != "" {
				in.Address = net.JoinHostPort(ep.IPAddress.String(), c.Labels[labelPort])
			}
		}
		out = append(out, in)
	}
	slices.SortFunc(out, func(a, b dataplane.Instance) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

func shortID(id string) string { return id[:min(len(id), 12)] }

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
