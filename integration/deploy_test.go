package integration

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/moby/moby/client"

	"github.com/slipway-dev/slipway/baseimages"
	"github.com/slipway-dev/slipway/dataplane"
	"github.com/slipway-dev/slipway/dataplane/docker"
	"github.com/slipway-dev/slipway/workflows"
)

type deploymentState struct {
	ID          string `json:"id"`
	Environment string `json:"environment"`
	Build       string `json:"build"`
	Digest      string `json:"digest"`
	Status      string `json:"status"`
	URL         string `json:"url"`
	Message     string `json:"message"`
}

// waitDeployment polls the deployments of the component at base (its API path) until deployment id has ended.
func waitDeployment(t *testing.T, a api, base, id string, within time.Duration) deploymentState {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		var out struct {
			Items []struct {
				Environment string            `json:"environment"`
				History     []deploymentState `json:"history"`
			} `json:"items"`
		}
		a.call("GET", base+"/deployments", nil, http.StatusOK, &out)
		for _, e := range out.Items {
			for _, d := range e.History {
				if d.ID == id && (d.Status == "succeeded" || d.Status == "failed") {
					return d
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("deployment %s not ended after %s: %+v", id, within, out)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// hammer sends requests to url until stopped and counts the failed ones.
type hammer struct {
	stop     chan struct{}
	wg       sync.WaitGroup
	total    atomic.Int64
	mu       sync.Mutex
	failures []string
}

func startHammer(url string, clients int) *hammer {
	h := &hammer{stop: make(chan struct{})}
	for range clients {
		h.wg.Go(func() {
			c := &http.Client{Timeout: 5 * time.Second}
			for {
				select {
				case <-h.stop:
					return
				default:
				}
				resp, err := c.Get(url)
				h.total.Add(1)
				if err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						err = &statusError{resp.StatusCode}
					}
				}
				if err != nil {
					h.mu.Lock()
					h.failures = append(h.failures, err.Error())
					h.mu.Unlock()
				}
			}
		})
	}
	return h
}

type statusError struct{ code int }

func (e *statusError) Error() string { return http.StatusText(e.code) }

func (h *hammer) finish(t *testing.T, what string) {
	t.Helper()
	close(h.stop)
	h.wg.Wait()
	if len(h.failures) != 0 || h.total.Load() == 0 {
		t.Fatalf("%s: %d of %d requests failed: %v", what, len(h.failures), h.total.Load(), h.failures[:min(5, len(h.failures))])
	}
	t.Logf("%s: %d requests, 0 failed", what, h.total.Load())
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, b)
	}
	return string(b)
}

// TestDeployPromoteAndSurviveABadBuild builds examples/hello, deploys it to development, promotes the same
// digest to production, then rolls out a good and a broken build under load: 0 failed requests through the
// entry addresses, and production keeps the old release when the broken one never gets ready.
func TestDeployPromoteAndSurviveABadBuild(t *testing.T) {
	if _, err := os.Stat(baseimages.BusyboxBinary); err != nil {
		t.Skipf("%s missing: %v", baseimages.BusyboxBinary, err)
	}
	dockerEngine(t)
	dir := t.TempDir()
	cfg := devConfig(filepath.Join(dir, "data"))
	cfg.Deploy.ReadyTimeout = 8 * time.Second
	dev := startDevWith(t, cfg)
	a := newAPI(t, dev, filepath.Join(dir, "data"))
	project := "dep" + strings.ToLower(time.Now().Format("150405"))
	a.call("POST", "/api/v1/projects", map[string]any{"name": project}, http.StatusCreated, nil)
	withoutApprovals(t, a, project)
	t.Cleanup(func() { removeContainersOf(t, project) })
	base := "/api/v1/projects/" + project + "/components/hello"

	hello := filesUnder(t, filepath.Join("..", "examples", "hello"))
	src := filepath.Join(dir, "hello")
	gitRepo(t, src, hello)
	a.call("POST", "/api/v1/projects/"+project+"/components", map[string]any{"name": "hello", "repo": "file://" + src, "autoDeploy": true},
		http.StatusCreated, nil)
	// build builds the branch head (again) and returns the build and the deployment it queued in development.
	build := func(wantStatus string) (buildDetail, string) {
		var started struct{ ID string }
		a.call("POST", base+"/builds", map[string]any{"rebuild": true}, http.StatusAccepted, &started)
		b := waitBuild(t, a, started.ID, 3*time.Minute)
		if b.Status != wantStatus {
			t.Fatalf("build %+v, want %s", b, wantStatus)
		}
		return b, "d-auto-" + strings.TrimPrefix(b.ID, "b-")
	}

	// Without its config and secret, the auto-build fails at deploy, naming both, and nothing is deployed.
	failed, _ := build("failed")
	if !strings.Contains(failed.Error, "MissingConfig") || !strings.Contains(failed.Error, "GREETING (config)") ||
		!strings.Contains(failed.Error, "API_TOKEN (secret)") {
		t.Fatalf("auto-build without configs: %+v", failed)
	}
	body := string(a.call("POST", base+"/environments/development/deploy", map[string]any{"build": failed.ID}, http.StatusConflict, nil))
	if !strings.Contains(body, "only a succeeded build") {
		t.Fatalf("deploying a failed build: %s", body)
	}
	for env, greeting := range map[string]string{"development": "hi dev", "production": "hi prod"} {
		a.call("PUT", base+"/environments/"+env+"/configs/GREETING", map[string]any{"value": greeting}, http.StatusCreated, nil)
		a.call("PUT", base+"/environments/"+env+"/configs/API_TOKEN", map[string]any{"value": "s3cret-" + env, "secret": true}, http.StatusCreated, nil)
	}

	built, depID := build("succeeded")
	b1 := built.ID
	if steps := fmt.Sprint(built.Steps); !strings.Contains(steps, "deploy succeeded") {
		t.Fatalf("auto-build steps %s", steps)
	}
	devDep := waitDeployment(t, a, base, depID, 2*time.Minute)
	if devDep.Status != "succeeded" || devDep.URL == "" || devDep.Environment != "development" {
		t.Fatalf("development deployment %+v", devDep)
	}
	if page := get(t, devDep.URL+"/"); !strings.Contains(page, "hello from slipway") {
		t.Fatalf("development serves %q", page)
	}

	prodDep := deployedBy(t, a, base, a.call("POST", base+"/promote", map[string]any{}, http.StatusAccepted, nil), 2*time.Minute)
	if prodDep.Status != "succeeded" || prodDep.Environment != "production" || prodDep.Build != b1 || prodDep.Digest != devDep.Digest {
		t.Fatalf("promotion %+v, want build %s with digest %s", prodDep, b1, devDep.Digest)
	}
	if prodDep.URL == devDep.URL {
		t.Fatal("production shares development's entry")
	}
	// Production's release got production's config.
	if env := containerEnv(t, project, "production"); !slices.Contains(env, "GREETING=hi prod") || slices.Contains(env, "GREETING=hi dev") {
		t.Fatalf("production's container environment %v", env)
	}
	get(t, prodDep.URL+"/healthz")

	// A good rollout to development (the next auto-build) under load.
	h := startHammer(devDep.URL+"/", 4)
	_, depID = build("succeeded")
	if got := waitDeployment(t, a, base, depID, 2*time.Minute); got.Status != "succeeded" || got.URL != devDep.URL {
		t.Fatalf("second development deployment %+v", got)
	}
	h.finish(t, "good rollout")

	// A broken build (no /healthz) replaces neither development's release nor production's.
	commitChange(t, src, nil, "www/healthz")
	hDev, hProd := startHammer(devDep.URL+"/", 2), startHammer(prodDep.URL+"/", 2)
	broken, depID := build("succeeded")
	if bad := waitDeployment(t, a, base, depID, 2*time.Minute); bad.Status != "failed" || !strings.Contains(bad.Message, "GET /healthz: 404") {
		t.Fatalf("broken auto-deployment %+v", bad)
	}
	bad := deployedBy(t, a, base, a.call("POST", base+"/environments/production/deploy", map[string]any{"build": broken.ID}, http.StatusAccepted, nil), 2*time.Minute)
	hDev.finish(t, "failed rollout in development")
	hProd.finish(t, "failed rollout in production")
	if bad.Status != "failed" || !strings.Contains(bad.Message, "GET /healthz: 404") {
		t.Fatalf("broken deployment %+v", bad)
	}
	var deps struct {
		Items []struct {
			Environment string           `json:"environment"`
			Current     *deploymentState `json:"current"`
		} `json:"items"`
	}
	a.call("GET", base+"/deployments", nil, http.StatusOK, &deps)
	if len(deps.Items) != 2 || deps.Items[1].Current == nil || deps.Items[1].Current.Build != b1 {
		t.Fatalf("production's current release after the broken deploy: %+v", deps.Items)
	}
	get(t, prodDep.URL+"/healthz")

	// The deploy workflow's history holds no secret (the activities read and decrypt them themselves).
	path := filepath.Join(t.TempDir(), "deploy_queue.json")
	if os.Getenv("SLIPWAY_RECORD_HISTORIES") != "" {
		path = "../workflows/testdata/deploy_queue.json"
	}
	recordHistory(t, dev.Temporal, dev.Keys, workflows.DeployWorkflowID(project, "hello", "production"), path)
	if hist, err := os.ReadFile(path); err != nil || strings.Contains(string(hist), "s3cret-") || strings.Contains(string(hist), "hi prod") {
		t.Fatalf("the deploy history holds a config value (%v)", err)
	}

	// Stopping slipway leaves the releases running; starting it again on the same edge address serves them at
	// the same URLs.
	stopDev(t, dev)
	if _, err := http.Get(prodDep.URL + "/healthz"); err == nil {
		t.Fatal("the entry still answers with slipway stopped")
	}
	cfg.Edge.Address = strings.TrimPrefix(dev.Endpoints.Edge, "http://")
	startDevWith(t, cfg)
	get(t, prodDep.URL+"/healthz")
	if page := get(t, devDep.URL+"/"); !strings.Contains(page, "hello from slipway") {
		t.Fatalf("development serves %q after the restart", page)
	}
}

// commitChange commits files (path → content) and removes the paths in gone, in the repository at dir.
func commitChange(t *testing.T, dir string, files map[string]string, gone ...string) string {
	t.Helper()
	repo, err := git.PlainOpen(dir)
	if err != nil {
		t.Fatal(err)
	}
	wt, err := repo.Worktree()
	if err != nil {
		t.Fatal(err)
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(name)), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := wt.Add(name); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range gone {
		if _, err := wt.Remove(name); err != nil {
			t.Fatal(err)
		}
	}
	sha, err := wt.Commit("change", &git.CommitOptions{Author: &object.Signature{Name: "t", Email: "t@example.com", When: time.Now()}})
	if err != nil {
		t.Fatal(err)
	}
	return sha.String()
}

// containerEnv returns the environment of the (first) container of hello in the project's environment.
func containerEnv(t *testing.T, project, environment string) []string {
	t.Helper()
	d := dockerFor(t, project)
	insts, err := d.Describe(t.Context(), project, "hello", environment)
	if err != nil || len(insts) == 0 {
		t.Fatalf("instances of hello in %s: %+v, %v", environment, insts, err)
	}
	info, err := d.Client.ContainerInspect(t.Context(), insts[0].ID, client.ContainerInspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return info.Container.Config.Env
}

// dockerEngine connects to the machine's Docker Engine, closing the connection when the test ends; without one
// the test is skipped, unless CI_REQUIRE_DOCKER=1 makes it fail.
func dockerEngine(t testing.TB) *docker.Driver {
	t.Helper()
	d, err := docker.New(t.Context())
	if err != nil {
		if os.Getenv("CI_REQUIRE_DOCKER") == "1" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	t.Cleanup(func() { d.Client.Close() })
	return d
}

// dockerFor is the Docker data plane as the install that runs project's containers sees it: with that install's
// ID, read from their labels (a test's project is one install's).
func dockerFor(t *testing.T, project string) *docker.Driver {
	t.Helper()
	d := dockerEngine(t)
	list, err := d.Client.ContainerList(t.Context(), client.ContainerListOptions{All: true,
		Filters: client.Filters{}.Add("label", dataplane.LabelProject+"="+project)})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range list.Items {
		if id := c.Labels[dataplane.LabelInstall]; id != "" {
			if d.Install != "" && d.Install != id {
				t.Fatalf("project %s has containers of installs %s and %s", project, d.Install, id)
			}
			d.Install = id
		}
	}
	return d
}

// removeContainersOf removes the containers and networks slipway made for project.
func removeContainersOf(t *testing.T, project string) {
	d, err := docker.New(context.Background())
	if err != nil {
		return
	}
	defer d.Client.Close()
	ctx := context.Background()
	f := client.Filters{}
	f.Add("label", dataplane.LabelProject+"="+project)
	list, _ := d.Client.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f})
	for _, c := range list.Items {
		_, _ = d.Client.ContainerRemove(ctx, c.ID, client.ContainerRemoveOptions{Force: true})
	}
	nets, _ := d.Client.NetworkList(ctx, client.NetworkListOptions{Filters: f})
	for _, n := range nets.Items {
		_, _ = d.Client.NetworkRemove(ctx, n.ID, client.NetworkRemoveOptions{})
	}
}

// TestRolloutResumesAfterWorkerKilled kills the worker while a rollout waits for its release to get ready
// (the descriptor delays the first check): the rollout picks up on a new worker, reusing the container
// already started, and the release serves.
func TestRolloutResumesAfterWorkerKilled(t *testing.T) {
	dockerEngine(t)
	s := startSplitBuildStack(t)
	project := "res" + strings.ToLower(time.Now().Format("150405"))
	t.Cleanup(func() { removeContainersOf(t, project) })
	src := filepath.Join(t.TempDir(), "src")
	gitRepo(t, src, map[string]string{
		"Dockerfile":  "FROM " + s.registry + "/base/busybox:latest\nCOPY www /www\nEXPOSE 8080\nCMD [\"httpd\", \"-f\", \"-p\", \"8080\", \"-h\", \"/www\"]\n",
		"www/healthz": "ok\n",
		".slipway/component.yaml": "endpoints:\n  - {name: web, port: 8080, type: REST}\n" +
			"health:\n  readiness:\n    http: {path: /healthz, port: 8080}\n    initialDelaySeconds: 8\n",
	})
	a := s.api
	a.call("POST", "/api/v1/projects", map[string]any{"name": project}, http.StatusCreated, nil)
	base := "/api/v1/projects/" + project + "/components/web"
	a.call("POST", "/api/v1/projects/"+project+"/components", map[string]any{"name": "web", "repo": "file://" + src}, http.StatusCreated, nil)
	first := s.startWorker(t, "first")
	var started struct{ ID string }
	a.call("POST", base+"/builds", map[string]any{}, http.StatusAccepted, &started)
	if b := waitBuild(t, a, started.ID, 3*time.Minute); b.Status != "succeeded" {
		t.Fatalf("build %+v", b)
	}
	var d deploymentState
	a.call("POST", base+"/environments/development/deploy", map[string]any{"build": started.ID}, http.StatusAccepted, &d)

	// Kill the worker once its rollout has started the release.
	deadline := time.Now().Add(time.Minute)
	for {
		var out struct {
			Items []struct{ History []deploymentState } `json:"items"`
		}
		a.call("GET", base+"/deployments", nil, http.StatusOK, &out)
		if h := out.Items[0].History; len(h) > 0 && h[0].Status == "running" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("deployment not running after a minute: %+v", out)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := first.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	_ = first.Wait()
	s.startWorker(t, "second")

	got := waitDeployment(t, a, base, d.ID, 3*time.Minute)
	if got.Status != "succeeded" || got.URL == "" {
		t.Fatalf("deployment after the worker was killed: %+v", got)
	}
	t.Logf("rollout succeeded %s after the worker was killed", time.Since(killed).Round(time.Second))
	get(t, got.URL+"/healthz")
	if insts, err := dockerFor(t, project).Describe(t.Context(), project, "web", "development"); err != nil || len(insts) != 1 {
		t.Fatalf("instances after the resumed rollout: %+v, %v (want the one container, reused)", insts, err)
	}
}
