package integration

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// TestBuildsStayInTheirCheckout builds a repository whose symbolic links lead out of it — a context that is the
// host's root, a Dockerfile in slipway's data dir (its admin token), a Dockerfile that is /etc/passwd — and
// finds each refused at once as InvalidBuildPath, with nothing of those files in the build's error or log.
func TestBuildsStayInTheirCheckout(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	dev := startDev(t, data)
	a := newAPI(t, dev, data)
	token, err := os.ReadFile(filepath.Join(data, "admin-token"))
	if err != nil || len(token) < 8 {
		t.Fatalf("admin token: %q, %v", token, err)
	}

	src := filepath.Join(dir, "repo")
	repo, err := git.PlainInitWithOptions(src, &git.PlainInitOptions{InitOptions: git.InitOptions{DefaultBranch: "refs/heads/main"}})
	if err != nil {
		t.Fatal(err)
	}
	wt, _ := repo.Worktree()
	if err := os.WriteFile(filepath.Join(src, "Dockerfile"), []byte("FROM busybox\nCOPY etc/passwd /leak\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	links := map[string]string{"ctx": "/", "datadir": data, "Dockerfile.evil": "/etc/passwd"}
	for name, to := range links {
		if err := os.Symlink(to, filepath.Join(src, name)); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"Dockerfile", "ctx", "datadir", "Dockerfile.evil"} {
		if _, err := wt.Add(name); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := wt.Commit("links out", &git.CommitOptions{Author: &object.Signature{Name: "t", Email: "t@example.com", When: time.Now()}}); err != nil {
		t.Fatal(err)
	}

	a.call("POST", "/api/v1/projects", map[string]any{"name": "confine"}, http.StatusCreated, nil)
	for name, comp := range map[string]map[string]any{
		"root":   {"context": "ctx"},                    // row 1: COPY the host's files
		"token":  {"dockerfile": "datadir/admin-token"}, // row 2: the admin token as a Dockerfile
		"passwd": {"dockerfile": "Dockerfile.evil"},     // row 12: a Dockerfile that is a host file
	} {
		comp["name"], comp["repo"] = name, "file://"+src
		a.call("POST", "/api/v1/projects/confine/components", comp, http.StatusCreated, nil)
		var started struct{ ID string }
		a.call("POST", "/api/v1/projects/confine/components/"+name+"/builds", map[string]any{}, http.StatusAccepted, &started)
		began := time.Now()
		b := waitBuild(t, a, started.ID, time.Minute)
		took := time.Since(began)
		// The checkout may already have pointed an absolute link back inside it (go-git's bound file system does),
		// which leaves the Dockerfile missing: refused either way, at once.
		refused := strings.Contains(b.Error, "InvalidBuildPath") && strings.Contains(b.Error, "symbolic link") ||
			strings.Contains(b.Error, "InvalidDockerfile") && strings.HasSuffix(b.Error, "not found")
		if b.Status != "failed" || !refused {
			t.Errorf("%s: build %+v, want failed as InvalidBuildPath", name, b)
		}
		if took > 15*time.Second {
			t.Errorf("%s: refused after %s, want at once (no retries)", name, took)
		}
		logs := string(a.call("GET", "/api/v1/builds/"+started.ID+"/logs", nil, http.StatusOK, nil))
		detail := string(a.call("GET", "/api/v1/builds/"+started.ID, nil, http.StatusOK, nil))
		for _, leak := range []string{strings.TrimSpace(string(token)), "root:x:0:0"} {
			if strings.Contains(logs, leak) || strings.Contains(detail, leak) {
				t.Errorf("%s: the build's log or answer holds %q", name, leak[:8])
			}
		}
	}
}
