package descriptor

import (
	"encoding/json"
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

const openAPI3YAML = `openapi: 3.0.3
info: {title: hello, version: 1.0.0}
paths:
  /greeting:
    get:
      responses:
        "200":
          description: A greeting.
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Greeting"}
components:
  schemas:
    Greeting:
      type: object
      properties:
        text: {type: string}
`

const swagger2JSON = `{
	"swagger": "2.0",
	"info": {"title": "hello", "version": "1.0.0"},
	"basePath": "/v1",
	"paths": {
		"/greeting": {
			"get": {
				"produces": ["application/json"],
				"responses": {"200": {"description": "A greeting.", "schema": {"$ref": "#/definitions/Greeting"}}}
			}
		}
	},
	"definitions": {"Greeting": {"type": "object", "properties": {"text": {"type": "string"}}}}
}`

// rest is a descriptor with one REST endpoint whose spec is schema.
func rest(schema string) Descriptor {
	return Descriptor{Endpoints: []Endpoint{{Name: "web", Port: 8080, Type: REST, BasePath: "/", SchemaFilePath: schema}}}
}

func TestSpecsValid(t *testing.T) {
	root := t.TempDir()
	write(t, root, map[string]string{
		"api/openapi.yaml":  openAPI3YAML,
		"api/swagger.json":  swagger2JSON,
		"api/schema.gql":    "type Query { hello: String }\n",
		"proto/hello.proto": "syntax = \"proto3\";\n",
	})
	d := Descriptor{Endpoints: []Endpoint{
		{Name: "v3", Port: 1, Type: REST, BasePath: "/", SchemaFilePath: "api/openapi.yaml"},
		{Name: "plain", Port: 2, Type: TCP},
		{Name: "v2", Port: 3, Type: REST, BasePath: "/", SchemaFilePath: "api/swagger.json"},
		{Name: "graph", Port: 4, Type: GraphQL, BasePath: "/", SchemaFilePath: "api/schema.gql"},
		{Name: "rpc", Port: 5, Type: GRPC, SchemaFilePath: "./proto/../proto/hello.proto"},
	}}
	specs, err := Specs(root, d)
	if err != nil {
		t.Fatal(err)
	}
	if len(specs) != 4 {
		t.Fatalf("%d specs, want 4: %+v", len(specs), specs)
	}

	var v3 struct {
		OpenAPI string `json:"openapi"`
		Info    struct{ Title string }
		Paths   map[string]any
	}
	if s := specs[0]; s.Endpoint != "v3" || s.Path != "api/openapi.yaml" || s.Format != OpenAPI3 || s.Raw != nil {
		t.Errorf("OpenAPI 3 spec %+v", s)
	} else if err := json.Unmarshal(s.JSON, &v3); err != nil || v3.OpenAPI != "3.0.3" || v3.Info.Title != "hello" || v3.Paths["/greeting"] == nil {
		t.Errorf("OpenAPI 3 JSON %s: %+v, %v", s.JSON, v3, err)
	}

	var v2 struct {
		Swagger     string         `json:"swagger"`
		BasePath    string         `json:"basePath"`
		Definitions map[string]any `json:"definitions"`
	}
	if s := specs[1]; s.Endpoint != "v2" || s.Format != Swagger2 || s.Raw != nil {
		t.Errorf("Swagger 2 spec %+v", s)
	} else if err := json.Unmarshal(s.JSON, &v2); err != nil || v2.Swagger != "2.0" || v2.BasePath != "/v1" || v2.Definitions["Greeting"] == nil {
		t.Errorf("Swagger 2 JSON %s: %+v, %v", s.JSON, v2, err)
	}

	wantRaw := []Spec{
		{Endpoint: "graph", Path: "api/schema.gql", Format: GraphQLSchema, Raw: []byte("type Query { hello: String }\n")},
		{Endpoint: "rpc", Path: "./proto/../proto/hello.proto", Format: Proto, Raw: []byte("syntax = \"proto3\";\n")},
	}
	if !reflect.DeepEqual(specs[2:], wantRaw) {
		t.Errorf("raw specs\n got %+v\nwant %+v", specs[2:], wantRaw)
	}
}

func TestSpecsFormats(t *testing.T) {
	tests := []struct {
		name, spec, format string
	}{
		{"OpenAPI 3 as JSON indented with tabs", "{\n\t\"openapi\": \"3.0.0\",\n\t\"info\": {\"title\": \"t\", \"version\": \"1\"},\n\t\"paths\": {}\n}", OpenAPI3},
		{"OpenAPI 3.1", "openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths: {}\n", OpenAPI3},
		{"Swagger 2 as YAML", "swagger: '2.0'\ninfo: {title: t, version: '1'}\npaths: {}\n", Swagger2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			write(t, root, map[string]string{"spec": tt.spec})
			specs, err := Specs(root, rest("spec"))
			if err != nil {
				t.Fatal(err)
			}
			if len(specs) != 1 || specs[0].Format != tt.format || !json.Valid(specs[0].JSON) {
				t.Fatalf("specs %+v", specs)
			}
		})
	}
}

func TestSpecsInvalid(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		setup func(t *testing.T, root, outside string)
		d     Descriptor
		want  []string // the error holds each of these
	}{
		{
			name:  "OpenAPI 3 without info",
			files: map[string]string{"openapi.yaml": "openapi: 3.0.3\npaths: {}\n"},
			d:     rest("openapi.yaml"),
			want:  []string{"openapi.yaml: ", "info"},
		},
		{
			name:  "OpenAPI 3 with a $ref to nothing",
			files: map[string]string{"openapi.yaml": strings.Replace(openAPI3YAML, "schemas/Greeting\"", "schemas/Missing\"", 1)},
			d:     rest("openapi.yaml"),
			want:  []string{"openapi.yaml: ", "Missing"},
		},
		{
			// The file the $ref names exists and is valid: only the refusal can make this fail.
			name: "OpenAPI 3 with an external $ref",
			files: map[string]string{
				"openapi.yaml":     strings.Replace(openAPI3YAML, "#/components/schemas/Greeting", "greeting.yaml", 1),
				"greeting.yaml":    "type: object\n",
				"api/unused.proto": "",
			},
			d:    rest("openapi.yaml"),
			want: []string{"openapi.yaml: ", `disallowed external reference: "greeting.yaml"`},
		},
		{
			name:  "OpenAPI 3 with a $ref to a file outside",
			files: map[string]string{"openapi.yaml": strings.Replace(openAPI3YAML, "#/components/schemas/Greeting", "/etc/passwd", 1)},
			d:     rest("openapi.yaml"),
			want:  []string{"openapi.yaml: ", `disallowed external reference: "/etc/passwd"`},
		},
		{
			name:  "Swagger 2 with an external $ref",
			files: map[string]string{"swagger.json": strings.Replace(swagger2JSON, "#/definitions/Greeting", "greeting.json", 1), "greeting.json": `{"type": "object"}`},
			d:     rest("swagger.json"),
			want:  []string{"swagger.json: ", "external reference"},
		},
		{
			name:  "Swagger 2 without a title",
			files: map[string]string{"swagger.json": strings.Replace(swagger2JSON, `"title": "hello", `, "", 1)},
			d:     rest("swagger.json"),
			want:  []string{"swagger.json: ", "title"},
		},
		{
			name:  "Swagger 2 with the version a number",
			files: map[string]string{"swagger.yaml": "swagger: 2.0\ninfo: {title: t, version: '1'}\npaths: {}\n"},
			d:     rest("swagger.yaml"),
			want:  []string{"swagger.yaml: ", "cannot unmarshal number into field T.swagger of type string"},
		},
		{
			name:  "neither OpenAPI 3 nor Swagger 2",
			files: map[string]string{"openapi.yaml": "openapi: 2.0\ninfo: {title: t, version: '1'}\n"},
			d:     rest("openapi.yaml"),
			want:  []string{`openapi.yaml: is neither an OpenAPI 3 document (openapi: 3.x) nor a Swagger 2 document (swagger: "2.0"): openapi is "2.0", swagger is ""`},
		},
		{
			name:  "not YAML",
			files: map[string]string{"openapi.yaml": "openapi: [\n"},
			d:     rest("openapi.yaml"),
			want:  []string{"openapi.yaml: is neither YAML nor JSON"},
		},
		{
			name: "missing",
			d:    rest("openapi.yaml"),
			want: []string{Path + `: endpoints[0].schemaFilePath: "openapi.yaml" does not exist`},
		},
		{
			name: "path leaving the repository",
			d:    rest("../openapi.yaml"),
			want: []string{Path + `: endpoints[0].schemaFilePath: "../openapi.yaml" leads out of the repository`},
		},
		{
			name: "absolute path",
			d:    rest("/etc/passwd"),
			want: []string{Path + `: endpoints[0].schemaFilePath: "/etc/passwd" leads out of the repository`},
		},
		{
			name: "symlink leaving the repository",
			setup: func(t *testing.T, root, outside string) {
				write(t, outside, map[string]string{"openapi.yaml": openAPI3YAML})
				symlink(t, filepath.Join(outside, "openapi.yaml"), filepath.Join(root, "api", "openapi.yaml"))
			},
			d:    rest("api/openapi.yaml"),
			want: []string{Path + `: endpoints[0].schemaFilePath: "api/openapi.yaml" leads out of the repository`},
		},
		{
			name: "directory symlink leaving the repository",
			setup: func(t *testing.T, root, outside string) {
				write(t, outside, map[string]string{"openapi.yaml": openAPI3YAML})
				symlink(t, outside, filepath.Join(root, "api"))
			},
			d:    rest("api/openapi.yaml"),
			want: []string{Path + `: endpoints[0].schemaFilePath: "api/openapi.yaml" leads out of the repository`},
		},
		{
			name:  "too large",
			files: map[string]string{"openapi.yaml": strings.Repeat("#", MaxSpecSize+1)},
			d:     rest("openapi.yaml"),
			want:  []string{Path + `: endpoints[0].schemaFilePath: "openapi.yaml" is 5242881 bytes, more than the limit of 5242880`},
		},
		{
			name:  "a directory",
			files: map[string]string{"api/x": ""},
			d:     rest("api"),
			want:  []string{Path + `: endpoints[0].schemaFilePath: "api" is not a regular file`},
		},
		{
			name:  "empty GraphQL schema",
			files: map[string]string{"schema.graphql": " \n"},
			d:     Descriptor{Endpoints: []Endpoint{{Name: "g", Port: 1, Type: GraphQL, SchemaFilePath: "schema.graphql"}}},
			want:  []string{"schema.graphql: is empty"},
		},
		{
			name:  "schema on a TCP endpoint",
			files: map[string]string{"db.sql": "create table x ();"},
			d:     Descriptor{Endpoints: []Endpoint{{Name: "db", Port: 5432, Type: TCP, SchemaFilePath: "db.sql"}}},
			want:  []string{Path + ": endpoints[0].schemaFilePath: a TCP endpoint has no schema file; only REST, GraphQL and gRPC endpoints have one"},
		},
		{
			name:  "every bad spec reported",
			files: map[string]string{"a.yaml": "openapi: 3.0.3\n", "ok.yaml": openAPI3YAML},
			d: Descriptor{Endpoints: []Endpoint{
				{Name: "a", Port: 1, Type: REST, SchemaFilePath: "a.yaml"},
				{Name: "ok", Port: 2, Type: REST, SchemaFilePath: "ok.yaml"},
				{Name: "b", Port: 3, Type: REST, SchemaFilePath: "b.yaml"},
			}},
			want: []string{"a.yaml: ", "\n" + Path + `: endpoints[2].schemaFilePath: "b.yaml" does not exist`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root, outside := t.TempDir(), t.TempDir()
			write(t, root, tt.files)
			if tt.setup != nil {
				tt.setup(t, root, outside)
			}
			specs, err := Specs(root, tt.d)
			if err == nil {
				t.Fatalf("no error; specs %+v", specs)
			}
			var e *Error
			if !errors.Is(err, ErrInvalid) || !errors.As(err, &e) {
				t.Errorf("error %v does not match ErrInvalid and *Error", err)
			}
			for _, want := range tt.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not hold %q", err, want)
				}
			}
			if specs != nil {
				t.Errorf("specs with an error: %+v", specs)
			}
		})
	}
}
