package projectfile_test

import (
	"context"
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
		t.Errorf("Apply's webhooks: %+v, want blog/web's, with its secret", done.Webhooks)
	}

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
