package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"maps"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	invopop "github.com/invopop/jsonschema"
	"github.com/labstack/echo/v4"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

var updateComments = flag.Bool("update", false, "rewrite openapi_comments.json from the api package's source")

// maxUnexercised is how many documented operations the handler tests may leave unexercised before TestMain fails
// the run: each one is an answer nobody checks against the document.
const maxUnexercised = 3

// TestMain runs the tests, then, on a run of every test that passed, lists the documented operations that no
// handler test called (failing when there are more than maxUnexercised), and those no test had a 2xx answer of.
// go test shows the lists with -v, or when the package fails.
func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 && flag.Lookup("test.run").Value.String() == "" && flag.Lookup("test.skip").Value.String() == "" {
		if chk, err := checker(); err == nil {
			missing := chk.unexercised(false)
			fmt.Printf("OpenAPI: %d of %d documented operations were not exercised by the handler tests: %s\n",
				len(missing), len(chk.ops), strings.Join(missing, ", "))
			failing := chk.unexercised(true)
			fmt.Printf("OpenAPI: %d of %d documented operations never answered 2xx in the handler tests: %s\n",
				len(failing), len(chk.ops), strings.Join(failing, ", "))
			if len(missing) > maxUnexercised {
				fmt.Printf("FAIL: more than %d documented operations are not exercised; test them\n", maxUnexercised)
				code = 1
			}
		}
	}
	os.Exit(code)
}

// openAPIJSON is the document the server serves.
func openAPIJSON(t *testing.T) []byte {
	t.Helper()
	e := newTestEnv(t)
	rec := e.must(http.StatusOK, http.MethodGet, openAPIPath, "", nil, nil)
	return rec.Body.Bytes()
}

func TestOpenAPIServedWithoutToken(t *testing.T) {
	e := newTestEnv(t)
	rec := e.must(http.StatusOK, http.MethodGet, openAPIPath, "", nil, nil)
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, echo.MIMEApplicationJSON) {
		t.Errorf("Content-Type %q, want JSON", ct)
	}
	if cc := rec.Header().Get("Cache-Control"); !strings.Contains(cc, "public") {
		t.Errorf("Cache-Control %q, want a cacheable answer", cc)
	}
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
		t.Fatalf("decoding the document: %v", err)
	}
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi %q, want 3.1.0", doc.OpenAPI)
	}
	if _, ok := doc.Paths["/api/v1/projects/{project}/components/{component}/webhook"]["get"]; !ok {
		t.Errorf("the document has no GET …/components/{component}/webhook; paths: %v", slices.Sorted(maps.Keys(doc.Paths)))
	}
	again := e.must(http.StatusOK, http.MethodGet, openAPIPath, "", nil, nil)
	if !bytes.Equal(again.Body.Bytes(), rec.Body.Bytes()) {
		t.Error("the document changed between two requests")
	}
}

// echoParamRE finds the parameters of an Echo route path.
var echoParamRE = regexp.MustCompile(`:([A-Za-z0-9_]+)`)

// TestOpenAPIMatchesRoutes holds the document to the routes the server registers: the same methods on the same
// paths (Echo's :param is OpenAPI's {param}), the console's pages left out, and each operation declaring its
// path's parameters.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	e := newTestEnv(t)
	console := &Server{echo: echo.New()}
	console.consoleRoutes()
	pages := map[string]bool{}
	for _, r := range console.echo.Routes() {
		pages[r.Method+" "+r.Path] = true
	}
	if len(pages) == 0 {
		t.Fatal("consoleRoutes registered no route")
	}
	registered := map[string]bool{}
	for _, r := range e.srv.echo.Routes() {
		if pages[r.Method+" "+r.Path] || !slices.Contains(documentedMethods, r.Method) {
			continue // a console page, or one of Echo's own (its not-found and method-not-allowed routes)
		}
		registered[r.Method+" "+echoParamRE.ReplaceAllString(r.Path, "{$1}")] = true
	}

	doc, err := buildOpenAPI(apiRoutes())
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	for path, item := range doc.Paths {
		for method, op := range *item {
			documented[strings.ToUpper(method)+" "+path] = true
			var want, got []string
			for _, m := range pathParamRE.FindAllStringSubmatch(path, -1) {
				want = append(want, m[1])
			}
			for _, p := range op.Parameters {
				if p.In == "path" {
					got = append(got, p.Name)
					if !p.Required {
						t.Errorf("%s %s: path parameter %s is not required", method, path, p.Name)
					}
				}
			}
			if !slices.Equal(got, want) {
				t.Errorf("%s %s declares path parameters %v, want %v", method, path, got, want)
			}
		}
	}
	for r := range registered {
		if !documented[r] {
			t.Errorf("route %s is registered but not in the OpenAPI document (add it to apiRoutes)", r)
		}
	}
	for r := range documented {
		if !registered[r] {
			t.Errorf("%s is in the OpenAPI document but no route is registered for it", r)
		}
	}
	if len(registered) < 40 {
		t.Errorf("only %d routes found: %v", len(registered), slices.Sorted(maps.Keys(registered)))
	}
}

// documentedMethods are the methods a route of the API may have.
var documentedMethods = []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}

// TestOpenAPIValidWithKinOpenAPI loads and validates the document with kin-openapi, which knows OpenAPI 3.1.
func TestOpenAPIValidWithKinOpenAPI(t *testing.T) {
	data := openAPIJSON(t)
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(data)
	if err != nil {
		t.Fatalf("kin-openapi cannot load the document: %v", err)
	}
	if !doc.IsOpenAPI31OrLater() {
		t.Errorf("kin-openapi reads version %q, not 3.1", doc.OpenAPI)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Errorf("kin-openapi finds the document invalid: %v", err)
	}
}

// oasSchemaFile is where TestOpenAPIValidAgainstOASSchema looks for the official OpenAPI 3.1 schema
// (https://spec.openapis.org/oas/3.1/schema/2022-10-07, schemas/v3.1/schema.json of the
// OAI/OpenAPI-Specification repository).
const oasSchemaFile = "testdata/oas-3.1-schema.json"

// TestOpenAPIValidAgainstOASSchema validates the document against the official OpenAPI 3.1 schema, when
// oasSchemaFile holds it.
func TestOpenAPIValidAgainstOASSchema(t *testing.T) {
	meta, err := os.ReadFile(oasSchemaFile)
	if errors.Is(err, fs.ErrNotExist) {
		t.Skipf("%s is absent: put the official OpenAPI 3.1 schema there to check the document against it", oasSchemaFile)
	}
	if err != nil {
		t.Fatal(err)
	}
	metaDoc, err := jsonschema.UnmarshalJSON(bytes.NewReader(meta))
	if err != nil {
		t.Fatalf("reading %s: %v", oasSchemaFile, err)
	}
	id, _ := metaDoc.(map[string]any)["$id"].(string)
	c := jsonschema.NewCompiler()
	if err := c.AddResource(id, metaDoc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile(id)
	if err != nil {
		t.Fatalf("compiling the OpenAPI 3.1 schema: %v", err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(openAPIJSON(t)))
	if err != nil {
		t.Fatal(err)
	}
	if err := sch.Validate(doc); err != nil {
		t.Errorf("the document is not valid OpenAPI 3.1: %v", err)
	}
}

// TestOpenAPICommentsUpToDate fails when openapi_comments.json, the schemas' descriptions, is not what the
// source's doc comments say; -update rewrites it.
func TestOpenAPICommentsUpToDate(t *testing.T) {
	r := &invopop.Reflector{}
	// AddGoComments names a directory's package by joining its path to base: ../api under …/server is …/api.
	for _, dir := range []string{"../api", "../scan", "../descriptor"} {
		if err := r.AddGoComments("github.com/slipway-dev/slipway/server", dir); err != nil {
			t.Fatalf("reading the doc comments of %s: %v", dir, err)
		}
	}
	schemas := newSchemaSet(r.CommentMap)
	if _, err := buildOpenAPIWith(apiRoutes(), schemas); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{}
	for key := range schemas.used {
		if c := r.CommentMap[key]; c != "" {
			want[key] = c
		}
	}
	if len(want) < 50 {
		t.Fatalf("only %d doc comments found for the document's schemas", len(want))
	}
	var got map[string]string
	if err := json.Unmarshal(openAPIComments, &got); err != nil {
		t.Fatal(err)
	}
	if maps.Equal(got, want) {
		return
	}
	if *updateComments {
		data, err := json.MarshalIndent(want, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile("openapi_comments.json", append(data, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("rewrote openapi_comments.json (%d descriptions)", len(want))
		return
	}
	for key, c := range want {
		if got[key] != c {
			t.Errorf("description of %s is %q in openapi_comments.json, %q in the source", key, got[key], c)
		}
	}
	for key := range got {
		if _, ok := want[key]; !ok {
			t.Errorf("openapi_comments.json describes %s, which the document does not use", key)
		}
	}
	t.Log("run go test ./server -run OpenAPIComments -update to rewrite openapi_comments.json")
}
