package docker

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"

	"github.com/slipway-dev/slipway/dataplane"
)

// labelRun names the task run a container runs.
const labelRun = "dev.slipway.run"

var _ dataplane.Runner = (*Driver)(nil)

// runName is the container of a task run.
func (d *Driver) runName(r dataplane.Release, run string) string {
	return fmt.Sprintf("slipway_%s%s_%s_%s_%s", prefixed(d.Install), r.Project, r.Component, r.Environment, run)
}

// Run runs the task release r once as a container on the environment's network (with the environment's configs
// and secrets, no restart policy), waits for it to exit, hands its output to output, then removes it.
func (d *Driver) Run(ctx context.Context, r dataplane.Release, run string, output func(lines []string) error) (dataplane.TaskResult, error) {
	name := d.runName(r, run)
	// A run made before (a retried activity) is waited for; only one never started is started.
	info, err := d.Client.ContainerInspect(ctx, name, client.ContainerInspectOptions{})
	start := false
	switch {
	case err == nil:
		start = info.Container.State != nil && info.Container.State.Status == container.StateCreated
	case cerrdefs.IsNotFound(err):
		if err := d.createRun(ctx, r, run, name); err != nil {
			return dataplane.TaskResult{}, err
		}
		start = true
	default:
		return dataplane.TaskResult{}, fmt.Errorf("inspecting container %s: %w", name, err)
	}
	if start {
		if _, err := d.Client.ContainerStart(ctx, name, client.ContainerStartOptions{}); err != nil {
			return dataplane.TaskResult{}, fmt.Errorf("starting container %s: %w", name, err)
		}
	}
	wait := d.Client.ContainerWait(ctx, name, client.ContainerWaitOptions{Condition: container.WaitConditionNotRunning})
	select {
	case <-wait.Result:
	case err := <-wait.Error:
		if ctx.Err() != nil {
			d.stopRun(name)
			return dataplane.TaskResult{}, ctx.Err()
		}
		return dataplane.TaskResult{}, fmt.Errorf("waiting for container %s: %w", name, err)
	case <-ctx.Done():
		d.stopRun(name)
		return dataplane.TaskResult{}, ctx.Err()
	}
	ended, err := d.Client.ContainerInspect(ctx, name, client.ContainerInspectOptions{})
	if err != nil {
		return dataplane.TaskResult{}, fmt.Errorf("inspecting container %s: %w", name, err)
	}
	st := ended.Container.State
	if st == nil {
		return dataplane.TaskResult{}, fmt.Errorf("container %s has no state", name)
	}
	res := dataplane.TaskResult{ExitCode: st.ExitCode}
	res.StartedAt, _ = time.Parse(time.RFC3339Nano, st.StartedAt)
	res.EndedAt, _ = time.Parse(time.RFC3339Nano, st.FinishedAt)
	if st.Error != "" && st.ExitCode == 0 {
		return res, fmt.Errorf("container %s did not run: %s: %w", name, st.Error, dataplane.ErrRefused)
	}
	lines, err := d.runOutput(ctx, name)
	if err != nil {
		return dataplane.TaskResult{}, err
	}
	if err := output(lines); err != nil {
		return dataplane.TaskResult{}, err
	}
	if _, err := d.Client.ContainerRemove(ctx, name, client.ContainerRemoveOptions{Force: true}); err != nil && !cerrdefs.IsNotFound(err) {
		return dataplane.TaskResult{}, fmt.Errorf("removing container %s: %w", name, err)
	}
	return res, nil
}

// createRun pulls the image and creates (not starts) the run's container with r's configs and files.
func (d *Driver) createRun(ctx context.Context, r dataplane.Release, run, name string) error {
	net, err := d.ensureNetwork(ctx, r.Project, r.Environment)
	if err != nil {
		return err
	}
	if err := d.pull(ctx, r.Image); err != nil {
		return err
	}
	labels := d.ownerLabels(r.Project, r.Component, r.Environment)
	labels[dataplane.LabelBuild], labels[dataplane.LabelDigest], labels[labelRun] = r.BuildID, r.Digest, run
	env := make([]string, 0, len(r.Env))
	for k, v := range r.Env {
		env = append(env, k+"="+v)
	}
	slices.Sort(env)
	_, err = d.Client.ContainerCreate(ctx, client.ContainerCreateOptions{
		Name:   name,
		Config: &container.Config{Image: r.Image, Env: env, Labels: labels},
		HostConfig: &container.HostConfig{
			Resources: container.Resources{NanoCPUs: int64(r.CPUs * 1e9), Memory: r.MemoryBytes},
		},
		NetworkingConfig: &network.NetworkingConfig{EndpointsConfig: map[string]*network.EndpointSettings{net: {}}},
	})
	if err != nil && !cerrdefs.IsConflict(err) {
		return fmt.Errorf("creating container %s: %w", name, err)
	}
	return d.copyFiles(ctx, name, r.Files)
}

// runOutput reads what the run's container wrote, stdout and stderr interleaved as the engine kept them.
func (d *Driver) runOutput(ctx context.Context, name string) ([]string, error) {
	logs, err := d.Client.ContainerLogs(ctx, name, client.ContainerLogsOptions{ShowStdout: true, ShowStderr: true})
	if err != nil {
		return nil, fmt.Errorf("reading the output of container %s: %w", name, err)
	}
	defer logs.Close()
	var out bytes.Buffer
	if _, err := stdcopy.StdCopy(&out, &out, logs); err != nil {
		return nil, fmt.Errorf("reading the output of container %s: %w", name, err)
	}
	var lines []string
	sc := bufio.NewScanner(&out)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		lines = append(lines, strings.TrimSuffix(sc.Text(), "\r"))
	}
	return lines, sc.Err()
}

// stopRun removes a run's container when its run was cancelled, on a context of its own (the run's ended).
func (d *Driver) stopRun(name string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	timeout := 10
	_, _ = d.Client.ContainerStop(ctx, name, client.ContainerStopOptions{Timeout: &timeout})
	_, _ = d.Client.ContainerRemove(ctx, name, client.ContainerRemoveOptions{Force: true})
}
