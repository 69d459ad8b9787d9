package integration

import (
	"archive/tar"
	"context"
	"errors"
	"io"
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

	"github.com/slipway-dev/slipway/testimages"
)

// gitRepo makes a repository in dir holding files, commits them and returns the commit's SHA.
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
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
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

type buildDetail struct {
	ID     string `json:"id"`
	Status string `json:"status"`
	Commit string `json:"commit"`
	Digest string `json:"digest"`
	Error  string `json:"error"`
	Steps  []struct {
		Name, Status string
	} `json:"steps"`
}

// TestBuildFromLocalGitRepo builds a commit of a local Git repository with the real buildkitd,
// pushes it to the embedded registry and pulls it back by the digest the API reports.
func TestBuildFromLocalGitRepo(t *testing.T) {
	dir := t.TempDir()
	dev := startDev(t, filepath.Join(dir, "data"))
	a := newAPI(t, dev, filepath.Join(dir, "data"))
	ctx := context.Background()
	base := dev.Endpoints.Registry + "/base/busybox:latest"
	if _, err := testimages.Busybox(ctx, base); err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(dir, "src")
	os.MkdirAll(src, 0o755)
	commit := gitRepo(t, src, map[string]string{
		"Dockerfile": "FROM " + base + "\nRUN echo hello from slipway > /greeting\nCOPY index.html /www/index.html\n",
		"index.html": "<h1>hello</h1>\n",
	})

	a.call("POST", "/api/v1/projects", map[string]any{"name": "shop"}, http.StatusCreated, nil)
	a.call("POST", "/api/v1/projects/shop/components", map[string]any{"name": "api", "repo": "file://" + src, "branch": "main"}, http.StatusCreated, nil)
	var started struct {
		ID       string `json:"id"`
		Commit   string `json:"commit"`
		Existing bool   `json:"existing"`
	}
	a.call("POST", "/api/v1/projects/shop/components/api/builds", map[string]any{}, http.StatusAccepted, &started)
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
	if strings.Join(steps, " ") != "checkout=succeeded build=succeeded push=succeeded" {
		t.Fatalf("steps %v", steps)
	}

	logs := string(a.call("GET", "/api/v1/builds/"+started.ID+"/logs", nil, http.StatusOK, nil))
	if !strings.Contains(logs, "echo hello from slipway") || !strings.Contains(logs, "pushed ") {
		t.Fatalf("log lacks the RUN step or the push:\n%s", logs)
	}

	ref, err := name.ParseReference(dev.Endpoints.Registry + "/shop/api@" + b.Digest)
	if err != nil {
		t.Fatal(err)
	}
	img, err := remote.Image(ref)
	if err != nil {
		t.Fatalf("pulling %s: %v", ref, err)
	}
	if got := fileInImage(t, img, "greeting"); got != "hello from slipway\n" {
		t.Fatalf("/greeting in the image = %q", got)
	}
	tagged, _ := name.ParseReference(dev.Endpoints.Registry + "/shop/api:" + commit)
	if d, err := remote.Head(tagged); err != nil || d.Digest.String() != b.Digest {
		t.Fatalf("tag %s: %v %v, want %s", commit, d, err, b.Digest)
	}

	var again struct {
		ID       string `json:"id"`
		Existing bool   `json:"existing"`
	}
	a.call("POST", "/api/v1/projects/shop/components/api/builds", map[string]any{"commit": commit[:8]}, http.StatusOK, &again)
	if !again.Existing || again.ID != started.ID {
		t.Fatalf("second trigger of the same commit = %+v, want the existing build %s", again, started.ID)
	}
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
