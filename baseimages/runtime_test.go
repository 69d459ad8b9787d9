package baseimages

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// runtimeImage is an image a test pushed and pulled back: its config and the entries of its top
// layer, with the content of the small regular files.
type runtimeImage struct {
	ref     string
	digest  v1.Hash
	config  *v1.ConfigFile
	headers map[string]*tar.Header
	names   []string // in the layer's order, without a directory's trailing slash
	content map[string]string
}

// pushRuntime pushes the image build makes into a go-containerregistry registry served for the
// test, twice, checks that both pushes give the same digest, and reads the image back.
func pushRuntime(t *testing.T, build func(ctx context.Context, ref string, opts ...remote.Option) (v1.Hash, error)) runtimeImage {
	t.Helper()
	if _, err := os.Stat(BusyboxBinary); err != nil {
		t.Skipf("%s missing (Debian package busybox-static): %v", BusyboxBinary, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	srv := httptest.NewServer(ggcrregistry.New(ggcrregistry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	ref := strings.TrimPrefix(srv.URL, "http://") + "/library/runtime:test"
	start := time.Now()
	digest, err := build(ctx, ref)
	if err != nil {
		t.Fatalf("building %s: %v", ref, err)
	}
	t.Logf("built and pushed %s in %s", digest, time.Since(start).Round(time.Millisecond))
	again, err := build(ctx, ref)
	if err != nil {
		t.Fatalf("building %s again: %v", ref, err)
	}
	if again != digest {
		t.Errorf("second build gave digest %s, first %s: the image is not reproducible", again, digest)
	}
	tag, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	img, err := remote.Image(tag, remote.WithContext(ctx))
	if err != nil {
		t.Fatalf("pulling %s: %v", ref, err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	layers, err := img.Layers()
	if err != nil || len(layers) != 2 {
		t.Fatalf("layers: %d, %v; want busybox and the runtime", len(layers), err)
	}
	var size int64
	for _, l := range layers {
		s, err := l.Size()
		if err != nil {
			t.Fatal(err)
		}
		size += s
	}
	t.Logf("image %s: %.1f MB compressed", digest, float64(size)/1e6)
	rc, err := layers[1].Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	got := runtimeImage{ref: ref, digest: digest, config: cfg, headers: map[string]*tar.Header{}, content: map[string]string{}}
	var files int64
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("reading the layer: %v", err)
		}
		files += h.Size
		got.headers[h.Name] = h
		got.names = append(got.names, strings.TrimSuffix(h.Name, "/"))
		if h.Typeflag == tar.TypeReg && h.Size < 1<<16 {
			b, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			got.content[h.Name] = string(b)
		}
		if !h.ModTime.Equal(epoch) || h.Uname != "" {
			t.Errorf("%s: time %s, user %q; want epoch and no user name", h.Name, h.ModTime, h.Uname)
		}
	}
	t.Logf("its top layer: %d entries, %.1f MB of files", len(got.names), float64(files)/1e6)
	if !sort.StringsAreSorted(got.names) {
		t.Error("the layer's entries are not sorted")
	}
	if cfg.OS != "linux" || cfg.Architecture != "amd64" {
		t.Errorf("platform %s/%s, want linux/amd64", cfg.OS, cfg.Architecture)
	}
	return got
}

// wantRegular checks that the layer holds the regular file name.
func (r runtimeImage) wantRegular(t *testing.T, names ...string) {
	t.Helper()
	for _, n := range names {
		if h := r.headers[n]; h == nil || h.Typeflag != tar.TypeReg {
			t.Errorf("%s = %+v, want a regular file", n, h)
		}
	}
}

// wantSymlink checks that the layer holds name as a symlink to target.
func (r runtimeImage) wantSymlink(t *testing.T, name, target string) {
	t.Helper()
	if h := r.headers[name]; h == nil || h.Typeflag != tar.TypeSymlink || h.Linkname != target {
		t.Errorf("%s = %+v, want a symlink to %s", name, h, target)
	}
}

// wantEnv checks that the image's environment holds every one of want.
func (r runtimeImage) wantEnv(t *testing.T, want ...string) {
	t.Helper()
	for _, w := range want {
		found := false
		for _, e := range r.config.Config.Env {
			found = found || e == w
		}
		if !found {
			t.Errorf("Env %q lacks %q", r.config.Config.Env, w)
		}
	}
}

// dockerRun runs args in the image with the Docker engine of this machine, as user, and returns its
// output; it skips when there is no engine. Docker pulls from a registry on 127.0.0.1 over HTTP.
func (r runtimeImage) dockerRun(t *testing.T, user string, args ...string) string {
	t.Helper()
	if err := exec.Command("docker", "info").Run(); err != nil {
		t.Skipf("no Docker engine to run the image in: %v", err)
	}
	ref := r.ref[:strings.LastIndexByte(r.ref, ':')] + "@" + r.digest.String()
	t.Cleanup(func() { _ = exec.Command("docker", "rmi", ref).Run() })
	if out, err := exec.Command("docker", "pull", "-q", ref).CombinedOutput(); err != nil {
		t.Fatalf("docker pull %s: %v\n%s", ref, err, out)
	}
	var stderr bytes.Buffer
	cmd := exec.Command("docker", append([]string{"run", "--rm", "--network", "none", "--user", user, ref}, args...)...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("docker run %s %q: %v\n%s%s", ref, args, err, out, stderr.Bytes())
	}
	return string(out)
}

func TestNodeRuntime(t *testing.T) {
	if _, err := os.Stat(NodeBinary); err != nil {
		t.Skipf("%s missing (Debian package nodejs): %v", NodeBinary, err)
	}
	img := pushRuntime(t, NodeRuntime)
	img.wantRegular(t, "usr/bin/node", "lib64/ld-linux-x86-64.so.2", "etc/passwd", "etc/group")
	img.wantSymlink(t, "usr/bin/env", "/bin/busybox")
	if !strings.Contains(img.content["etc/passwd"], "\nnode:x:1000:1000::/home/node:/bin/sh\n") || !strings.Contains(img.content["etc/group"], "\nnode:x:1000:\n") {
		t.Errorf("no user node in\n%s%s", img.content["etc/passwd"], img.content["etc/group"])
	}
	if h := img.headers["home/node/"]; h == nil || h.Uid != 1000 || h.Gid != 1000 {
		t.Errorf("home/node/ = %+v, want a directory of 1000:1000", h)
	}
	if libc := img.headers["lib/x86_64-linux-gnu/libc.so.6"]; libc == nil && img.headers["usr/lib/x86_64-linux-gnu/libc.so.6"] == nil {
		t.Error("no libc.so.6 in the layer")
	}
	if len(img.config.Config.Cmd) != 1 || img.config.Config.Cmd[0] != "node" {
		t.Errorf("Cmd %q, want [node]", img.config.Config.Cmd)
	}
	img.wantEnv(t, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
	npm := ""
	for _, d := range NpmDirs {
		if _, err := os.Stat(d); err == nil {
			npm = d
			break
		}
	}
	if npm != "" {
		img.wantSymlink(t, "usr/bin/npm", npm+"/bin/npm-cli.js")
		img.wantRegular(t, strings.TrimPrefix(npm, "/")+"/bin/npm-cli.js")
	}

	if out := img.dockerRun(t, "node", "node", "-e", "console.log(require('os').userInfo().username, 6*7)"); out != "node 42\n" {
		t.Errorf("node in the image printed %q", out)
	}
	if npm != "" {
		if out := img.dockerRun(t, "node", "npm", "--version"); !strings.Contains(out, ".") {
			t.Errorf("npm --version in the image printed %q", out)
		}
	}
}

func TestPythonRuntime(t *testing.T) {
	if _, err := os.Stat(PythonBinary); err != nil {
		t.Skipf("%s missing (Debian package python3): %v", PythonBinary, err)
	}
	interp, err := filepath.EvalSymlinks(PythonBinary)
	if err != nil {
		t.Fatal(err)
	}
	base := filepath.Base(interp) // python3.11
	img := pushRuntime(t, PythonRuntime)
	img.wantRegular(t, "usr/bin/"+base, "usr/lib/"+base+"/os.py", "usr/lib/"+base+"/http/server.py", "lib64/ld-linux-x86-64.so.2")
	img.wantSymlink(t, "usr/bin/python3", base)
	img.wantSymlink(t, "usr/bin/python", base)
	for n := range img.headers {
		if strings.Contains(n, "/__pycache__/") || strings.HasPrefix(n, "usr/lib/"+base+"/test/") || strings.HasSuffix(n, "EXTERNALLY-MANAGED") || strings.Contains(n, "/config-") {
			t.Errorf("%s is in the layer; the tests, caches, build files and PEP 668 marker should not be", n)
		}
	}
	if !strings.Contains(img.content["etc/passwd"], "\nnonroot:x:65532:65532:") {
		t.Errorf("no user 65532 in\n%s", img.content["etc/passwd"])
	}
	img.wantEnv(t, "LANG=C.UTF-8")
	if len(img.config.Config.Cmd) != 1 || img.config.Config.Cmd[0] != "python3" {
		t.Errorf("Cmd %q, want [python3]", img.config.Config.Cmd)
	}
	wheels, _ := filepath.Glob(PipWheels)
	if len(wheels) > 0 {
		img.wantRegular(t, "usr/local/bin/pip", "usr/local/bin/pip3", "usr/local/lib/"+base+"/dist-packages/pip/__init__.py")
	}

	script := "import getpass, ssl, sqlite3, zlib, json, http.server; print(getpass.getuser(), ssl.OPENSSL_VERSION.split()[0])"
	if out := img.dockerRun(t, "65532:65532", "python", "-c", script); out != "nonroot OpenSSL\n" {
		t.Errorf("python in the image printed %q", out)
	}
	if len(wheels) > 0 {
		// An empty requirements.txt installs nothing and needs no index, as a generated build's RUN does.
		out := img.dockerRun(t, "0", "sh", "-c", "cd /tmp && : > requirements.txt && pip install -r requirements.txt && pip --version")
		if !strings.Contains(out, "pip ") {
			t.Errorf("pip in the image printed %q", out)
		}
	}
}

func TestSharedLibrariesOfPython(t *testing.T) {
	interp, err := filepath.EvalSymlinks(PythonBinary)
	if err != nil {
		t.Skipf("%s missing: %v", PythonBinary, err)
	}
	libs := newSharedLibraries()
	if err := libs.add(interp, true); err != nil {
		t.Fatal(err)
	}
	var names []string
	for n := range libs.found {
		names = append(names, filepath.Base(n))
	}
	sort.Strings(names)
	for _, want := range []string{"ld-linux-x86-64.so.2", "libc.so.6"} {
		if i := sort.SearchStrings(names, want); i == len(names) || names[i] != want {
			t.Errorf("the closure of %s is %q, without %s", interp, names, want)
		}
	}
	// libc names the loader too; it is found once, at the interpreter's path.
	n := 0
	for p := range libs.found {
		if filepath.Base(p) == "ld-linux-x86-64.so.2" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("the loader is in the closure %d times: %q", n, libs.found)
	}
}

func TestSharedLibrariesOfANonELFFile(t *testing.T) {
	f := filepath.Join(t.TempDir(), "script")
	if err := os.WriteFile(f, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := newSharedLibraries().add(f, true); err == nil || !strings.Contains(err.Error(), f) {
		t.Fatalf("err = %v, want one naming %s", err, f)
	}
}

func TestTreeKeepsLinksWithinAndCopiesLinksOut(t *testing.T) {
	dir := t.TempDir()
	outside := filepath.Join(dir, "outside.txt")
	src := filepath.Join(dir, "src")
	for _, err := range []error{
		os.MkdirAll(filepath.Join(src, "sub"), 0o755),
		os.WriteFile(outside, []byte("from outside"), 0o644),
		os.WriteFile(filepath.Join(src, "sub", "a.txt"), []byte("a"), 0o600),
		os.Symlink("sub/a.txt", filepath.Join(src, "in")),
		os.Symlink(outside, filepath.Join(src, "out")),
		os.Symlink("../gone", filepath.Join(src, "dangling")),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	r := newRootfs()
	if err := r.tree("opt/x", src, nil); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := r.writeTar(&buf); err != nil {
		t.Fatal(err)
	}
	got := map[string]*tar.Header{}
	var order []string
	tr := tar.NewReader(&buf)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got[h.Name] = h
		order = append(order, h.Name)
	}
	want := []string{"opt/", "opt/x/", "opt/x/in", "opt/x/out", "opt/x/sub/", "opt/x/sub/a.txt"}
	if strings.Join(order, " ") != strings.Join(want, " ") {
		t.Errorf("entries %q, want %q", order, want)
	}
	if h := got["opt/x/in"]; h == nil || h.Typeflag != tar.TypeSymlink || h.Linkname != "sub/a.txt" {
		t.Errorf("in = %+v, want the symlink kept", h)
	}
	if h := got["opt/x/out"]; h == nil || h.Typeflag != tar.TypeReg || h.Size != int64(len("from outside")) {
		t.Errorf("out = %+v, want the file it points to", h)
	}
	if h := got["opt/x/sub/a.txt"]; h == nil || h.Mode != 0o600 {
		t.Errorf("sub/a.txt = %+v, want mode 0600 kept", h)
	}
}

func TestWheelRejectsAPathOutOfItsDirectory(t *testing.T) {
	f := filepath.Join(t.TempDir(), "evil.whl")
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.Create("../../etc/passwd")
	if err != nil {
		t.Fatal(err)
	}
	_, _ = w.Write([]byte("x"))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(f, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := newRootfs().wheel("usr/local/lib", f); err == nil {
		t.Fatal("a wheel holding ../../etc/passwd was unpacked")
	}
}

func TestRuntimesNameThePackageWhenTheInterpreterIsMissing(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing")
	if _, err := nodeRootfs(missing, nil); err == nil || !strings.Contains(err.Error(), "nodejs") {
		t.Errorf("node: err = %v, want one naming the nodejs package", err)
	}
	if _, _, err := pythonRootfs(missing, ""); err == nil || !strings.Contains(err.Error(), "python3") {
		t.Errorf("python: err = %v, want one naming the python3 package", err)
	}
}

func TestGoRootfsLeavesOutTestsAndDocs(t *testing.T) {
	goroot := t.TempDir()
	for _, f := range []string{"bin/go", "src/net/http/server.go", "src/net/http/server_test.go", "src/net/http/testdata/x", "test/a.go", "doc/go_spec.html", "api/go1.txt"} {
		p := filepath.Join(goroot, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(f), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	r, err := goRootfs(goroot)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"go", "usr/local/go/bin/go", "usr/local/go/src/net/http/server.go"} {
		if r.entries[want] == nil {
			t.Errorf("%s missing from the Go layer", want)
		}
	}
	for n := range r.entries {
		if strings.HasSuffix(n, "_test.go") || strings.Contains(n, "testdata") || strings.HasPrefix(n, "usr/local/go/test") ||
			strings.HasPrefix(n, "usr/local/go/doc") || strings.HasPrefix(n, "usr/local/go/api") {
			t.Errorf("%s is in the Go layer", n)
		}
	}
}

func TestGoToolchain(t *testing.T) {
	out, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		t.Skipf("no go command: %v", err)
	}
	goroot := strings.TrimSpace(string(out))
	img := pushRuntime(t, func(ctx context.Context, ref string, opts ...remote.Option) (v1.Hash, error) {
		return GoToolchain(ctx, ref, goroot, opts...)
	})
	img.wantRegular(t, "usr/local/go/bin/go", "usr/local/go/src/net/http/server.go")
	if img.headers["go/"] == nil {
		t.Error("no /go in the layer")
	}
	img.wantEnv(t, "GOPATH=/go", "GOTOOLCHAIN=local")
	if out := img.dockerRun(t, "0", "go", "version"); !strings.HasPrefix(out, "go version go") {
		t.Errorf("go version in the image printed %q", out)
	}
}
