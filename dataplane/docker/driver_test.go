package docker

import (
	"archive/tar"
	"bytes"
	"context"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/moby/moby/client"

	"github.com/slipway-dev/slipway/baseimages"
	"github.com/slipway-dev/slipway/dataplane"
	"github.com/slipway-dev/slipway/descriptor"
)

// newDriver connects to the machine's Docker Engine; without one the test is skipped, unless
// CI_REQUIRE_DOCKER=1 makes it fail; with -short (make unit) it is skipped.
func newDriver(t *testing.T) *Driver {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: skipping a test that runs containers on the Docker Engine")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	d, err := New(ctx)
	if err != nil {
		if os.Getenv("CI_REQUIRE_DOCKER") == "1" {
			t.Fatalf("%v (CI_REQUIRE_DOCKER=1)", err)
		}
		t.Skip(err)
	}
	t.Cleanup(func() { d.Client.Close() })
	return d
}

// webImage pushes, to a registry of its own, busybox with httpd serving /www on port 8080
// (/www/healthz: "ok") and returns the image by digest and the digest.
func webImage(t *testing.T) (string, string) {
	t.Helper()
	if _, err := os.Stat(baseimages.BusyboxBinary); err != nil {
		t.Skipf("%s missing (Debian package busybox-static): %v", baseimages.BusyboxBinary, err)
	}
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	ctx := t.Context()
	if _, err := baseimages.Busybox(ctx, host+"/library/busybox:latest"); err != nil {
		t.Fatal(err)
	}
	baseRef, err := name.ParseReference(host + "/library/busybox:latest")
	if err != nil {
		t.Fatal(err)
	}
	base, err := remote.Image(baseRef)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range []struct{ name, body string }{{"www/", ""}, {"www/healthz", "ok\n"}, {"www/index.html", "hello\n"}} {
		h := &tar.Header{Name: f.name, Mode: 0o755, Typeflag: tar.TypeDir}
		if !strings.HasSuffix(f.name, "/") {
			h = &tar.Header{Name: f.name, Mode: 0o644, Typeflag: tar.TypeReg, Size: int64(len(f.body))}
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(tw, f.body); err != nil {
			t.Fatal(err)
		}
	}
	tw.Close()
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(buf.Bytes())), nil })
	if err != nil {
		t.Fatal(err)
	}
	img, err := mutate.AppendLayers(base, layer)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cfg = cfg.DeepCopy()
	cfg.Config.Cmd = []string{"httpd", "-f", "-p", "8080", "-h", "/www"}
	if img, err = mutate.ConfigFile(img, cfg); err != nil {
		t.Fatal(err)
	}
	digest, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	ref, err := name.ParseReference(host + "/shop/web@" + digest.String())
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, img); err != nil {
		t.Fatal(err)
	}
	return ref.String(), digest.String()
}

func release(t *testing.T, env, build, image, digest string) dataplane.Release {
	project := "dp" + strings.ToLower(strings.ReplaceAll(t.Name(), "/", ""))[:min(20, len(t.Name()))]
	project = strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, project)
	return dataplane.Release{
		Project: project, Component: "web", Environment: env, BuildID: build, Image: image, Digest: digest,
		Env: map[string]string{"GREETING": "hello " + env}, Endpoints: []descriptor.Endpoint{{Name: "web", Port: 8080, Type: descriptor.REST}},
		Files:     map[string][]byte{"/etc/app/token": []byte("s3cret-" + env)},
		Readiness: &descriptor.Probe{HTTP: &descriptor.HTTPProbe{Path: "/healthz", Port: 8080}, PeriodSeconds: 1, TimeoutSeconds: 1},
	}
}

// cleanup removes every container and network of the release's project when the test ends.
func cleanup(t *testing.T, d *Driver, project string) {
	t.Cleanup(func() {
		ctx := context.Background()
		list, _ := d.Client.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: filters(map[string]string{dataplane.LabelProject: project})})
		for _, c := range list.Items {
			_, _ = d.Client.ContainerRemove(ctx, c.ID, client.ContainerRemoveOptions{Force: true})
		}
		nets, _ := d.Client.NetworkList(ctx, client.NetworkListOptions{Filters: filters(map[string]string{dataplane.LabelProject: project})})
		for _, n := range nets.Items {
			_, _ = d.Client.NetworkRemove(ctx, n.ID, client.NetworkRemoveOptions{})
		}
	})
}

func waitReady(t *testing.T, d *Driver, r dataplane.Release, within time.Duration) (dataplane.Probe, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), within)
	defer cancel()
	return d.WaitReady(ctx, r, nil)
}

// exec runs cmd in the container and returns its exit code.
func execIn(t *testing.T, d *Driver, id string, cmd ...string) int {
	t.Helper()
	p := d.execCheck(t.Context(), id, &descriptor.Probe{Exec: &descriptor.ExecProbe{Command: cmd}, TimeoutSeconds: 10})
	if strings.Contains(p.Message, "exit 0") {
		return 0
	}
	if !strings.Contains(p.Message, ": exit ") {
		t.Fatalf("exec %v: %s", cmd, p.Message)
	}
	return 1
}

func TestApplyWaitDescribeRemove(t *testing.T) {
	d := newDriver(t)
	image, digest := webImage(t)
	r := release(t, "development", "b-1", image, digest)
	cleanup(t, d, r.Project)

	insts, err := d.Apply(t.Context(), r)
	if err != nil {
		t.Fatal(err)
	}
	if len(insts) != 1 || insts[0].BuildID != "b-1" || insts[0].Digest != digest || !insts[0].Running || insts[0].Address == "" {
		t.Fatalf("instances %+v", insts)
	}
	again, err := d.Apply(t.Context(), r) // a retried activity
	if err != nil || len(again) != 1 || again[0].ID != insts[0].ID {
		t.Fatalf("second apply: %+v, %v", again, err)
	}
	p, err := waitReady(t, d, r, time.Minute)
	if err != nil || !p.Ready || p.Message != "GET /healthz: 200" {
		t.Fatalf("readiness %+v, %v", p, err)
	}
	resp, err := http.Get("http://" + insts[0].Address + "/index.html")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "hello\n" {
		t.Fatalf("served %q", body)
	}
	// The environment's configs are in the container's environment.
	if code := execIn(t, d, insts[0].ID, "sh", "-c", `test "$GREETING" = "hello development"`); code != 0 {
		t.Fatal("GREETING not injected")
	}
	if code := execIn(t, d, insts[0].ID, "sh", "-c", `test "$(cat /etc/app/token)" = s3cret-development`); code != 0 {
		t.Fatal("/etc/app/token not written")
	}
	info, err := d.Client.ContainerInspect(t.Context(), insts[0].ID, client.ContainerInspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{dataplane.LabelProject: r.Project, dataplane.LabelComponent: "web",
		dataplane.LabelEnvironment: "development", dataplane.LabelBuild: "b-1", dataplane.LabelDigest: digest} {
		if got := info.Container.Config.Labels[k]; got != want {
			t.Errorf("label %s = %q, want %q", k, got, want)
		}
	}
	if info.Container.Config.Image != image {
		t.Errorf("container image %q, want %q (by digest)", info.Container.Config.Image, image)
	}

	if err := d.Remove(t.Context(), r.Project, "web", "development", "b-1", time.Second); err != nil {
		t.Fatal(err)
	}
	left, err := d.Describe(t.Context(), r.Project, "web", "development")
	if err != nil || len(left) != 0 {
		t.Fatalf("after remove: %+v, %v", left, err)
	}
}

// Releases run side by side: Commit names the builds still running beside the release, for removal
// once they drained, and removes nothing itself.
func TestCommitNamesTheBuildsRunningBeside(t *testing.T) {
	d := newDriver(t)
	image, digest := webImage(t)
	r1 := release(t, "development", "b-1", image, digest)
	r2 := release(t, "development", "b-2", image, digest)
	cleanup(t, d, r1.Project)
	for _, r := range []dataplane.Release{r1, r2} {
		if _, err := d.Apply(t.Context(), r); err != nil {
			t.Fatal(err)
		}
	}
	for range 2 { // idempotent
		if got, err := d.Commit(t.Context(), r2); err != nil || !slices.Equal(got, []string{"b-1"}) {
			t.Fatalf("Commit = %v, %v; want b-1", got, err)
		}
	}
	if got, err := d.Describe(t.Context(), r1.Project, "web", "development"); err != nil || len(got) != 2 {
		t.Fatalf("after Commit: %+v, %v; want both releases still running", got, err)
	}
	if err := d.Remove(t.Context(), r1.Project, "web", "development", "b-1", 0); err != nil {
		t.Fatal(err)
	}
	if got, err := d.Commit(t.Context(), r2); err != nil || got != nil {
		t.Fatalf("Commit after b-1 went = %v, %v; want none", got, err)
	}
}

func TestUnhealthyReleaseIsNotReady(t *testing.T) {
	d := newDriver(t)
	image, digest := webImage(t)
	r := release(t, "development", "b-bad", image, digest)
	r.Readiness.HTTP.Path = "/missing"
	cleanup(t, d, r.Project)
	if _, err := d.Apply(t.Context(), r); err != nil {
		t.Fatal(err)
	}
	p, err := waitReady(t, d, r, 4*time.Second)
	if err == nil || p.Ready || p.Message != "GET /missing: 404" {
		t.Fatalf("readiness of a build without /missing: %+v, %v", p, err)
	}

	// An instance that stops fails the wait at once, naming how it ended.
	r2 := release(t, "development", "b-exit", image, digest)
	r2.Readiness = &descriptor.Probe{Exec: &descriptor.ExecProbe{Command: []string{"true"}}, PeriodSeconds: 1, TimeoutSeconds: 1}
	insts, err := d.Apply(t.Context(), r2)
	if err != nil {
		t.Fatal(err)
	}
	secs := 0
	if _, err := d.Client.ContainerStop(t.Context(), insts[0].ID, client.ContainerStopOptions{Timeout: &secs}); err != nil {
		t.Fatal(err)
	}
	p, err = waitReady(t, d, r2, 30*time.Second)
	if err == nil || p.Ready || !strings.Contains(p.Message, "exited with code") {
		t.Fatalf("readiness of a stopped build: %+v, %v", p, err)
	}
}

func TestEnvironmentsAreIsolated(t *testing.T) {
	d := newDriver(t)
	image, digest := webImage(t)
	dev := release(t, "development", "b-1", image, digest)
	prod := release(t, "production", "b-1", image, digest)
	cleanup(t, d, dev.Project)
	devInsts, err := d.Apply(t.Context(), dev)
	if err != nil {
		t.Fatal(err)
	}
	prodInsts, err := d.Apply(t.Context(), prod)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []dataplane.Release{dev, prod} {
		if _, err := waitReady(t, d, r, time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	// A second development instance reaches the first; the production one is out of its reach.
	dev2 := dev
	dev2.BuildID = "b-2"
	dev2Insts, err := d.Apply(t.Context(), dev2)
	if err != nil {
		t.Fatal(err)
	}
	connect := func(addr string) int {
		host, port, _ := strings.Cut(addr, ":")
		return execIn(t, d, dev2Insts[0].ID, "sh", "-c", "echo | nc -w 2 "+host+" "+port)
	}
	if code := connect(devInsts[0].Address); code != 0 {
		t.Fatalf("development cannot reach development (%s)", devInsts[0].Address)
	}
	if code := connect(prodInsts[0].Address); code == 0 {
		t.Fatalf("development reached production at %s", prodInsts[0].Address)
	}
}

func TestReplicasAndLimits(t *testing.T) {
	d := newDriver(t)
	image, digest := webImage(t)
	r := release(t, "development", "b-1", image, digest)
	r.Replicas, r.CPUs, r.MemoryBytes = 2, 0.5, 64<<20
	cleanup(t, d, r.Project)
	insts, err := d.Apply(t.Context(), r)
	if err != nil {
		t.Fatal(err)
	}
	if len(insts) != 2 || insts[0].Address == insts[1].Address {
		t.Fatalf("instances %+v, want 2 at different addresses", insts)
	}
	if p, err := waitReady(t, d, r, time.Minute); err != nil || !p.Ready {
		t.Fatalf("readiness %+v, %v", p, err)
	}
	for _, in := range insts {
		info, err := d.Client.ContainerInspect(t.Context(), in.ID, client.ContainerInspectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if hc := info.Container.HostConfig; hc.NanoCPUs != 5e8 || hc.Memory != 64<<20 {
			t.Fatalf("limits: %d nano-CPUs, %d bytes", hc.NanoCPUs, hc.Memory)
		}
	}
}

// Two installs on one engine with a project, component and environment of the same names keep apart: each
// has its own containers and network, and removing or listing one install's release leaves the other's be.
// A container made before installs had IDs is taken by the install that looks.
func TestInstallsOnOneEngineKeepApart(t *testing.T) {
	a, b := newDriver(t), newDriver(t)
	a.Install, b.Install = "aaaa000000000001", "bbbb000000000002"
	image, digest := webImage(t)
	r := release(t, "development", "b-1", image, digest)
	cleanup(t, a, r.Project)
	for _, d := range []*Driver{a, b} {
		if _, err := d.Apply(t.Context(), r); err != nil {
			t.Fatal(err)
		}
		if _, err := waitReady(t, d, r, time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	aInsts, _ := a.Describe(t.Context(), r.Project, r.Component, r.Environment)
	bInsts, _ := b.Describe(t.Context(), r.Project, r.Component, r.Environment)
	if len(aInsts) != 1 || len(bInsts) != 1 || aInsts[0].ID == bInsts[0].ID {
		t.Fatalf("install a sees %+v, b sees %+v: want one container each", aInsts, bInsts)
	}
	if aInsts[0].Address == "" || aInsts[0].Address == bInsts[0].Address {
		t.Fatalf("addresses %q and %q", aInsts[0].Address, bInsts[0].Address)
	}
	// The installs' networks differ: a's container cannot reach b's.
	host, port, _ := strings.Cut(bInsts[0].Address, ":")
	if code := execIn(t, a, aInsts[0].ID, "sh", "-c", "echo | nc -w 2 "+host+" "+port); code == 0 {
		t.Fatalf("install a's container reached install b's at %s", bInsts[0].Address)
	}
	if err := a.Remove(t.Context(), r.Project, r.Component, r.Environment, r.BuildID, 0); err != nil {
		t.Fatal(err)
	}
	if got, _ := b.Describe(t.Context(), r.Project, r.Component, r.Environment); len(got) != 1 || got[0].ID != bInsts[0].ID || !got[0].Running {
		t.Fatalf("install a's removal left install b with %+v", got)
	}
	if got, _ := a.Describe(t.Context(), r.Project, r.Component, r.Environment); len(got) != 0 {
		t.Fatalf("install a still has %+v", got)
	}

	// A container from before install IDs (no label) is found by an install, with its address.
	legacy := &Driver{Client: a.Client}
	old := r
	old.BuildID = "b-old"
	if _, err := legacy.Apply(t.Context(), old); err != nil {
		t.Fatal(err)
	}
	insts, err := a.instances(t.Context(), r.Project, r.Component, r.Environment, "b-old")
	if err != nil || len(insts) != 1 || insts[0].Address == "" {
		t.Fatalf("install a finds the container from before install IDs as %+v, %v", insts, err)
	}
}
