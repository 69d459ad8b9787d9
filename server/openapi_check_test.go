package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// checkedOp is a documented operation with its schemas compiled for checking answers.
type checkedOp struct {
	method, path, id string
	// re matches the request paths of the operation's template; params is how many parameters it has (a literal
	// segment wins over a parameter, as in Echo's router).
	re     *regexp.Regexp
	params int
	// request is the JSON request body's schema (nil: no body); requestRequired says it may not be empty.
	request         *jsonschema.Schema
	requestRequired bool
	// responses are the documented answers by status: the media types each may have, with their schemas (nil for
	// a media type whose body is not JSON).
	responses map[int]map[string]*jsonschema.Schema
}

// apiChecker checks the server's answers against its OpenAPI document, and records which operations were
// exercised.
type apiChecker struct {
	ops []*checkedOp

	// exercised holds the IDs of the operations a request reached, succeeded those answered 2xx.
	mu                   sync.Mutex
	exercised, succeeded map[string]bool
}

// checker is the apiChecker of the document apiRoutes makes, compiled once for every test.
var checker = sync.OnceValues(func() (*apiChecker, error) {
	doc, err := buildOpenAPI(apiRoutes())
	if err != nil {
		return nil, err
	}
	return newAPIChecker(doc)
})

// schemaURL is the address under which the document's schemas are compiled.
const schemaURL = "https://slipway.test/openapi-schemas.json"

// newAPIChecker compiles the schemas of doc's operations.
func newAPIChecker(doc *openAPIDoc) (*apiChecker, error) {
	// One resource holds the components (which the schemas refer to) and every schema of a request or response
	// in a list, so that each compiles by its index.
	var inline []any
	type pending struct {
		op     *checkedOp
		status int
		media  string
		at     int
	}
	var todo []pending
	add := func(sc any) (int, error) {
		data, err := json.Marshal(sc)
		if err != nil {
			return 0, err
		}
		v, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
		if err != nil {
			return 0, err
		}
		inline = append(inline, v)
		return len(inline) - 1, nil
	}
	chk := &apiChecker{exercised: map[string]bool{}, succeeded: map[string]bool{}}
	for path, item := range doc.Paths {
		for method, op := range *item {
			co := &checkedOp{method: strings.ToUpper(method), path: path, id: op.OperationID,
				responses: map[int]map[string]*jsonschema.Schema{}}
			co.params = len(pathParamRE.FindAllString(path, -1))
			co.re = regexp.MustCompile("^" + templateRE(path) + "$")
			if rb := op.RequestBody; rb != nil {
				co.requestRequired = rb.Required
				at, err := add(rb.Content["application/json"].Schema)
				if err != nil {
					return nil, err
				}
				todo = append(todo, pending{op: co, status: -1, at: at})
			}
			for code, r := range op.Responses {
				status, err := strconv.Atoi(code)
				if err != nil {
					return nil, fmt.Errorf("%s %s: response %q is not a status", method, path, code)
				}
				co.responses[status] = map[string]*jsonschema.Schema{}
				for media, mt := range r.Content {
					co.responses[status][media] = nil
					if media != "application/json" {
						continue
					}
					at, err := add(mt.Schema)
					if err != nil {
						return nil, err
					}
					todo = append(todo, pending{op: co, status: status, media: media, at: at})
				}
			}
			chk.ops = append(chk.ops, co)
		}
	}
	data, err := json.Marshal(map[string]any{"components": doc.Components})
	if err != nil {
		return nil, err
	}
	res, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	res.(map[string]any)["x-inline"] = inline
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	if err := c.AddResource(schemaURL, res); err != nil {
		return nil, fmt.Errorf("adding the document's schemas: %w", err)
	}
	for _, p := range todo {
		sc, err := c.Compile(fmt.Sprintf("%s#/x-inline/%d", schemaURL, p.at))
		if err != nil {
			return nil, fmt.Errorf("compiling a schema of %s %s: %w", p.op.method, p.op.path, err)
		}
		if p.status < 0 {
			p.op.request = sc
		} else {
			p.op.responses[p.status][p.media] = sc
		}
	}
	return chk, nil
}

// templateRE is the regular expression of the escaped request paths an OpenAPI path template matches.
func templateRE(template string) string {
	var b strings.Builder
	for i, part := range strings.Split(template, "/") {
		if i > 0 {
			b.WriteString("/")
		}
		if strings.HasPrefix(part, "{") && strings.HasSuffix(part, "}") {
			b.WriteString("[^/]+")
		} else {
			b.WriteString(regexp.QuoteMeta(part))
		}
	}
	return b.String()
}

// find is the documented operation answering method on the escaped path; nil when none does.
func (a *apiChecker) find(method, path string) *checkedOp {
	var best *checkedOp
	for _, op := range a.ops {
		if op.method == method && op.re.MatchString(path) && (best == nil || op.params < best.params) {
			best = op
		}
	}
	return best
}

// check reports (with t.Errorf) where an answer to a request differs from the document: a status it does not
// list for the operation, a content type it does not list for that status, a JSON body its schema refuses, or a
// JSON request body answered 2xx that the request schema refuses. reqBody is the request's body, status,
// header and body the answer's.
func (a *apiChecker) check(t testing.TB, req *http.Request, reqBody []byte, status int, header http.Header, body []byte) {
	t.Helper()
	op := a.find(req.Method, req.URL.EscapedPath())
	if op == nil {
		return // a console page, a path that is no route, or a method the route does not have (405)
	}
	a.mu.Lock()
	a.exercised[op.id] = true
	if status/100 == 2 {
		a.succeeded[op.id] = true
	}
	a.mu.Unlock()
	where := fmt.Sprintf("%s %s (%s) answered %d", req.Method, req.URL.RequestURI(), op.id, status)
	contents, ok := op.responses[status]
	if !ok {
		t.Errorf("OpenAPI: %s, a status the document does not list for %s (it lists %v); body: %.500s",
			where, op.id, slices.Sorted(mapKeys(op.responses)), body)
		return
	}
	if status/100 == 2 && op.request != nil {
		a.checkRequest(t, where, op, req, reqBody)
	}
	if len(contents) == 0 {
		if len(body) > 0 {
			t.Errorf("OpenAPI: %s with a body, which the document does not give this status: %.500s", where, body)
		}
		return
	}
	media, _, err := mime.ParseMediaType(header.Get("Content-Type"))
	if err != nil && req.Method != http.MethodHead {
		t.Errorf("OpenAPI: %s with Content-Type %q: %v", where, header.Get("Content-Type"), err)
		return
	}
	schema, ok := contents[media]
	if !ok {
		t.Errorf("OpenAPI: %s with Content-Type %s, which the document does not list for it (%v)",
			where, media, slices.Sorted(mapKeys(contents)))
		return
	}
	if schema == nil {
		return
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		t.Errorf("OpenAPI: %s with a body that is not JSON: %v; body: %.500s", where, err, body)
		return
	}
	if err := schema.Validate(v); err != nil {
		t.Errorf("OpenAPI: %s with a body its schema refuses: %#v\nbody: %.2000s", where, err, body)
	}
}

// checkRequest reports a JSON request body, answered 2xx, that op's request schema refuses.
func (a *apiChecker) checkRequest(t testing.TB, where string, op *checkedOp, req *http.Request, body []byte) {
	t.Helper()
	if len(bytes.TrimSpace(body)) == 0 {
		if op.requestRequired {
			t.Errorf("OpenAPI: %s to a request without the body the document requires", where)
		}
		return
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		t.Errorf("OpenAPI: %s to a request body that is not JSON: %v; body: %.500s", where, err, body)
		return
	}
	if err := op.request.Validate(v); err != nil {
		t.Errorf("OpenAPI: %s to a request body its schema refuses: %#v\nbody: %.2000s", where, err, body)
	}
}

// unexercised are the IDs of the documented operations no request has reached yet, sorted; with succeeded,
// those no request had a 2xx answer of.
func (a *apiChecker) unexercised(succeeded bool) []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	seen := a.exercised
	if succeeded {
		seen = a.succeeded
	}
	var out []string
	for _, op := range a.ops {
		if !seen[op.id] {
			out = append(out, op.id)
		}
	}
	slices.Sort(out)
	return out
}

// mapKeys iterates over m's keys.
func mapKeys[K comparable, V any](m map[K]V) func(func(K) bool) {
	return func(yield func(K) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// checkedHandler serves requests with h and checks every answer against the OpenAPI document (apiChecker.check),
// reporting to t. A JSON answer is checked once h has returned; the status when the header is written, so that
// a stream still open when the test ends has been checked during it.
func checkedHandler(t testing.TB, h http.Handler) http.Handler {
	chk, err := checker()
	if err != nil {
		t.Fatalf("compiling the OpenAPI document's schemas: %v", err)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		// The request body is kept as the handler reads it: what it does not read (a refused webhook delivery's)
		// stays unread.
		var reqBody bytes.Buffer
		if req.Body != nil {
			req.Body = struct {
				io.Reader
				io.Closer
			}{io.TeeReader(req.Body, &reqBody), req.Body}
		}
		rw := &checkingWriter{ResponseWriter: w}
		rw.onHeader = func(status int) {
			if !rw.isJSON() {
				chk.check(t, req, reqBody.Bytes(), status, rw.Header(), nil)
			}
		}
		h.ServeHTTP(rw, req)
		if rw.status == 0 {
			rw.WriteHeader(http.StatusOK)
		}
		if rw.isJSON() {
			chk.check(t, req, reqBody.Bytes(), rw.status, rw.Header(), rw.body.Bytes())
		}
	})
}

// checkingWriter is an http.ResponseWriter that keeps the status and, for a JSON answer, the body.
type checkingWriter struct {
	http.ResponseWriter
	status   int
	body     bytes.Buffer
	onHeader func(status int)
}

func (w *checkingWriter) isJSON() bool {
	media, _, _ := mime.ParseMediaType(w.Header().Get("Content-Type"))
	return media == "application/json"
}

func (w *checkingWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
		w.onHeader(status)
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *checkingWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	if w.isJSON() {
		w.body.Write(p)
	}
	return w.ResponseWriter.Write(p)
}

// Flush flushes the underlying writer, for streams.
func (w *checkingWriter) Flush() { _ = http.NewResponseController(w.ResponseWriter).Flush() }

// Unwrap is for http.ResponseController.
func (w *checkingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
