package integration

import (
	"fmt"
	"net"
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

// TestBuildStepsCannotReachSlipway builds, on `slipway dev`'s own buildkitd with its default build network, a
// Dockerfile whose steps call each of slipway's services on the host's loopback (the API, the registry, the
// Temporal frontend and UI), as an attacker's repository would, and finds every one unreachable while the build
// succeeds.
func TestBuildStepsCannotReachSlipway(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	dev := startDev(t, data)
	a := newAPI(t, dev, data)

	services := map[string]string{
		"api":      strings.TrimPrefix(dev.Endpoints.HTTP, "http://"),
		"registry": dev.Endpoints.Registry,
		"temporal": dev.Endpoints.Temporal,
		"ui":       strings.TrimPrefix(dev.Endpoints.UI, "http://"),
	}
	var steps []string
	for name, hostPort := range services {
		host, port, err := net.SplitHostPort(hostPort)
		if err != nil {
			t.Fatalf("%s at %q: %v", name, hostPort, err)
		}
		// Anything answered at all counts as reached. (The quotes keep the command line, also logged, from matching.)
		steps = append(steps, fmt.Sprintf(`RUN (printf 'GET / HTTP/1.0\r\n\r\n' | nc -w 3 %s %s 2>/dev/null | head -c 64 | grep -q . && echo REACHED-"%s") || echo unreachable-"%s"`,
			host, port, name, name))
	}
	src := filepath.Join(dir, "repo")
	gitRepo(t, src, map[string]string{"Dockerfile": "FROM busybox\n" + strings.Join(steps, "\n") + "\n"})

	a.call("POST", "/api/v1/projects", map[string]any{"name": "netprobe"}, http.StatusCreated, nil)
	a.call("POST", "/api/v1/projects/netprobe/components", map[string]any{"name": "probe", "repo": "file://" + src}, http.StatusCreated, nil)
	var started struct{ ID string }
	a.call("POST", "/api/v1/projects/netprobe/components/probe/builds", map[string]any{}, http.StatusAccepted, &started)
	b := waitBuild(t, a, started.ID, 2*time.Minute)
	logs := string(a.call("GET", "/api/v1/builds/"+started.ID+"/logs", nil, http.StatusOK, nil))
	if b.Status != "succeeded" {
		t.Fatalf("build %+v, want succeeded\n%s", b, logs)
	}
	for name := range services {
		if strings.Contains(logs, "REACHED-"+name) || !strings.Contains(logs, "unreachable-"+name) {
			t.Errorf("a build step reached slipway's %s at %s (or did not say):\n%s", name, services[name], logs)
		}
	}

	// ADD <url> is fetched by buildkitd itself, on the host's network: what it can reach needs credentials.
	for name, url := range map[string]string{
		"registry": "http://" + dev.Endpoints.Registry + "/v2/_catalog",
		"api":      dev.Endpoints.HTTP + "/api/v1/projects",
		"ui":       dev.Endpoints.UI + "/api/v1/namespaces/default/workflows",
	} {
		comp := "add-" + name
		gitRepo(t, filepath.Join(dir, comp), map[string]string{"Dockerfile": "FROM busybox\nADD " + url + " /stolen\n"})
		a.call("POST", "/api/v1/projects/netprobe/components", map[string]any{"name": comp, "repo": "file://" + filepath.Join(dir, comp)}, http.StatusCreated, nil)
		a.call("POST", "/api/v1/projects/netprobe/components/"+comp+"/builds", map[string]any{}, http.StatusAccepted, &started)
		b := waitBuild(t, a, started.ID, 2*time.Minute)
		logs := string(a.call("GET", "/api/v1/builds/"+started.ID+"/logs", nil, http.StatusOK, nil))
		if b.Status != "failed" || !strings.Contains(logs, "401") {
			t.Errorf("ADD %s: build %s, want failed on a 401:\n%s", url, b.Status, logs)
		}
	}
}
