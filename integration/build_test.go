package integration

import (
	"archive/tar"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/slipway-dev/slipway/baseimages"
)

// gitRepo makes a repository in dir holding files (slash-separated paths relative to dir), commits
// them and returns the commit's SHA.
func gitRepo(t *testing.T, dir string, files map[string]string) string {
	t.Helper()
	repo, err := git.PlainInitWithOptions(dir, &git.PlainInitOptions{InitOptions: git.InitOptions{DefaultBranch: "refs/heads/main"}})
	if err != nil {
		t.Fatal(err)
	}
	wt, err := repo.Worktree()
	if err != nil {
		t.Fatal(err)
	}
	for name, content := range files {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := wt.Add(name); err != nil {
			t.Fatal(err)
		}
	}
	sha, err := wt.Commit("hello", &git.CommitOptions{Author: &object.Signature{Name: "t", Email: "t@example.com", When: time.Unix(1700000000, 0)}})
	if err != nil {
		t.Fatal(err)
	}
	return sha.String()
}

// filesUnder returns every regular file under dir, keyed by its slash-separated path relative to dir.
func filesUnder(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		files[filepath.ToSlash(rel)] = string(b)
		return nil
	})
	if err != nil {
		t.Fatalf("reading %s: %v", dir, err)
	}
	return files
}

type buildDetail struct {
	ID     string `json:"id"`
	Status string `json:"status"`
	Commit string `json:"commit"`
	Digest string `json:"digest"`
	Error  string `json:"error"`
	Steps  []struct {
		Name, Status       string
		StartedAt, EndedAt *time.Time
	} `json:"steps"`
}

// TestBuildFromLocalGitRepo builds examples/hello, committed to a local Git repository, with the
// real buildkitd: its `FROM busybox` resolves through buildkitd's docker.io mirror to the busybox
// image `slipway dev` seeded into the embedded registry. The image is pushed there and pulled back
// by the digest the API reports; it must be the hello service (its command, port and files).
func TestBuildFromLocalGitRepo(t *testing.T) {
	if _, err := os.Stat(baseimages.BusyboxBinary); err != nil {
		t.Skipf("%s missing (Debian package busybox-static), so nothing seeds `FROM busybox`: %v", baseimages.BusyboxBinary, err)
	}
	dir := t.TempDir()
	dev := startDev(t, filepath.Join(dir, "data"))
	a := newAPI(t, dev, filepath.Join(dir, "data"))
	src := filepath.Join(dir, "src")
	commit := gitRepo(t, src, filesUnder(t, filepath.Join("..", "examples", "hello")))

	a.call("POST", "/api/v1/projects", map[string]any{"name": "shop"}, http.StatusCreated, nil)
	a.call("POST", "/api/v1/projects/shop/components", map[string]any{"name": "hello", "repo": "file://" + src, "branch": "main"}, http.StatusCreated, nil)
	var started struct {
		ID       string `json:"id"`
		Commit   string `json:"commit"`
		Existing bool   `json:"existing"`
	}
	a.call("POST", "/api/v1/projects/shop/components/hello/builds", map[string]any{}, http.StatusAccepted, &started)
	if started.Commit != commit {
		t.Fatalf("build of %s, want the branch head %s", started.Commit, commit)
	}

	b := waitBuild(t, a, started.ID, 3*time.Minute)
	if b.Status != "succeeded" || !strings.HasPrefix(b.Digest, "sha256:") {
		logs := a.call("GET", "/api/v1/builds/"+started.ID+"/logs", nil, http.StatusOK, nil)
		t.Fatalf("build ended %+v\nlog:\n%s", b, logs)
	}
	var steps []string
	for _, s := range b.Steps {
		steps = append(steps, s.Name+"="+s.Status)
	}
	if strings.Join(steps, " ") != "checkout=succeeded build=succeeded scan=succeeded push=succeeded spec=succeeded" {
		t.Fatalf("steps %v", steps)
	}

	logs := string(a.call("GET", "/api/v1/builds/"+started.ID+"/logs", nil, http.StatusOK, nil))
	for _, want := range []string{"docker.io/library/busybox", "COPY www /www", "pushed "} {
		if !strings.Contains(logs, want) {
			t.Fatalf("log lacks %q:\n%s", want, logs)
		}
	}

	ref, err := name.ParseReference(dev.Endpoints.Registry + "/shop/hello@" + b.Digest)
	if err != nil {
		t.Fatal(err)
	}
	auth := pushAuth(t, filepath.Join(dir, "data"), dev.Endpoints.Registry)
	if _, err := remote.Image(ref); err == nil {
		t.Fatalf("pulled %s without the registry's credentials", ref)
	}
	img, err := remote.Image(ref, auth)
	if err != nil {
		t.Fatalf("pulling %s: %v", ref, err)
	}
	checkHelloImage(t, img)
	seeded, err := name.ParseReference(dev.Endpoints.Registry + "/library/busybox:latest")
	if err != nil {
		t.Fatal(err)
	}
	base, err := remote.Image(seeded, auth)
	if err != nil {
		t.Fatalf("the seeded base image %s: %v", seeded, err)
	}
	if got, want := firstLayer(t, img), firstLayer(t, base); got != want {
		t.Fatalf("image's base layer %s, want the seeded busybox's %s", got, want)
	}

	tagged, _ := name.ParseReference(dev.Endpoints.Registry + "/shop/hello:" + commit)
	if d, err := remote.Head(tagged, auth); err != nil || d.Digest.String() != b.Digest {
		t.Fatalf("tag %s: %v %v, want %s", commit, d, err, b.Digest)
	}

	var again struct {
		ID       string `json:"id"`
		Existing bool   `json:"existing"`
	}
	a.call("POST", "/api/v1/projects/shop/components/hello/builds", map[string]any{"commit": commit[:8]}, http.StatusOK, &again)
	if !again.Existing || again.ID != started.ID {
		t.Fatalf("second trigger of the same commit = %+v, want the existing build %s", again, started.ID)
	}
}

// checkHelloImage checks that img would serve examples/hello: no container can run here (no
// dockerd), so it checks what `docker run` would use — the command, the exposed port — and the
// files httpd serves, /healthz among them.
func checkHelloImage(t *testing.T, img v1.Image) {
	t.Helper()
	cfg, err := img.ConfigFile()
	if err != nil {
		t.Fatalf("image config: %v", err)
	}
	if got, want := strings.Join(cfg.Config.Cmd, " "), "httpd -f -p 8080 -h /www"; got != want {
		t.Errorf("Cmd %q, want %q", cfg.Config.Cmd, want)
	}
	if _, ok := cfg.Config.ExposedPorts["8080/tcp"]; !ok || len(cfg.Config.ExposedPorts) != 1 {
		t.Errorf("ExposedPorts %v, want only 8080/tcp", cfg.Config.ExposedPorts)
	}
	if got := fileInImage(t, img, "www/healthz"); got != "ok\n" {
		t.Errorf("/www/healthz = %q, want \"ok\\n\"", got)
	}
	if got := fileInImage(t, img, "www/index.html"); !strings.Contains(got, "hello from slipway") {
		t.Errorf("/www/index.html = %q", got)
	}
	if got := fileInImage(t, img, "bin/busybox"); len(got) == 0 {
		t.Error("/bin/busybox, httpd's binary, is empty")
	}
}

// firstLayer returns the digest of img's bottom layer.
func firstLayer(t *testing.T, img v1.Image) string {
	t.Helper()
	layers, err := img.Layers()
	if err != nil || len(layers) == 0 {
		t.Fatalf("layers: %d, %v", len(layers), err)
	}
	d, err := layers[0].Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d.String()
}

func waitBuild(t *testing.T, a api, id string, within time.Duration) buildDetail {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		var b buildDetail
		a.call("GET", "/api/v1/builds/"+id, nil, http.StatusOK, &b)
		switch b.Status {
		case "succeeded", "failed", "cancelled":
			return b
		}
		if time.Now().After(deadline) {
			t.Fatalf("build %s still %s after %s", id, b.Status, within)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// fileInImage returns the content of path (no leading slash) in the image's flattened filesystem.
func fileInImage(t *testing.T, img v1.Image, path string) string {
	t.Helper()
	rc := mutate.Extract(img)
	defer rc.Close()
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			t.Fatalf("%s not in the image", path)
		}
		if err != nil {
			t.Fatal(err)
		}
		if strings.TrimPrefix(h.Name, "/") == path {
			b, _ := io.ReadAll(tr)
			return string(b)
		}
	}
}
