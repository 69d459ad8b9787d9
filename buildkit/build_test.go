package buildkit

import (
	"archive/tar"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/moby/buildkit/client"
)

// writeContext writes files (path → content) into a new directory and returns it.
func writeContext(t testing.TB, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for p, content := range files {
		full := filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// nonce makes a Dockerfile step unique to one test run, so buildkitd's cache from an earlier test
// or run cannot answer it.
func nonce() string { return fmt.Sprint(time.Now().UnixNano()) }

// build runs req on the shared buildkitd and returns the result, the progress lines and the error.
func build(t testing.TB, ctx context.Context, req Request) (Result, []string, error) {
	t.Helper()
	return buildOn(t, ctx, sharedEnv(t).daemon.Address(), req)
}

// buildOn runs req on the buildkitd at address, as build does.
func buildOn(t testing.TB, ctx context.Context, address string, req Request) (Result, []string, error) {
	t.Helper()
	if req.OutputDir == "" {
		req.OutputDir = filepath.Join(t.TempDir(), "oci")
	}
	var lines []string
	b := &Builder{Address: address}
	res, err := b.Build(ctx, req, func(l Line) {
		if l.Time.IsZero() {
			t.Errorf("progress line %q has no time", l.Text)
		}
		lines = append(lines, l.Text)
	})
	return res, lines, err
}

func testContext(t testing.TB) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// hasLine reports whether a progress line matches the regular expression re.
func hasLine(lines []string, re string) bool {
	r := regexp.MustCompile(re)
	for _, l := range lines {
		if r.MatchString(l) {
			return true
		}
	}
	return false
}

// imageFiles reads the image digest from the OCI layout at dir and returns its flattened
// filesystem's regular files (path → content).
func imageFiles(t *testing.T, dir string, digest string) map[string]string {
	t.Helper()
	p, err := layout.FromPath(dir)
	if err != nil {
		t.Fatalf("opening OCI layout %s: %v", dir, err)
	}
	h, err := v1.NewHash(digest)
	if err != nil {
		t.Fatalf("digest %q: %v", digest, err)
	}
	img, err := p.Image(h)
	if err != nil {
		t.Fatalf("image %s in layout: %v", digest, err)
	}
	rc := mutate.Extract(img)
	defer rc.Close()
	files := map[string]string{}
	tr := tar.NewReader(rc)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return files
		}
		if err != nil {
			t.Fatalf("reading image filesystem: %v", err)
		}
		if hdr.Typeflag == tar.TypeReg {
			data, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			files[hdr.Name] = string(data)
		}
	}
}

func TestBuildWritesOCILayoutWithProgress(t *testing.T) {
	e := sharedEnv(t)
	n := nonce()
	dir := writeContext(t, map[string]string{
		"Dockerfile": fmt.Sprintf("FROM %s\nARG WHO\nRUN echo hello $WHO > /greeting && echo greeting-written-%s\nCOPY app.txt /app/app.txt\nCMD [\"cat\", \"/greeting\"]\n", e.base, n),
		"app.txt":    "app " + n + "\n",
	})
	out := filepath.Join(t.TempDir(), "oci")

	res, lines, err := build(t, testContext(t), Request{ContextDir: dir, OutputDir: out, BuildArgs: map[string]string{"WHO": "slipway"}})
	if err != nil {
		t.Fatalf("Build: %v\n%s", err, strings.Join(lines, "\n"))
	}
	if !strings.HasPrefix(res.Digest, "sha256:") || res.LayoutDir != out {
		t.Fatalf("Result = %+v, want a sha256 digest and layout %s", res, out)
	}

	var index v1.IndexManifest
	data, err := os.ReadFile(filepath.Join(out, "index.json"))
	if err != nil {
		t.Fatalf("reading index.json: %v", err)
	}
	if err := json.Unmarshal(data, &index); err != nil {
		t.Fatalf("parsing index.json: %v", err)
	}
	if len(index.Manifests) != 1 || index.Manifests[0].Digest.String() != res.Digest {
		t.Fatalf("index.json manifests %+v, want one: %s", index.Manifests, res.Digest)
	}
	files := imageFiles(t, out, res.Digest)
	if got := files["greeting"]; got != "hello slipway\n" {
		t.Errorf("/greeting = %q, want %q", got, "hello slipway\n")
	}
	if got := files["app/app.txt"]; got != "app "+n+"\n" {
		t.Errorf("/app/app.txt = %q", got)
	}
	if _, ok := files["bin/busybox"]; !ok {
		t.Errorf("image lacks the base image's /bin/busybox")
	}

	for _, want := range []string{
		`^#\d+ \[\d/\d\] RUN echo hello slipway > /greeting`,
		`^#\d+ \d+\.\d+ greeting-written-` + n + `$`,
		`^#\d+ DONE \d+\.\d+s$`,
	} {
		if !hasLine(lines, want) {
			t.Errorf("no progress line matches %q in:\n%s", want, strings.Join(lines, "\n"))
		}
	}
}

func TestBuildPullsThroughTheDockerHubMirror(t *testing.T) {
	dir := writeContext(t, map[string]string{
		"docker/app.Dockerfile": "FROM busybox\nRUN echo mirrored-" + nonce() + " > /m\n",
	})
	res, lines, err := build(t, testContext(t), Request{ContextDir: dir, Dockerfile: "docker/app.Dockerfile"})
	if err != nil {
		t.Fatalf("Build: %v\n%s", err, strings.Join(lines, "\n"))
	}
	if !strings.HasPrefix(res.Digest, "sha256:") {
		t.Fatalf("digest %q", res.Digest)
	}
}

func TestBuildTarget(t *testing.T) {
	e := sharedEnv(t)
	n := nonce()
	dir := writeContext(t, map[string]string{
		"Dockerfile": fmt.Sprintf("FROM %s AS first\nRUN echo first-%s > /stage\nFROM %s AS second\nRUN echo second > /stage\n", e.base, n, e.base),
	})
	out := filepath.Join(t.TempDir(), "oci")
	res, lines, err := build(t, testContext(t), Request{ContextDir: dir, OutputDir: out, Target: "first"})
	if err != nil {
		t.Fatalf("Build: %v\n%s", err, strings.Join(lines, "\n"))
	}
	if got := imageFiles(t, out, res.Digest)["stage"]; got != "first-"+n+"\n" {
		t.Errorf("/stage = %q, want the first stage's", got)
	}
}

func TestBuildFailuresArePermanent(t *testing.T) {
	e := sharedEnv(t)
	for _, tc := range []struct {
		name       string
		dockerfile string
		target     string
		wantType   string
		wantMsg    string
	}{
		{"unknown instruction", "FROM " + e.base + "\nRUNN echo hi\n", "", ErrTypeDockerfile, "unknown instruction"},
		{"COPY without a destination", "FROM " + e.base + "\nCOPY\n", "", ErrTypeDockerfile, "COPY requires at least two arguments"},
		{"empty Dockerfile", "", "", ErrTypeDockerfile, "empty"},
		{"unknown target", "FROM " + e.base + " AS app\n", "nope", ErrTypeDockerfile, "nope"},
		{"failing RUN", "FROM " + e.base + "\nRUN echo failing-" + nonce() + " && exit 3\n", "", ErrTypeBuildStep, "exit code: 3"},
		{"COPY of a missing file", "FROM " + e.base + "\nCOPY missing.txt /\n", "", ErrTypeBuildStep, "missing.txt"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeContext(t, map[string]string{"Dockerfile": tc.dockerfile})
			_, lines, err := build(t, testContext(t), Request{ContextDir: dir, Target: tc.target})
			if err == nil {
				t.Fatal("Build succeeded")
			}
			var be *BuildError
			if !errors.As(err, &be) {
				t.Fatalf("err = %v (%T), want a *BuildError", err, err)
			}
			if typ, permanent := Classify(err); typ != tc.wantType || !permanent {
				t.Errorf("Classify = %q, %v; want %q, true (err: %v)", typ, permanent, tc.wantType, err)
			}
			if !strings.Contains(err.Error(), tc.wantMsg) {
				t.Errorf("err = %q, want it to mention %q", err, tc.wantMsg)
			}
			if tc.wantType == ErrTypeBuildStep && !hasLine(lines, `ERROR`) {
				t.Errorf("no ERROR progress line in:\n%s", strings.Join(lines, "\n"))
			}
		})
	}
}

func TestBuildMissingInputsArePermanent(t *testing.T) {
	dir := writeContext(t, map[string]string{"Dockerfile": "FROM scratch\n"})
	b := &Builder{Address: "unix:///nonexistent/buildkitd.sock"} // never reached: inputs are checked first
	for _, tc := range []struct {
		name     string
		req      Request
		wantType string
	}{
		{"missing context", Request{ContextDir: filepath.Join(dir, "nope"), OutputDir: t.TempDir()}, ErrTypeBuildContext},
		{"missing Dockerfile", Request{ContextDir: dir, Dockerfile: "app/Dockerfile", OutputDir: t.TempDir()}, ErrTypeDockerfile},
		{"Dockerfile is a directory", Request{ContextDir: filepath.Dir(dir), Dockerfile: filepath.Base(dir), OutputDir: t.TempDir()}, ErrTypeDockerfile},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := b.Build(context.Background(), tc.req, nil)
			if typ, permanent := Classify(err); typ != tc.wantType || !permanent {
				t.Errorf("Classify(%v) = %q, %v; want %q, true", err, typ, permanent, tc.wantType)
			}
		})
	}
}

func TestBuildUnreachableBuildkitdIsTransient(t *testing.T) {
	dir := writeContext(t, map[string]string{"Dockerfile": "FROM scratch\n"})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b := &Builder{Address: "unix://" + filepath.Join(t.TempDir(), "buildkitd.sock")}
	_, err := b.Build(ctx, Request{ContextDir: dir, OutputDir: t.TempDir()}, nil)
	if err == nil {
		t.Fatal("Build succeeded without a buildkitd")
	}
	if ctx.Err() != nil {
		t.Fatalf("Build waited for the deadline instead of failing: %v", err)
	}
	if typ, permanent := Classify(err); permanent {
		t.Errorf("Classify(%v) = %q, true; want transient", err, typ)
	}
	if !strings.Contains(err.Error(), "buildkitd") {
		t.Errorf("err = %v, want it to name buildkitd", err)
	}
}

func TestBuildCancelStopsPromptly(t *testing.T) {
	e := sharedEnv(t)
	dir := writeContext(t, map[string]string{
		"Dockerfile": fmt.Sprintf("FROM %s\nRUN echo sleeping-%s && sleep 120\n", e.base, nonce()),
	})
	ctx, cancel := context.WithCancel(testContext(t))
	defer cancel()
	running := make(chan struct{})
	var signalled bool
	b := &Builder{Address: e.daemon.Address()}
	done := make(chan error, 1)
	go func() {
		_, err := b.Build(ctx, Request{ContextDir: dir, OutputDir: t.TempDir()}, func(l Line) {
			if !signalled && strings.Contains(l.Text, " sleeping-") {
				signalled = true
				close(running)
			}
		})
		done <- err
	}()
	select {
	case <-running:
	case err := <-done:
		t.Fatalf("Build ended before the RUN step started: %v", err)
	case <-time.After(2 * time.Minute):
		t.Fatal("the RUN step never started")
	}
	cancelled := time.Now()
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v, want context.Canceled", err)
		}
		if _, permanent := Classify(err); permanent {
			t.Errorf("a cancelled build classified permanent: %v", err)
		}
		if took := time.Since(cancelled); took > 15*time.Second {
			t.Errorf("Build returned %s after cancel", took)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Build did not return within 30s of cancel")
	}
}

func TestBuildReusesRegistryCache(t *testing.T) {
	e := sharedEnv(t)
	n := nonce()
	files := map[string]string{
		"Dockerfile": fmt.Sprintf("FROM %s\nRUN echo expensive > /expensive && echo ran-expensive-%s\nCOPY app.txt /app.txt\n", e.base, n),
		"app.txt":    "v1\n",
	}
	cacheRef := e.registry + "/cache/app:buildcache-" + n
	req := Request{ContextDir: writeContext(t, files), CacheRef: cacheRef, CacheInsecure: true}
	first, lines, err := build(t, testContext(t), req)
	if err != nil {
		t.Fatalf("first Build: %v\n%s", err, strings.Join(lines, "\n"))
	}
	if !hasLine(lines, `^#\d+ \d+\.\d+ ran-expensive-`+n+`$`) {
		t.Fatalf("first build did not run the RUN step:\n%s", strings.Join(lines, "\n"))
	}
	if hasLine(lines, `importing cache manifest`) || hasLine(lines, `ERROR`) {
		t.Fatalf("first build asked for the cache that does not exist yet:\n%s", strings.Join(lines, "\n"))
	}
	ref, err := name.ParseReference(cacheRef)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := remote.Head(ref, remote.WithContext(testContext(t))); err != nil {
		t.Fatalf("cache %s not exported to the registry: %v", cacheRef, err)
	}

	// Drop buildkitd's local cache, so only the registry cache can answer the second build.
	if err := pruneAll(testContext(t), e.daemon.Address()); err != nil {
		t.Fatalf("pruning buildkitd's cache: %v", err)
	}
	req.ContextDir = writeContext(t, files) // a new checkout of the same commit
	second, lines, err := build(t, testContext(t), req)
	if err != nil {
		t.Fatalf("second Build: %v\n%s", err, strings.Join(lines, "\n"))
	}
	if !hasLine(lines, `^#\d+ importing cache manifest from `) || !hasLine(lines, `^#\d+ CACHED$`) ||
		hasLine(lines, `^#\d+ \d+\.\d+ ran-expensive-`+n+`$`) {
		t.Errorf("second build ran the RUN step again instead of using the cache:\n%s", strings.Join(lines, "\n"))
	}
	if second.Digest != first.Digest {
		t.Errorf("rebuild digest %s, first %s: same inputs should give the same image", second.Digest, first.Digest)
	}
}

// pruneAll empties buildkitd's local build cache.
func pruneAll(ctx context.Context, addr string) error {
	c, err := client.New(ctx, addr)
	if err != nil {
		return err
	}
	defer c.Close()
	return c.Prune(ctx, nil, client.PruneAll)
}
