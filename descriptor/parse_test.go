package descriptor

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

const file = ".slipway/component.yaml"

const full = `# every field
endpoints:
  - name: web
    port: 8080
    type: rest
    basePath: /api
    schemaFilePath: api/openapi.yaml
  - name: rpc
    port: 9090
    type: GRPC
    schemaFilePath: proto/hello.proto
  - name: graph
    port: 8081
    type: graphql
  - {name: dns, port: 53, type: udp}
health:
  readiness:
    http: {path: /healthz, port: 8080}
    initialDelaySeconds: 5
    periodSeconds: 20
    timeoutSeconds: 2
    failureThreshold: 6
  liveness:
    exec:
      command: ["cat", "/tmp/ready"]
required:
  configs:
    - name: GREETING
      description: what the page says
    - name: app_conf
      file: /etc/app/x.conf
  secrets:
    - name: API_TOKEN
      env: TOKEN
build:
  type: Source
  language: go
  version: "1.26"
  command: go build -o /out/app ./cmd/server
  start: /app --listen :$PORT
`

var fullWant = Descriptor{
	Endpoints: []Endpoint{
		{Name: "web", Port: 8080, Type: REST, BasePath: "/api", SchemaFilePath: "api/openapi.yaml", Visibility: Public},
		{Name: "rpc", Port: 9090, Type: GRPC, SchemaFilePath: "proto/hello.proto", Visibility: Public},
		{Name: "graph", Port: 8081, Type: GraphQL, BasePath: "/", Visibility: Public},
		{Name: "dns", Port: 53, Type: UDP, Visibility: Public},
	},
	Health: Health{
		Readiness: &Probe{
			HTTP:                &HTTPProbe{Path: "/healthz", Port: 8080},
			InitialDelaySeconds: 5, PeriodSeconds: 20, TimeoutSeconds: 2, FailureThreshold: 6,
		},
		Liveness: &Probe{
			Exec:          &ExecProbe{Command: []string{"cat", "/tmp/ready"}},
			PeriodSeconds: 10, TimeoutSeconds: 1, FailureThreshold: 3,
		},
	},
	Required: Required{
		Configs: []Requirement{
			{Name: "GREETING", Env: "GREETING", Description: "what the page says"},
			{Name: "app_conf", File: "/etc/app/x.conf"},
		},
		Secrets: []Requirement{{Name: "API_TOKEN", Env: "TOKEN"}},
	},
	Build: Build{Type: BuildSource, Language: "go", Version: "1.26", Command: "go build -o /out/app ./cmd/server", Start: "/app --listen :$PORT"},
}

func TestParseFullRoundTrip(t *testing.T) {
	d, err := Parse(file, []byte(full))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(d, fullWant) {
		t.Fatalf("Parse:\n got %+v\nwant %+v", d, fullWant)
	}
	// The JSON the API and Temporal carry is YAML too, and reads back as the same descriptor.
	data, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	again, err := Parse("roundtrip.json", data)
	if err != nil {
		t.Fatalf("Parse(%s): %v", data, err)
	}
	if !reflect.DeepEqual(again, d) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", again, d)
	}
	if !strings.Contains(string(data), `"schemaFilePath":"api/openapi.yaml"`) || !strings.Contains(string(data), `"initialDelaySeconds":5`) {
		t.Errorf("JSON does not use the camelCase names: %s", data)
	}
}

func TestParseDefaults(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       Descriptor
	}{
		{"empty file", "", Descriptor{}},
		{"comment only", "# nothing yet\n", Descriptor{}},
		{"null document", "---\n~\n", Descriptor{}},
		{"null sections", "endpoints:\nhealth:\nrequired:\nbuild:\n", Descriptor{}},
		{"build shorthand", "build: source\n", Descriptor{Build: Build{Type: BuildSource}}},
		{"empty lists", "endpoints: []\nrequired: {configs: [], secrets: []}\n", Descriptor{}},
		{
			"base path by type",
			"endpoints:\n" +
				"  - {name: a, port: 1, type: REST}\n  - {name: b, port: 2, type: graphQL}\n  - {name: c, port: 3, type: ws}\n" +
				"  - {name: d, port: 4, type: tcp}\n  - {name: e, port: 5, type: Udp}\n  - {name: f, port: 6, type: grpc}\n" +
				"  - {name: g, port: 7, type: REST, basePath: ''}\n",
			Descriptor{Endpoints: []Endpoint{
				{Name: "a", Port: 1, Type: REST, BasePath: "/", Visibility: Public}, {Name: "b", Port: 2, Type: GraphQL, BasePath: "/", Visibility: Public},
				{Name: "c", Port: 3, Type: WS, BasePath: "/", Visibility: Public}, {Name: "d", Port: 4, Type: TCP, Visibility: Public},
				{Name: "e", Port: 5, Type: UDP, Visibility: Public}, {Name: "f", Port: 6, Type: GRPC, Visibility: Public},
				{Name: "g", Port: 7, Type: REST, BasePath: "/", Visibility: Public},
			}},
		},
		{
			"probe durations and ports from the first endpoint",
			"endpoints: [{name: web, port: 8080, type: TCP}, {name: admin, port: 9000, type: TCP}]\n" +
				"health:\n  readiness: {http: {path: /ready}}\n  liveness: {tcp: {}, initialDelaySeconds: 0}\n",
			Descriptor{
				Endpoints: []Endpoint{{Name: "web", Port: 8080, Type: TCP, Visibility: Public}, {Name: "admin", Port: 9000, Type: TCP, Visibility: Public}},
				Health: Health{
					Readiness: &Probe{HTTP: &HTTPProbe{Path: "/ready", Port: 8080}, PeriodSeconds: 10, TimeoutSeconds: 1, FailureThreshold: 3},
					Liveness:  &Probe{TCP: &TCPProbe{Port: 8080}, PeriodSeconds: 10, TimeoutSeconds: 1, FailureThreshold: 3},
				},
			},
		},
		{
			"env defaults to the name unless a file is given",
			"required:\n  configs: [{name: A}, {name: B, file: /b}, {name: C, env: ''}]\n  secrets: [{name: D, env: E}]\n",
			Descriptor{Required: Required{
				Configs: []Requirement{{Name: "A", Env: "A"}, {Name: "B", File: "/b"}, {Name: "C", Env: "C"}},
				Secrets: []Requirement{{Name: "D", Env: "E"}},
			}},
		},
		{
			"anchors and aliases",
			"endpoints:\n  - &web {name: web, port: &p 8080, type: REST}\n" +
				"health: {readiness: {tcp: {port: *p}}}\n",
			Descriptor{
				Endpoints: []Endpoint{{Name: "web", Port: 8080, Type: REST, BasePath: "/", Visibility: Public}},
				Health:    Health{Readiness: &Probe{TCP: &TCPProbe{Port: 8080}, PeriodSeconds: 10, TimeoutSeconds: 1, FailureThreshold: 3}},
			},
		},
		{
			"visibility, any case",
			"endpoints:\n  - {name: db, port: 5432, type: TCP, visibility: project}\n  - {name: web, port: 80, type: REST, visibility: Public}\n",
			Descriptor{Endpoints: []Endpoint{
				{Name: "db", Port: 5432, Type: TCP, Visibility: Project}, {Name: "web", Port: 80, Type: REST, BasePath: "/", Visibility: Public},
			}},
		},
		{
			"JSON",
			`{"endpoints": [{"name": "web", "port": 80, "type": "REST"}]}`,
			Descriptor{Endpoints: []Endpoint{{Name: "web", Port: 80, Type: REST, BasePath: "/", Visibility: Public}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := Parse(file, []byte(tt.yaml))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(d, tt.want) {
				t.Fatalf("\n got %+v\nwant %+v", d, tt.want)
			}
		})
	}
}

// endpoint is a valid endpoint to put ahead of the lines under test.
const endpoint = "endpoints:\n  - name: web\n    port: 8080\n    type: REST\n"

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		// The document.
		{"not a mapping", "- a\n", file + ":1: must be a mapping, got a list"},
		{"unknown top-level field", "endpoint: []\n", file + `:1: unknown field "endpoint" (known: endpoints, health, required, build)`},
		{"repeated field", "health: {}\nhealth: {}\n", file + ":2: health: appears more than once"},
		{"merge key", "x: &x {}\n<<: *x\n", file + ":1: unknown field \"x\" (known: endpoints, health, required, build)\n" +
			file + ":2: merge keys (<<) are not supported"},
		{"key not a string", "? [a]\n: 1\n", file + ":1: keys must be strings, got a list"},
		// yaml.v3 gives the line of the block the error is in, here the one that starts the list.
		{"syntax error", "endpoints:\n  - name: web\n  port: 1\n", file + ":1: invalid YAML: did not find expected '-' indicator"},
		{"syntax error on line 1", "endpoints: [\n", file + ":1: invalid YAML: did not find expected node content"},
		{"tab indent", "endpoints:\n\t- name: web\n", file + ":2: invalid YAML: found character that cannot start any token"},
		{"unknown anchor", "endpoints:\n  - *web\n", file + ":2: invalid YAML: unknown anchor 'web' referenced"},
		{"control character", "endpoints: []\n# \x01\n", file + ":2: invalid YAML: control characters are not allowed"},
		{"invalid UTF-8", "endpoints: []\nhealth: {}\n# \xc3\x28\n", file + ":3: invalid YAML: invalid trailing UTF-8 octet"},
		{"two documents", "endpoints: []\n---\nhealth: {}\n", file + ":2: holds a second YAML document; a descriptor is one document"},
		{"too large", strings.Repeat("#", MaxSize+1), file + ": is 1048577 bytes, more than the limit of 1048576"},

		// Build.
		{"build shorthand", "build: docker\n", file + `:1: build: must be dockerfile or source, got "docker"`},
		{"build unknown field", "build: {type: source, lang: go}\n", file + `:1: build: unknown field "lang" (known: type, language, version, command, start)`},
		{"build type", "build:\n  type: buildpack\n", file + `:2: build.type: must be dockerfile or source, got "buildpack"`},
		{"build start not a string", "build:\n  start: [a, b]\n", file + ":2: build.start: must be a string, got a list"},
		{"build command control", "build: {command: \"a\\tb\"}\n", file + `:1: build.command: must be one line without control characters, got "a\tb"`},
		{"dockerfile with source fields", "build: {type: dockerfile, language: go}\n", file + ":1: build: language, version, command and start are for a source build, not type dockerfile"},

		// Endpoints.
		{"endpoints not a list", "endpoints: {name: web}\n", file + ":1: endpoints: must be a list, got a mapping"},
		{"endpoint not a mapping", "endpoints:\n  - web\n", file + `:2: endpoints[0]: must be a mapping, got the string "web"`},
		{"endpoint null", "endpoints:\n  -\n", file + ":2: endpoints[0]: must be a mapping, got null"},
		{"unknown endpoint field", endpoint + "    openapi: openapi.yaml\n",
			file + `:5: endpoints[0]: unknown field "openapi" (known: name, port, type, basePath, schemaFilePath, visibility)`},
		{"name missing", "endpoints:\n  - port: 80\n    type: TCP\n", file + ":2: endpoints[0].name: is required"},
		{"name not a label", "endpoints:\n  - {name: Web_1, port: 80, type: TCP}\n", file + `:2: endpoints[0].name: must be a DNS-1123 label ` +
			`(lowercase letters, digits and '-', starting and ending with a letter or digit, at most 63 characters), got "Web_1"`},
		{"name too long", "endpoints:\n  - {name: " + strings.Repeat("a", 70) + ", port: 80, type: TCP}\n",
			file + ":2: endpoints[0].name: must be a DNS-1123 label (lowercase letters, digits and '-', starting and ending with a " +
				`letter or digit, at most 63 characters), got "` + strings.Repeat("a", 61) + `..."`},
		{"name not a string", "endpoints:\n  - {name: 1, port: 80, type: TCP}\n", file + ":2: endpoints[0].name: must be a string, got the number 1"},
		{"name twice", endpoint + "  - {name: web, port: 81, type: TCP}\n", file + `:5: endpoints[1].name: "web" is already the name of endpoints[0]`},
		{"port missing", "endpoints:\n  - name: web\n    type: TCP\n", file + ":2: endpoints[0].port: is required"},
		{"port zero", "endpoints:\n  - {name: web, port: 0, type: TCP}\n", file + ":2: endpoints[0].port: must be between 1 and 65535, got 0"},
		{"port too high", "endpoints:\n  - name: web\n    type: TCP\n    port: 70000\n", file + ":4: endpoints[0].port: must be between 1 and 65535, got 70000"},
		{"port beyond int64", "endpoints:\n  - {name: web, type: TCP, port: 18446744073709551615}\n",
			file + ":2: endpoints[0].port: must be between 1 and 65535, got 18446744073709551615"},
		{"port a string", "endpoints:\n  - {name: web, port: '80', type: TCP}\n", file + `:2: endpoints[0].port: must be an integer, got the string "80"`},
		{"port a float", "endpoints:\n  - {name: web, port: 80.5, type: TCP}\n", file + ":2: endpoints[0].port: must be an integer, got the number 80.5"},
		{"type missing", "endpoints:\n  - {name: web, port: 80}\n", file + ":2: endpoints[0].type: is required"},
		{"type unknown", "endpoints:\n  - {name: web, port: 80, type: HTTP}\n",
			file + `:2: endpoints[0].type: must be one of REST, GraphQL, gRPC, TCP, UDP and WS, got "HTTP"`},
		{"base path relative", endpoint + "    basePath: api\n", file + `:5: endpoints[0].basePath: must start with '/' and hold no control characters, got "api"`},
		{"base path with a line break", endpoint + "    basePath: \"/a\\nb\"\n",
			file + `:5: endpoints[0].basePath: must start with '/' and hold no control characters, got "/a\nb"`},
		{"base path on TCP", "endpoints:\n  - {name: db, port: 5432, type: TCP, basePath: /}\n", file + ":2: endpoints[0].basePath: a TCP endpoint has no base path"},
		{"schema leaving the repository", endpoint + "    schemaFilePath: ../openapi.yaml\n",
			file + `:5: endpoints[0].schemaFilePath: must be a relative path that stays inside the repository, with no control characters, got "../openapi.yaml"`},
		{"schema absolute", endpoint + "    schemaFilePath: /etc/passwd\n",
			file + `:5: endpoints[0].schemaFilePath: must be a relative path that stays inside the repository, with no control characters, got "/etc/passwd"`},
		{"schema on UDP", "endpoints:\n  - {name: dns, port: 53, type: UDP, schemaFilePath: dns.txt}\n",
			file + ":2: endpoints[0].schemaFilePath: a UDP endpoint has no schema file; only REST, GraphQL and gRPC endpoints have one"},
		{"visibility unknown", endpoint + "    visibility: internal\n",
			file + `:5: endpoints[0].visibility: must be public (reached through the entry) or project (only inside the environment), got "internal"`},
		{"visibility not a string", endpoint + "    visibility: [public]\n", file + ":5: endpoints[0].visibility: must be a string, got a list"},

		// Health.
		{"health not a mapping", "health: []\n", file + ":1: health: must be a mapping, got a list"},
		{"unknown health field", "health: {startup: {}}\n", file + `:1: health: unknown field "startup" (known: readiness, liveness)`},
		{"probe with no check", endpoint + "health:\n  readiness:\n    periodSeconds: 5\n",
			file + ":7: health.readiness: must have one of http, tcp and exec"},
		{"probe with two checks", endpoint + "health:\n  liveness:\n    tcp: {}\n    exec: {command: [true]}\n",
			file + ":7: health.liveness: must have only one of http, tcp and exec, has tcp and exec"},
		{"http method", endpoint + "health:\n  readiness:\n    http:\n      method: GET\n      path: /healthz\n",
			file + `:8: health.readiness.http: unknown field "method" (known: path, port)`},
		{"http path missing", endpoint + "health:\n  readiness:\n    http: {port: 8080}\n", file + ":7: health.readiness.http.path: is required"},
		{"http path relative", endpoint + "health:\n  readiness:\n    http: {path: healthz}\n",
			file + `:7: health.readiness.http.path: must start with '/' and hold no control characters, got "healthz"`},
		{"http port out of range", endpoint + "health:\n  readiness:\n    http: {path: /, port: 65536}\n",
			file + ":7: health.readiness.http.port: must be between 1 and 65535, got 65536"},
		{"http port with no endpoint", "health:\n  readiness:\n    http: {path: /}\n",
			file + ":3: health.readiness.http.port: is required when there are no endpoints"},
		{"tcp port with no endpoint", "health:\n  liveness:\n    tcp: {}\n",
			file + ":3: health.liveness.tcp.port: is required when there are no endpoints"},
		{"exec without command", "health:\n  liveness:\n    exec: {}\n", file + ":3: health.liveness.exec.command: must be a non-empty list of strings"},
		{"exec empty command", "health:\n  liveness:\n    exec: {command: []}\n", file + ":3: health.liveness.exec.command: must be a non-empty list of strings"},
		{"exec command a string", "health:\n  liveness:\n    exec: {command: cat /tmp/ready}\n",
			file + `:3: health.liveness.exec.command: must be a list, got the string "cat /tmp/ready"`},
		{"exec argument not a string", "health:\n  liveness:\n    exec:\n      command: [cat, [x]]\n",
			file + ":4: health.liveness.exec.command[1]: must be a string, got a list"},
		{"exec program empty", "health:\n  liveness:\n    exec:\n      command: ['', x]\n",
			file + ":4: health.liveness.exec.command[0]: must name the program to run"},
		{"negative initial delay", endpoint + "health:\n  readiness:\n    tcp: {}\n    initialDelaySeconds: -1\n",
			file + ":8: health.readiness.initialDelaySeconds: must be between 0 and 86400, got -1"},
		{"zero period", endpoint + "health:\n  readiness:\n    tcp: {}\n    periodSeconds: 0\n",
			file + ":8: health.readiness.periodSeconds: must be between 1 and 86400, got 0"},
		{"zero timeout", endpoint + "health:\n  readiness:\n    tcp: {}\n    timeoutSeconds: 0\n",
			file + ":8: health.readiness.timeoutSeconds: must be between 1 and 86400, got 0"},
		{"zero failure threshold", endpoint + "health:\n  readiness:\n    tcp: {}\n    failureThreshold: 0\n",
			file + ":8: health.readiness.failureThreshold: must be between 1 and 86400, got 0"},
		{"period over a day", endpoint + "health:\n  readiness:\n    tcp: {}\n    periodSeconds: 86401\n",
			file + ":8: health.readiness.periodSeconds: must be between 1 and 86400, got 86401"},

		// Requirements.
		{"required not a mapping", "required: [GREETING]\n", file + ":1: required: must be a mapping, got a list"},
		{"configs not a list", "required:\n  configs: GREETING\n", file + `:2: required.configs: must be a list, got the string "GREETING"`},
		{"unknown requirement field", "required:\n  secrets:\n    - {name: A, value: x}\n",
			file + `:3: required.secrets[0]: unknown field "value" (known: name, env, file, description)`},
		{"requirement name missing", "required:\n  configs:\n    - description: x\n", file + ":3: required.configs[0].name: is required"},
		{"requirement name invalid", "required:\n  configs:\n    - name: 1A\n",
			file + `:3: required.configs[0].name: must be a letter or '_' followed by letters, digits and '_', got "1A"`},
		{"requirement name twice", "required:\n  configs:\n    - name: A\n  secrets:\n    - name: A\n",
			file + `:5: required.secrets[0].name: name "A" is already used by required.configs[0]`},
		{"env invalid", "required:\n  configs:\n    - name: A\n      env: my-var\n",
			file + `:4: required.configs[0].env: must be a letter or '_' followed by letters, digits and '_', got "my-var"`},
		{"env and file", "required:\n  configs:\n    - name: A\n      env: A\n      file: /a\n",
			file + ":5: required.configs[0]: env and file are mutually exclusive"},
		{"env twice", "required:\n  configs:\n    - name: A\n  secrets:\n    - name: B\n      env: A\n",
			file + `:6: required.secrets[0].env: env "A" is already used by required.configs[0]`},
		{"file relative", "required:\n  configs:\n    - {name: A, file: etc/a}\n",
			file + `:3: required.configs[0].file: must be a clean absolute path to a file with no control characters, got "etc/a"`},
		{"file not clean", "required:\n  configs:\n    - {name: A, file: /etc/../a}\n",
			file + `:3: required.configs[0].file: must be a clean absolute path to a file with no control characters, got "/etc/../a"`},
		{"file with NUL", "required:\n  configs:\n    - {name: A, file: \"/a\\0\"}\n",
			file + `:3: required.configs[0].file: must be a clean absolute path to a file with no control characters, got "/a\x00"`},
		{"file twice", "required:\n  configs:\n    - {name: A, file: /a}\n    - {name: B, file: /a}\n",
			file + `:4: required.configs[1].file: file "/a" is already used by required.configs[0]`},
		{"description not a string", "required:\n  configs:\n    - {name: A, description: [x]}\n",
			file + ":3: required.configs[0].description: must be a string, got a list"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := Parse(file, []byte(tt.yaml))
			if err == nil {
				t.Fatalf("no error; got %+v", d)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("errors.Is(%v, ErrInvalid) = false", err)
			}
			if err.Error() != tt.want {
				t.Errorf("error:\n got %s\nwant %s", err, tt.want)
			}
			if !reflect.DeepEqual(d, Descriptor{}) {
				t.Errorf("descriptor with an error: %+v", d)
			}
		})
	}
}

func TestParseReportsAllProblems(t *testing.T) {
	const doc = `required:
  configs:
    - name: 9LIVES
endpoints:
  - name: web
    port: 70000
    type: REST
    openapi: openapi.yaml
health:
  readiness:
    http: {path: healthz}
`
	_, err := Parse(file, []byte(doc))
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v is not an *Error", err)
	}
	want := []Problem{
		{Line: 3, Field: "required.configs[0].name", Message: `must be a letter or '_' followed by letters, digits and '_', got "9LIVES"`},
		{Line: 6, Field: "endpoints[0].port", Message: "must be between 1 and 65535, got 70000"},
		{Line: 8, Field: "endpoints[0]", Message: `unknown field "openapi" (known: name, port, type, basePath, schemaFilePath, visibility)`},
		{Line: 11, Field: "health.readiness.http.path", Message: `must start with '/' and hold no control characters, got "healthz"`},
	}
	if e.File != file || !reflect.DeepEqual(e.Problems, want) {
		t.Fatalf("got %s %+v\nwant %+v", e.File, e.Problems, want)
	}
	if lines := strings.Split(err.Error(), "\n"); len(lines) != 4 || lines[1] != file+":6: endpoints[0].port: must be between 1 and 65535, got 70000" {
		t.Errorf("Error() = %q", err.Error())
	}
}

func TestParseCapsProblems(t *testing.T) {
	var b strings.Builder
	b.WriteString("endpoints:\n")
	for i := range 1500 {
		fmt.Fprintf(&b, "  - {name: e%d, port: 0, type: TCP}\n", i)
	}
	_, err := Parse(file, []byte(b.String()))
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v is not an *Error", err)
	}
	if len(e.Problems) != maxProblems+1 {
		t.Fatalf("%d problems, want %d", len(e.Problems), maxProblems+1)
	}
	if last := e.Problems[maxProblems]; last != (Problem{Message: "and 1400 more problems"}) {
		t.Errorf("last problem %+v", last)
	}
}

func TestParseAliasBomb(t *testing.T) {
	tests := []struct{ name, yaml, want string }{
		{
			"laughs in an unknown field",
			"a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n" +
				"d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: [*d, *d, *d, *d, *d, *d, *d, *d, *d]\n",
			`unknown field "a"`,
		},
		{
			"laughs in a command",
			"x: &a [x, x, x, x, x, x, x, x, x]\nhealth: {liveness: {exec: {command: &b [*a, *a, *a, *a, *a, *a, *a, *a]}}}\n",
			"health.liveness.exec.command[7]: must be a string, got a list",
		},
		{"a list that holds itself", "endpoints: &e [*e]\n", "endpoints[0]: must be a mapping, got a list"},
		{"a mapping that holds itself", "health: &h {readiness: *h}\n", `health.readiness: unknown field "readiness"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(file, []byte(tt.yaml))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}
