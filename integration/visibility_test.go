package integration

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/client"

	"github.com/slipway-dev/slipway/baseimages"
	"github.com/slipway-dev/slipway/dataplane/docker"
)

// projectDescriptor is examples/hello's descriptor with its endpoint visible only inside the environment
// and no required configs.
const projectDescriptor = `endpoints:
  - name: web
    port: 8080
    type: REST
    visibility: project
health:
  readiness:
    http: {path: /healthz}
`

// TestProjectEndpointIsReachedOnlyInsideItsEnvironment deploys two components of one project: db, whose
// endpoint is project-visible, and web, public. web's container reaches db by name on development's
// network; the edge routes web but not db (404), and deployments report no URL for db; web's container
// in production, another environment, cannot resolve db.
func TestProjectEndpointIsReachedOnlyInsideItsEnvironment(t *testing.T) {
	if _, err := os.Stat(baseimages.BusyboxBinary); err != nil {
		t.Skipf("%s missing: %v", baseimages.BusyboxBinary, err)
	}
	dockerEngine(t)
	dir := t.TempDir()
	dev := startDev(t, filepath.Join(dir, "data"))
	a := newAPI(t, dev, filepath.Join(dir, "data"))
	project := "vis" + strings.ToLower(time.Now().Format("150405"))
	a.call("POST", "/api/v1/projects", map[string]any{"name": project}, http.StatusCreated, nil)
	withoutApprovals(t, a, project)
	t.Cleanup(func() { removeContainersOf(t, project) })

	// deploy builds the component from hello's files with descriptor and waits for its deployment to
	// development.
	deploy := func(name, descriptor string) deploymentState {
		files := filesUnder(t, filepath.Join("..", "examples", "hello"))
		files[".slipway/component.yaml"] = descriptor
		src := filepath.Join(dir, name)
		gitRepo(t, src, files)
		a.call("POST", "/api/v1/projects/"+project+"/components", map[string]any{"name": name, "repo": "file://" + src, "autoDeploy": true},
			http.StatusCreated, nil)
		base := "/api/v1/projects/" + project + "/components/" + name
		var started struct{ ID string }
		a.call("POST", base+"/builds", map[string]any{}, http.StatusAccepted, &started)
		if b := waitBuild(t, a, started.ID, 3*time.Minute); b.Status != "succeeded" {
			t.Fatalf("build of %s: %+v", name, b)
		}
		dep := waitDeployment(t, a, base, "d-auto-"+strings.TrimPrefix(started.ID, "b-"), 2*time.Minute)
		if dep.Status != "succeeded" {
			t.Fatalf("deployment of %s: %+v", name, dep)
		}
		return dep
	}
	db := deploy("db", projectDescriptor)
	web := deploy("web", strings.Replace(projectDescriptor, "visibility: project", "visibility: public", 1))
	if db.URL != "" {
		t.Fatalf("the project-visible db reports URL %q, want none", db.URL)
	}
	if !strings.HasPrefix(web.URL, "http://web.development."+project+".localhost:") {
		t.Fatalf("web's URL %q", web.URL)
	}
	if page := get(t, web.URL+"/"); !strings.Contains(page, "hello from slipway") {
		t.Fatalf("web serves %q through the edge", page)
	}
	dbURL := strings.Replace(web.URL, "://web.", "://db.", 1)
	if got := httpStatus(t, dbURL+"/"); got != http.StatusNotFound {
		t.Fatalf("the edge answers %d at %s, want 404: db is not public", got, dbURL)
	}

	// Inside development, web's container reaches db by its name.
	d := dockerFor(t, project)
	if code := execIn(t, d, project, "web", "development", "busybox", "nslookup", "db"); code != 0 {
		t.Fatalf("nslookup db in development's web: exit %d", code)
	}
	if code := execIn(t, d, project, "web", "development", "sh", "-c", getByName("db", 8080, "/healthz")); code != 0 {
		t.Fatalf("GET http://db:8080/healthz in development's web: exit %d", code)
	}

	// Production's web, on production's network, does not even resolve db.
	if p := deployedBy(t, a, "/api/v1/projects/"+project+"/components/web",
		a.call("POST", "/api/v1/projects/"+project+"/components/web/promote", map[string]any{}, http.StatusAccepted, nil), 2*time.Minute); p.Status != "succeeded" {
		t.Fatalf("promotion of web: %+v", p)
	}
	if code := execIn(t, d, project, "web", "production", "sh", "-c", getByName("db", 8080, "/healthz")); code == 0 {
		t.Fatal("production's web reached development's db")
	}
	if code := execIn(t, d, project, "web", "production", "busybox", "nslookup", "db"); code == 0 {
		t.Fatal("production's web resolves db")
	}
}

// getByName is a shell command that GETs path from host:port and succeeds on a 200, resolving host with
// nslookup, with busybox's own applets (the image links neither nslookup nor nc, and busybox's wget crashes
// as Debian's static build does).
func getByName(host string, port int, path string) string {
	return fmt.Sprintf(`ip=$(busybox nslookup %s | busybox awk '$1 == "Address:" && $2 !~ /:/ { a = $2 } END { print a }') && [ -n "$ip" ] && `+
		`printf 'GET %s HTTP/1.0\r\n\r\n' | busybox nc -w 5 "$ip" %d | busybox grep -q '^HTTP/1.[01] 200'`, host, path, port)
}

// execIn runs cmd in the first container of the component in the environment and returns its exit status.
func execIn(t *testing.T, d *docker.Driver, project, component, environment string, cmd ...string) int {
	t.Helper()
	insts, err := d.Describe(t.Context(), project, component, environment)
	if err != nil || len(insts) == 0 {
		t.Fatalf("instances of %s in %s: %+v, %v", component, environment, insts, err)
	}
	ex, err := d.Client.ExecCreate(t.Context(), insts[0].ID, client.ExecCreateOptions{Cmd: cmd})
	if err == nil {
		_, err = d.Client.ExecStart(t.Context(), ex.ID, client.ExecStartOptions{Detach: true})
	}
	if err != nil {
		t.Fatalf("exec %v in %s: %v", cmd, insts[0].ID, err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		res, err := d.Client.ExecInspect(t.Context(), ex.ID, client.ExecInspectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if !res.Running {
			return res.ExitCode
		}
		if time.Now().After(deadline) {
			t.Fatalf("exec %v still runs after 30 s", cmd)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
