package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slipway-dev/slipway/api"
)

// twoProjects declares two projects of three environments each and four components.
const twoProjects = `apiVersion: slipway.dev/v1
projects:
  - name: shop
    environments:
      - name: development
      - name: staging
        replicas: 2
      - name: production
        production: true
    components:
      - name: web
        repo: https://git.example.com/shop/web.git
        autoDeploy: true
        configs:
          development: {GREETING: hello}
        secrets:
          production: [API_TOKEN]
      - name: api
        repo: https://git.example.com/shop/api.git
        branch: trunk
  - name: blog
    environments:
      - name: development
      - name: qa
      - name: production
        production: true
    components:
      - name: site
        repo: https://git.example.com/blog/site.git
        dockerfile: build/Dockerfile
      - name: feed
        repo: https://git.example.com/blog/feed.git
        paths: [feed/]
`

func TestApplyCreatesThenChangesNothingAndExportRoundTrips(t *testing.T) {
	a := newRealAPI(t)
	file := filepath.Join(t.TempDir(), "slipway.yaml")
	if err := os.WriteFile(file, []byte(twoProjects), 0o600); err != nil {
		t.Fatal(err)
	}

	dry := a.must("apply", "-f", file, "--dry-run")
	for _, want := range []string{"+ project shop", "+ project blog", "+ environment shop/staging", "+ environment blog/qa",
		"+ component shop/web", "+ component shop/api", "+ component blog/site", "+ component blog/feed", "! secret shop/web/production API_TOKEN is not set"} {
		if !strings.Contains(dry, want) {
			t.Errorf("apply --dry-run lacks %q:\n%s", want, dry)
		}
	}
	var projects []api.Project
	a.get("/api/v1/projects", &struct{ Items *[]api.Project }{&projects})
	if len(projects) != 0 {
		t.Fatalf("--dry-run created %v", projects)
	}

	a.must("apply", "-f", file)
	var envs api.Page[api.Environment]
	a.get("/api/v1/projects/blog/environments", &envs)
	if got := strings.Join(envNames(envs.Items), ","); got != "development,qa,production" {
		t.Errorf("blog's environments after apply: %s", got)
	}
	var site api.Component
	a.get("/api/v1/projects/blog/components/site", &site)
	if site.Dockerfile != "build/Dockerfile" || site.Branch != "main" {
		t.Errorf("blog/site after apply: %+v", site)
	}
	if out := a.must("config", "list", "shop/web", "--env", "development"); !regexpLines(out, `^development\s+GREETING\s+config\s+hello`) {
		t.Errorf("shop/web's configs after apply:\n%s", out)
	}

	// The same file again changes nothing; once the secret is set, not even a warning is left.
	if out := a.must("apply", "-f", file); !strings.HasPrefix(out, "no changes\n") {
		t.Errorf("second apply:\n%s", out)
	}
	if code, _, stderr := a.run("tok\n", "secret", "set", "shop/web", "API_TOKEN", "--env", "production"); code != 0 {
		t.Fatal(stderr)
	}
	if out := a.must("apply", "-f", file); out != "no changes\n" {
		t.Errorf("apply with the secret set:\n%s", out)
	}

	// export writes what apply reads: applied back, it changes nothing.
	exported := a.must("export")
	if !strings.Contains(exported, "API_TOKEN") || strings.Contains(exported, "tok") {
		t.Errorf("export names the secret by key, never its value:\n%s", exported)
	}
	code, out, stderr := a.run(exported, "apply", "-f", "-", "--prune")
	if code != 0 || out != "no changes\n" {
		t.Errorf("apply --prune of the export: exit %d\n%s%s", code, out, stderr)
	}

	// One field changed is one line, applied.
	changed := strings.Replace(twoProjects, "branch: trunk", "branch: release", 1)
	code, out, stderr = a.run(changed, "apply", "-f", "-")
	if code != 0 || out != "~ component shop/api: branch \"trunk\" → \"release\"\n" {
		t.Errorf("apply of one change: exit %d\n%s%s", code, out, stderr)
	}

	// A bad file is refused whole, every mistake at its line, and nothing is written.
	bad := strings.Replace(strings.Replace(changed, "branch: release", "branch: main\n        autoDeplyo: true", 1),
		"name: feed", "name: Feed", 1)
	code, out, stderr = a.run(bad, "apply", "-f", "-")
	if code != exitFailed || out != "" || !strings.Contains(stderr, "<stdin>:21: projects[0].components[1].autoDeplyo: unknown field") ||
		!strings.Contains(stderr, "<stdin>:32: projects[1].components[1].name: \"Feed\" must be a DNS-1123 label") {
		t.Errorf("apply of a bad file: exit %d\nstdout %q\nstderr:\n%s", code, out, stderr)
	}
	var api1 api.Component
	a.get("/api/v1/projects/shop/components/api", &api1)
	if api1.Branch != "release" {
		t.Errorf("a bad file changed shop/api: %+v", api1)
	}
}
