package projectfile_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/slipway-dev/slipway/api"
	"github.com/slipway-dev/slipway/projectfile"
)

// twoProjects declares two projects of three environments each, both in an order that differs from the one
// creating them gives, four components in all, configs and a secret.
const twoProjects = `apiVersion: slipway.dev/v1
projects:
  - name: shop
    scanPolicy: {failOn: HIGH}
    environments:
      - name: development
      - name: staging
        replicas: 2
        cpus: 2.01
        memoryBytes: 268435456
        deployTimeoutSeconds: 300
      - name: production
        production: true
    components:
      - name: hello
        repo: file:///tmp/hello
        paths: [src/, Dockerfile]
        autoDeploy: true
        configs:
          development: {GREETING: hello from development}
          production: {GREETING: hello, PORT: 8080}
        secrets:
          production: [API_TOKEN]
      - name: api
        repo: https://git.example.com/shop/api.git
        branch: release
        dockerfile: build/Dockerfile
        context: build
  - name: blog
    environments:
      - name: qa
      - name: development
      - name: production
        production: true
        replicas: 3
    components:
      - name: web
        repo: https://git.example.com/blog/web.git
        autoBuild: true
      - name: worker
        repo: git@git.example.com:blog/worker.git
        configs:
          qa: {QUEUE: jobs-qa}
`

// parse parses a file or fails the test.
func parse(t *testing.T, text string) *projectfile.File {
	t.Helper()
	f, err := projectfile.Parse("slipway.yaml", []byte(text))
	if err != nil {
		t.Fatalf("Parse:\n%v", err)
	}
	return f
}

// diff diffs f against the install through c and returns the plan's lines, or fails the test.
func diff(t *testing.T, c projectfile.Client, f *projectfile.File, opts projectfile.Options) (*projectfile.Plan, string) {
	t.Helper()
	plan, err := projectfile.Diff(context.Background(), c, f, opts)
	if err != nil {
		t.Fatalf("Diff: %v", err)
	}
	var b strings.Builder
	if err := plan.Write(&b); err != nil {
		t.Fatalf("Write: %v", err)
	}
	return plan, b.String()
}

// apply applies plan through c or fails the test.
func apply(t *testing.T, c projectfile.Client, plan *projectfile.Plan) *projectfile.Applied {
	t.Helper()
	done, err := plan.Apply(context.Background(), c)
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	return done
}

// wantLines fails the test unless got is want, line for line.
func wantLines(t *testing.T, what, got string, want ...string) {
	t.Helper()
	if w := strings.Join(want, "\n") + "\n"; got != w {
		t.Errorf("%s:\n%s\nwant:\n%s", what, got, w)
	}
}

func TestApplyCreatesThenChangesNothing(t *testing.T) {
	in := newInstall(t)
	c := in.admin
	f := parse(t, twoProjects)

	plan, got := diff(t, c, f, projectfile.Options{})
	wantLines(t, "first Diff", got,
		`+ project shop (scanPolicy.failOn "" → "HIGH")`,
		"+ environment shop/staging (replicas 2, cpus 2.01, memoryBytes 268435456, deployTimeoutSeconds 300)",
		"~ environments shop: order development, production → development, staging, production",
		"+ component shop/hello",
		"+ component shop/api",
		`+ config shop/hello/development GREETING = "hello from development"`,
		`+ config shop/hello/production GREETING = "hello"`,
		`+ config shop/hello/production PORT = "8080"`,
		"+ project blog",
		"+ environment blog/qa",
		"~ environments blog: order development, production → qa, development, production",
		"~ environment blog/production: replicas 0 → 3",
		"+ component blog/web",
		"+ component blog/worker",
		`+ config blog/worker/qa QUEUE = "jobs-qa"`,
		"! secret shop/hello/production API_TOKEN is not set (slipway secret set shop/hello API_TOKEN --env production)",
	)
	done := apply(t, c, plan)
	if len(done.Changes) != len(plan.Changes) {
		t.Errorf("Apply made %d changes, want %d", len(done.Changes), len(plan.Changes))
	}
	if len(done.Webhooks) != 1 || done.Webhooks[0].Component != "blog/web" || done.Webhooks[0].Secret == "" {
		t.Fatalf("Apply's webhooks: %+v, want blog/web's, with its secret", done.Webhooks)
	}
	var report strings.Builder
	if err := done.Write(&report); err != nil {
		t.Fatalf("Applied.Write: %v", err)
	}
	h := done.Webhooks[0]
	wantLines(t, "Applied.Write", report.String(), "applied 15 changes",
		"webhook of blog/web: "+h.URL+" secret "+h.Secret+" (shown only this once): "+h.Note)

	// The install is as the file says.
	var shop api.ProjectResponse
	c.must(t, http.MethodGet, "/api/v1/projects/shop", nil, &shop)
	if shop.ScanPolicy.FailOn != "HIGH" {
		t.Errorf("shop's scan policy: %+v", shop.ScanPolicy)
	}
	var names []string
	for _, e := range shop.Environments {
		names = append(names, e.Name)
	}
	if !slices.Equal(names, []string{"development", "staging", "production"}) {
		t.Errorf("shop's environments: %v", names)
	}
	if s := shop.Environments[1]; s.Replicas != 2 || s.CPUs != 2.01 || s.MemoryBytes != 268435456 || s.DeployTimeoutSeconds != 300 || s.Production {
		t.Errorf("shop/staging: %+v", s)
	}
	if !shop.Environments[2].Production {
		t.Errorf("shop/production is not production")
	}
	var apiComp api.Component
	c.must(t, http.MethodGet, "/api/v1/projects/shop/components/api", nil, &apiComp)
	if apiComp.Branch != "release" || apiComp.Dockerfile != "build/Dockerfile" || apiComp.Context != "build" || apiComp.AutoDeploy {
		t.Errorf("shop/api: %+v", apiComp)
	}
	var hello api.Component
	c.must(t, http.MethodGet, "/api/v1/projects/shop/components/hello", nil, &hello)
	if hello.Branch != "main" || !slices.Equal(hello.Paths, []string{"src/", "Dockerfile"}) || !hello.AutoDeploy {
		t.Errorf("shop/hello: %+v", hello)
	}
	var cfgs api.Page[api.Config]
	c.must(t, http.MethodGet, "/api/v1/projects/shop/components/hello/environments/production/configs", nil, &cfgs)
	if len(cfgs.Items) != 2 || cfgs.Items[0].Key != "GREETING" || *cfgs.Items[0].Value != "hello" || *cfgs.Items[1].Value != "8080" {
		t.Errorf("shop/hello's configs in production: %+v", cfgs.Items)
	}
	var blog api.ProjectResponse
	c.must(t, http.MethodGet, "/api/v1/projects/blog", nil, &blog)
	if len(blog.Environments) != 3 || blog.Environments[0].Name != "qa" || blog.Environments[2].Replicas != 3 {
		t.Errorf("blog's environments: %+v", blog.Environments)
	}

	// Applying it again changes nothing, but for the secret still to set; once set, not even that.
	writes := c.writes
	plan, got = diff(t, c, f, projectfile.Options{})
	wantLines(t, "second Diff", got,
		"no changes",
		"! secret shop/hello/production API_TOKEN is not set (slipway secret set shop/hello API_TOKEN --env production)")
	apply(t, c, plan)
	if c.writes != writes {
		t.Errorf("the second Apply wrote %d times", c.writes-writes)
	}
	secret := true
	value := "t0ken"
	c.must(t, http.MethodPut, "/api/v1/projects/shop/components/hello/environments/production/configs/API_TOKEN",
		api.ConfigRequest{Value: &value, Secret: &secret}, nil)
	_, got = diff(t, c, f, projectfile.Options{})
	wantLines(t, "Diff once the secret is set", got, "no changes")
}

// applied is an install where twoProjects was applied, and its admin client.
func applied(t *testing.T) (*install, *testClient) {
	t.Helper()
	in := newInstall(t)
	plan, _ := diff(t, in.admin, parse(t, twoProjects), projectfile.Options{})
	apply(t, in.admin, plan)
	return in, in.admin
}

func TestApplyOneChangedField(t *testing.T) {
	_, c := applied(t)
	changed := strings.Replace(twoProjects, "replicas: 2\n", "replicas: 4\n", 1)
	changed = strings.Replace(changed, "        autoDeploy: true\n", "", 1)
	changed = strings.Replace(changed, "{GREETING: hello, PORT: 8080}", "{GREETING: hi, PORT: 8080}", 1)
	f := parse(t, changed)
	plan, got := diff(t, c, f, projectfile.Options{})
	wantLines(t, "Diff", got,
		"~ environment shop/staging: replicas 2 → 4",
		"~ component shop/hello: autoDeploy true → false",
		`~ config shop/hello/production GREETING: "hello" → "hi"`,
		"! secret shop/hello/production API_TOKEN is not set (slipway secret set shop/hello API_TOKEN --env production)")
	apply(t, c, plan)
	var staging api.Environment
	var envs api.Page[api.Environment]
	c.must(t, http.MethodGet, "/api/v1/projects/shop/environments", nil, &envs)
	staging = envs.Items[1]
	if staging.Replicas != 4 || staging.CPUs != 2.01 {
		t.Errorf("shop/staging after the change: %+v, want replicas 4 and cpus 2.01 as before", staging)
	}
	_, got = diff(t, c, f, projectfile.Options{})
	wantLines(t, "Diff after applying", got,
		"no changes",
		"! secret shop/hello/production API_TOKEN is not set (slipway secret set shop/hello API_TOKEN --env production)")
}

func TestApplyPrune(t *testing.T) {
	_, c := applied(t)
	secret, value := true, "s3cr3t"
	// What the file does not declare: a component, a config, a secret; and a project of its own.
	c.must(t, http.MethodPost, "/api/v1/projects/shop/components", map[string]any{"name": "old", "repo": "file:///tmp/old"}, nil)
	c.must(t, http.MethodPut, "/api/v1/projects/shop/components/hello/environments/staging/configs/LOG_LEVEL",
		api.ConfigRequest{Value: &value}, nil)
	c.must(t, http.MethodPut, "/api/v1/projects/shop/components/hello/environments/staging/configs/DB_PASSWORD",
		api.ConfigRequest{Value: &value, Secret: &secret}, nil)
	c.must(t, http.MethodPost, "/api/v1/projects", map[string]any{"name": "other"}, nil)
	c.must(t, http.MethodPost, "/api/v1/projects/other/components", map[string]any{"name": "x", "repo": "file:///tmp/x"}, nil)
	f := parse(t, twoProjects)

	_, got := diff(t, c, f, projectfile.Options{})
	wantLines(t, "Diff without Prune", got,
		"no changes",
		"! secret shop/hello/production API_TOKEN is not set (slipway secret set shop/hello API_TOKEN --env production)")

	plan, got := diff(t, c, f, projectfile.Options{Prune: true})
	wantLines(t, "Diff with Prune", got,
		"- config shop/hello/staging LOG_LEVEL",
		"- component shop/old",
		"! secret shop/hello/production API_TOKEN is not set (slipway secret set shop/hello API_TOKEN --env production)")
	apply(t, c, plan)

	err := c.Do(context.Background(), http.MethodGet, "/api/v1/projects/shop/components/old", nil, nil)
	if s := statusOf(err); s != http.StatusNotFound {
		t.Errorf("GET shop/old after pruning: %v, want 404", err)
	}
	var cfgs api.Page[api.Config]
	c.must(t, http.MethodGet, "/api/v1/projects/shop/components/hello/environments/staging/configs", nil, &cfgs)
	if len(cfgs.Items) != 1 || cfgs.Items[0].Key != "DB_PASSWORD" {
		t.Errorf("shop/hello's configs in staging after pruning: %+v, want the secret DB_PASSWORD only", cfgs.Items)
	}
	c.must(t, http.MethodGet, "/api/v1/projects/other/components/x", nil, nil)
	_, got = diff(t, c, f, projectfile.Options{Prune: true})
	wantLines(t, "Diff with Prune after pruning", got,
		"no changes",
		"! secret shop/hello/production API_TOKEN is not set (slipway secret set shop/hello API_TOKEN --env production)")

	// An environment the file leaves out cannot be pruned: Diff says so, and it stays last.
	without := strings.Replace(twoProjects, "      - name: qa\n", "", 1)
	without = strings.Replace(without, "configs:\n          qa: {QUEUE: jobs-qa}\n", "autoDeploy: false\n", 1)
	_, got = diff(t, c, parse(t, without), projectfile.Options{Prune: true})
	wantLines(t, "Diff with Prune, an environment left out", got,
		"~ environments blog: order qa, development, production → development, production, qa",
		"- config blog/worker/qa QUEUE",
		"! secret shop/hello/production API_TOKEN is not set (slipway secret set shop/hello API_TOKEN --env production)",
		"! environment blog/qa is not in the file but stays: the API cannot delete environments")
}

// statusOf is the HTTP status of an API error; 0 when err is not one.
func statusOf(err error) int {
	var e interface{ HTTPStatus() int }
	if errors.As(err, &e) {
		return e.HTTPStatus()
	}
	return 0
}

func TestApplyBadFileWritesNothing(t *testing.T) {
	in := newInstall(t)
	bad := strings.Replace(twoProjects, "repo: git@git.example.com:blog/worker.git", "repo: ftp://example.com/worker", 1)
	f, err := projectfile.Parse("slipway.yaml", []byte(bad))
	if err == nil {
		t.Fatalf("Parse took a file with a bad repo: %v", f)
	}
	want := `slipway.yaml:41: projects[1].components[1].repo: "ftp://example.com/worker" must start with https://, ssh:// or file://, or be user@host:path`
	if err.Error() != want {
		t.Errorf("Parse: %v\nwant %s", err, want)
	}
	var projects api.Page[api.Project]
	in.admin.must(t, http.MethodGet, "/api/v1/projects", nil, &projects)
	if len(projects.Items) != 0 || in.admin.writes != 0 {
		t.Errorf("after a bad file: projects %+v, %d writes", projects.Items, in.admin.writes)
	}
}

func TestApplyNamesTheFileLineOfAnAPIError(t *testing.T) {
	in := newInstall(t)
	// A developer may create a project, not a production environment.
	f := parse(t, `apiVersion: slipway.dev/v1
projects:
  - name: team
    environments:
      - name: development
      - name: production
        production: true
      - name: live
        production: true
`)
	plan, _ := diff(t, in.developer, f, projectfile.Options{})
	done, err := plan.Apply(context.Background(), in.developer)
	want := "slipway.yaml:9: projects[0].environments[2].production: creating environment team/live: " +
		"creating a production environment needs an admin token (forbidden, HTTP 403)"
	if err == nil || err.Error() != want {
		t.Fatalf("Apply: %v\nwant %s", err, want)
	}
	if statusOf(err) != http.StatusForbidden {
		t.Errorf("Apply's error %v has no HTTP 403 in it", err)
	}
	if len(done.Changes) != 1 || done.Changes[0].String() != "+ project team" {
		t.Errorf("Apply made %v before failing, want the project", done.Changes)
	}

	// A kubernetes data plane needs a kubeconfig, which is never in a file: the API says so, at the environment.
	_, c := applied(t)
	f = parse(t, strings.Replace(twoProjects, "        production: true\n        replicas: 3\n",
		"        production: true\n        replicas: 3\n        dataPlane: kubernetes\n        kubernetes: {namespace: blog-live}\n", 1))
	plan, got := diff(t, c, f, projectfile.Options{})
	wantLines(t, "Diff", got,
		`~ environment blog/production: dataPlane "docker" → "kubernetes", kubernetes.namespace "" → "blog-live"`,
		"! secret shop/hello/production API_TOKEN is not set (slipway secret set shop/hello API_TOKEN --env production)")
	_, err = plan.Apply(context.Background(), c)
	want = "slipway.yaml:33: projects[1].environments[2].kubeconfig: changing environment blog/production: " +
		"environment production on kubernetes needs a kubeconfig or inCluster (invalid, HTTP 422)"
	if err == nil || err.Error() != want {
		t.Fatalf("Apply: %v\nwant %s", err, want)
	}
}

func TestExportParseDiffChangesNothing(t *testing.T) {
	_, c := applied(t)
	secret, value := true, "s3cr3t"
	c.must(t, http.MethodPut, "/api/v1/projects/shop/components/hello/environments/production/configs/API_TOKEN",
		api.ConfigRequest{Value: &value, Secret: &secret}, nil)
	c.must(t, http.MethodPatch, "/api/v1/projects/blog/environments/qa",
		map[string]any{"dataPlane": "kubernetes", "kubernetes": map[string]any{"inCluster": true, "ingressNamespaces": []string{"ingress-nginx"}, "maxSurge": 2}}, nil)

	f, err := projectfile.Export(context.Background(), c)
	if err != nil {
		t.Fatalf("Export: %v", err)
	}
	data, err := f.Marshal()
	if err != nil {
		t.Fatalf("Marshal: %v", err)
	}
	back, err := projectfile.Parse("exported.yaml", data)
	if err != nil {
		t.Fatalf("Parse of the export:\n%v\n%s", err, data)
	}
	_, got := diff(t, c, back, projectfile.Options{Prune: true})
	wantLines(t, "Diff of the export", got, "no changes")

	// Only the named project, defaults left out, the secret by key.
	f, err = projectfile.Export(context.Background(), c, "shop")
	if err != nil {
		t.Fatalf("Export shop: %v", err)
	}
	data, err = f.Marshal()
	if err != nil {
		t.Fatalf("Marshal: %v", err)
	}
	wantLines(t, "export of shop", string(data),
		"# slipway projects as code: apply with `slipway apply -f FILE`.",
		"# Secrets are listed by key only; set their values with `slipway secret set`. Kubeconfigs are never in it.",
		"apiVersion: slipway.dev/v1",
		"projects:",
		"  - name: shop",
		"    scanPolicy:",
		"      failOn: HIGH",
		"    environments:",
		"      - name: development",
		"      - name: staging",
		"        replicas: 2",
		"        cpus: 2.01",
		"        memoryBytes: 268435456",
		"        deployTimeoutSeconds: 300",
		"      - name: production",
		"        production: true",
		"    components:",
		"      - name: api",
		"        repo: https://git.example.com/shop/api.git",
		"        branch: release",
		"        dockerfile: build/Dockerfile",
		"        context: build",
		"      - name: hello",
		"        repo: file:///tmp/hello",
		"        paths: [src/, Dockerfile]",
		"        autoDeploy: true",
		"        configs:",
		"          development:",
		"            GREETING: hello from development",
		"          production:",
		"            GREETING: hello",
		`            PORT: "8080"`,
		"        secrets:",
		"          production:",
		"            - API_TOKEN",
	)
	if _, err := projectfile.Export(context.Background(), c, "nope"); err == nil {
		t.Errorf("Export of a project that does not exist succeeded")
	}
}
