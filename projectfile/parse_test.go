package projectfile

import (
	"reflect"
	"strings"
	"testing"

	"github.com/slipway-dev/slipway/scan"
)

// goodFile uses every field of the format.
const goodFile = `# slipway.yaml
apiVersion: slipway.dev/v1
projects:
  - name: shop
    scanPolicy: {failOn: HIGH, allowSecrets: true, requireVulnDB: true}
    environments:
      - name: development
      - name: staging
        replicas: 2
        cpus: 0.5
        memoryBytes: 268435456
        deployTimeoutSeconds: 300
      - name: production
        production: true
        dataPlane: kubernetes
        kubernetes:
          context: prod
          inCluster: true
          namespace: shop-live
          ingressNamespaces: [ingress-nginx]
          maxSurge: 0
          maxUnavailable: 1
    components:
      - name: hello
        repo: file:///tmp/hello
        branch: main
        dockerfile: Dockerfile
        context: .
        paths: [src/, Dockerfile]
        autoBuild: false
        autoDeploy: true
        configs:
          development: {GREETING: hello from development, PORT: 8080}
          production: {GREETING: hello}
        secrets:
          production: [API_TOKEN]
`

func TestParseGoodFile(t *testing.T) {
	f, err := Parse("slipway.yaml", []byte(goodFile))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	zero, one := 0, 1
	want := []Project{{
		Name:       "shop",
		ScanPolicy: scan.Policy{FailOn: "HIGH", AllowSecrets: true, RequireVulnDB: true},
		Environments: []Environment{
			{Name: "development", path: "projects[0].environments[0]"},
			{Name: "staging", Replicas: 2, CPUs: 0.5, MemoryBytes: 268435456, DeployTimeoutSeconds: 300, path: "projects[0].environments[1]"},
			{Name: "production", Production: true, DataPlane: DataPlaneKubernetes, Kubernetes: &Kubernetes{
				Context: "prod", InCluster: true, Namespace: "shop-live", IngressNamespaces: []string{"ingress-nginx"},
				MaxSurge: &zero, MaxUnavailable: &one,
			}, path: "projects[0].environments[2]"},
		},
		Components: []Component{{
			Name: "hello", Repo: "file:///tmp/hello", Branch: "main", Dockerfile: "Dockerfile", Context: ".",
			Paths: []string{"src/", "Dockerfile"}, AutoDeploy: true,
			Configs: map[string]map[string]string{
				"development": {"GREETING": "hello from development", "PORT": "8080"},
				"production":  {"GREETING": "hello"},
			},
			Secrets: map[string][]string{"production": {"API_TOKEN"}},
			path:    "projects[0].components[0]",
		}},
		path: "projects[0]",
	}}
	if !reflect.DeepEqual(f.Projects, want) {
		t.Errorf("Parse:\n got %+v\nwant %+v", f.Projects, want)
	}
	for path, line := range map[string]int{
		"projects[0].components[0].repo":                        25,
		"projects[0].components[0].configs.production.GREETING": 34,
		"projects[0].components[0].secrets.production[0]":       36,
		"projects[0].environments[2].kubernetes.namespace":      19,
		"projects[0].environments[1].cpus.whatever":             10,
		"projects[0].scanPolicy.failOn":                         5,
	} {
		if got := f.lineOf(path); got != line {
			t.Errorf("lineOf(%s) = %d, want %d", path, got, line)
		}
	}
}

func TestParseBadFiles(t *testing.T) {
	for _, tc := range []struct {
		name, file string
		want       []string
	}{
		{"empty", ``, []string{
			"f.yaml:1: apiVersion: required (apiVersion: slipway.dev/v1)",
			"f.yaml:1: projects: required",
		}},
		{"no projects", "apiVersion: slipway.dev/v1\nprojects: []\n", []string{
			"f.yaml:2: projects: must list at least one project",
		}},
		{"yaml syntax", "apiVersion: slipway.dev/v1\nprojects:\n  - name: [shop\n", []string{
			"f.yaml:3: did not find expected ',' or ']'",
		}},
		{"yaml syntax: bad indentation", "apiVersion: slipway.dev/v1\nprojects:\n  - name: shop\n - name: blog\n", []string{
			"f.yaml:4: did not find expected key",
		}},
		{"wrong apiVersion, not a list", "apiVersion: slipway.dev/v2\nprojects: {name: shop}\n", []string{
			`f.yaml:1: apiVersion: must be "slipway.dev/v1", got "slipway.dev/v2"`,
			`f.yaml:2: projects: must be a list, got a mapping`,
		}},
		{"unknown fields and wrong types", `apiVersion: slipway.dev/v1
kind: Projects
projects:
  - name: shop
    owner: me
    environments:
      - name: staging
        replicas: two
        cpus: 0.0005
        production: "yes"
        memoryBytes: 1024
        deployTimeoutSeconds: 5000
        dataPlane: k8s
        kubernetes: {namespace: Shop}
    components:
      - name: hello
        repo: [file:///tmp/hello]
        paths: src/
        autoBuild: 1
`, []string{
			"f.yaml:2: kind: unknown field",
			"f.yaml:5: projects[0].owner: unknown field",
			`f.yaml:8: projects[0].environments[0].replicas: must be a whole number, got "two"`,
			"f.yaml:9: projects[0].environments[0].cpus: must be a multiple of 0.001, got 0.0005",
			`f.yaml:10: projects[0].environments[0].production: must be true or false, got "yes"`,
			"f.yaml:11: projects[0].environments[0].memoryBytes: must be 0 (no limit) or at least 6291456, got 1024",
			"f.yaml:12: projects[0].environments[0].deployTimeoutSeconds: must be between 0 (the worker's default) and 1200, got 5000",
			`f.yaml:13: projects[0].environments[0].dataPlane: must be "docker" or "kubernetes", got "k8s"`,
			`f.yaml:14: projects[0].environments[0].kubernetes.namespace: "Shop" must be a DNS-1123 label: lower-case letters, digits and '-', starting and ending with a letter or digit`,
			"f.yaml:14: projects[0].environments[0].kubernetes: only for dataPlane: kubernetes",
			"f.yaml:17: projects[0].components[0].repo: must be a string, got a list",
			`f.yaml:18: projects[0].components[0].paths: must be a list, got "src/"`,
			`f.yaml:19: projects[0].components[0].autoBuild: must be true or false, got "1"`,
		}},
		{"names: missing, invalid, twice", `apiVersion: slipway.dev/v1
projects:
  - name: Shop_1
  - name: shop
    environments:
      - name: staging
      - replicas: 2
      - name: staging
    components:
      - name: hello
        repo: https://git.example.com/acme/hello.git
        branch: feature..x
      - name: hello
        repo: ftp://example.com/x
        dockerfile: ../Dockerfile
        type: cronjob
  - name: shop
`, []string{
			`f.yaml:3: projects[0].name: "Shop_1" must be a DNS-1123 label: lower-case letters, digits and '-', starting and ending with a letter or digit`,
			"f.yaml:7: projects[1].environments[1].name: required",
			`f.yaml:8: projects[1].environments[2].name: environment "staging" is declared twice (first at line 6)`,
			`f.yaml:12: projects[1].components[0].branch: "feature..x" is not a valid Git branch name`,
			`f.yaml:13: projects[1].components[1].name: component "hello" is declared twice (first at line 10)`,
			`f.yaml:14: projects[1].components[1].repo: "ftp://example.com/x" must start with https://, ssh:// or file://, or be user@host:path`,
			`f.yaml:15: projects[1].components[1].dockerfile: "../Dockerfile" must not contain ".."`,
			`f.yaml:16: projects[1].components[1].type: type "cronjob" is none of service, web-app, scheduled-task, manual-task`,
			`f.yaml:17: projects[2].name: project "shop" is declared twice (first at line 4)`,
		}},
		{"configs and secrets", `apiVersion: slipway.dev/v1
projects:
  - name: shop
    environments: [{name: development}, {name: production, production: true}]
    components:
      - name: hello
        repo: file:///tmp/hello
        configs:
          development: {GREETING: hi, 1BAD: x, NESTED: {a: b}}
          staging: {GREETING: hi}
          production: {API_TOKEN: oops}
        secrets:
          production: [API_TOKEN, API_TOKEN]
          qa: [X]
`, []string{
			`f.yaml:9: projects[0].components[0].configs.development.1BAD: key "1BAD" must be an environment variable name: letters, digits and '_', not starting with a digit`,
			"f.yaml:9: projects[0].components[0].configs.development.NESTED: must be a string, got a mapping",
			`f.yaml:10: projects[0].components[0].configs.staging: environment "staging" is not among projects[0].environments's environments`,
			"f.yaml:13: projects[0].components[0].secrets.production[1]: secret API_TOKEN is listed twice (first at line 13)",
			"f.yaml:13: projects[0].components[0].secrets.production[0]: API_TOKEN is also given as a config (line 11): a key is a config or a secret, not both",
			"f.yaml:13: projects[0].components[0].secrets.production[1]: API_TOKEN is also given as a config (line 11): a key is a config or a secret, not both",
			`f.yaml:14: projects[0].components[0].secrets.qa: environment "qa" is not among projects[0].environments's environments`,
		}},
		{"a key twice, a bad scan policy, kubernetes that cannot roll", `apiVersion: slipway.dev/v1
projects:
  - name: shop
    name: shop2
    scanPolicy: {failOn: SEVERE}
    environments:
      - name: production
        dataPlane: kubernetes
        kubernetes: {maxSurge: 0, maxUnavailable: -1}
`, []string{
			"f.yaml:4: projects[0].name: given twice (first at line 3)",
			`f.yaml:5: projects[0].scanPolicy.failOn: must be one of LOW, MEDIUM, HIGH, CRITICAL or NONE, got "SEVERE"`,
			"f.yaml:9: projects[0].environments[0].kubernetes.maxUnavailable: must not be negative, got -1",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := Parse("f.yaml", []byte(tc.file))
			if err == nil {
				t.Fatalf("Parse succeeded: %v", f)
			}
			if f != nil {
				t.Errorf("Parse returned a File with its error")
			}
			got := strings.Split(err.Error(), "\n")
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Parse errors:\n%s\nwant:\n%s", err, strings.Join(tc.want, "\n"))
			}
		})
	}
}
