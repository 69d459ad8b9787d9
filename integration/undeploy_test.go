package integration

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/client"

	"github.com/slipway-dev/slipway/baseimages"
	"github.com/slipway-dev/slipway/dataplane"
)

// TestDeletingWhatRunsRemovesItFirst deploys a component to development and production and finds that deleting
// it, or its project, is refused while it runs; that a developer cannot force the removal from production; and
// that an admin's forced delete removes its containers and entries before the records go, so nothing keeps
// running with its secrets and no owner.
func TestDeletingWhatRunsRemovesItFirst(t *testing.T) {
	if _, err := os.Stat(baseimages.BusyboxBinary); err != nil {
		t.Skipf("%s missing: %v", baseimages.BusyboxBinary, err)
	}
	dockerEngine(t)
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	dev := startDev(t, data)
	a := newAPI(t, dev, data)
	project := "del" + strings.ToLower(time.Now().Format("150405"))
	t.Cleanup(func() { removeContainersOf(t, project) })
	a.call("POST", "/api/v1/projects", map[string]any{"name": project}, http.StatusCreated, nil)
	withoutApprovals(t, a, project)
	base := "/api/v1/projects/" + project + "/components/hello"
	src := filepath.Join(dir, "hello")
	gitRepo(t, src, filesUnder(t, filepath.Join("..", "examples", "hello")))
	a.call("POST", "/api/v1/projects/"+project+"/components", map[string]any{"name": "hello", "repo": "file://" + src}, http.StatusCreated, nil)
	for _, env := range []string{"development", "production"} {
		a.call("PUT", base+"/environments/"+env+"/configs/GREETING", map[string]any{"value": "hi"}, http.StatusCreated, nil)
		a.call("PUT", base+"/environments/"+env+"/configs/API_TOKEN", map[string]any{"value": "s3cret-canary", "secret": true}, http.StatusCreated, nil)
	}
	var started struct{ ID string }
	a.call("POST", base+"/builds", map[string]any{}, http.StatusAccepted, &started)
	if b := waitBuild(t, a, started.ID, 3*time.Minute); b.Status != "succeeded" {
		t.Fatalf("build %+v", b)
	}
	urls := map[string]string{}
	for _, env := range []string{"development", "production"} {
		d := deployedBy(t, a, base, a.call("POST", base+"/environments/"+env+"/deploy", map[string]any{"build": started.ID}, http.StatusAccepted, nil), 2*time.Minute)
		if d.Status != "succeeded" {
			t.Fatalf("deployment to %s: %+v", env, d)
		}
		urls[env] = d.URL
	}
	running := func() int {
		t.Helper()
		list, err := dockerEngine(t).Client.ContainerList(t.Context(), client.ContainerListOptions{All: true,
			Filters: client.Filters{}.Add("label", dataplane.LabelProject+"="+project)})
		if err != nil {
			t.Fatal(err)
		}
		return len(list.Items)
	}
	if n := running(); n != 2 {
		t.Fatalf("%d containers run for the project, want 2", n)
	}

	for _, path := range []string{base, "/api/v1/projects/" + project} {
		body := string(a.call("DELETE", path, nil, http.StatusConflict, nil))
		if !strings.Contains(body, "still_deployed") || !strings.Contains(body, "hello in development, hello in production") || !strings.Contains(body, "force=true") {
			t.Errorf("DELETE %s while it runs: %s", path, body)
		}
	}
	a.call("DELETE", "/api/v1/projects/"+project+"?force=maybe", nil, http.StatusBadRequest, nil)
	var devTok struct{ Token string }
	a.call("POST", "/api/v1/tokens", map[string]any{"name": "dev", "role": "developer"}, http.StatusCreated, &devTok)
	developer := api{t: t, base: a.base, token: devTok.Token}
	if body := string(developer.call("DELETE", base+"?force=true", nil, http.StatusForbidden, nil)); !strings.Contains(body, "production") {
		t.Errorf("a developer's forced delete from production: %s", body)
	}
	if page := get(t, urls["production"]+"/"); !strings.Contains(page, "hello from slipway") || running() != 2 {
		t.Fatalf("after the refusals production serves %q with %d containers", page, running())
	}

	a.call("DELETE", "/api/v1/projects/"+project+"?force=true", nil, http.StatusNoContent, nil)
	if n := running(); n != 0 {
		t.Errorf("%d containers of the deleted project still run", n)
	}
	for env, url := range urls {
		if got := httpStatus(t, url+"/"); got != http.StatusNotFound {
			t.Errorf("%s's entry %s still answers %d, want the edge's 404", env, url, got)
		}
	}
	a.call("GET", "/api/v1/projects/"+project, nil, http.StatusNotFound, nil)
}
