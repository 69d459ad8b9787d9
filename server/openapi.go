package server

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/invopop/jsonschema"
	"github.com/labstack/echo/v4"
)

// openAPIPath is where the server publishes its OpenAPI document.
const openAPIPath = "/api/v1/openapi.json"

// openAPIComments are the Go doc comments of the api package's types and of the scan and descriptor types it
// uses, keyed as invopop/jsonschema's CommentMap: the schemas' descriptions. They are read from the source by
// TestOpenAPICommentsUpToDate (go test ./server -run OpenAPIComments -update rewrites the file), since a
// running server has no source to read.
//
//go:embed openapi_comments.json
var openAPIComments []byte

// openAPIDoc is an OpenAPI 3.1 document: the parts of it slipway's API needs.
type openAPIDoc struct {
	OpenAPI           string               `json:"openapi"`
	Info              openAPIInfo          `json:"info"`
	JSONSchemaDialect string               `json:"jsonSchemaDialect"`
	Paths             map[string]*pathItem `json:"paths"`
	Components        openAPIComponents    `json:"components"`
	Tags              []openAPITag         `json:"tags,omitempty"`
}

// openAPIInfo, openAPITag, operation, parameter, requestBody, response, mediaType, openAPIComponents and
// securityScheme are the OpenAPI objects of those names; their fields are the specification's.
type openAPIInfo struct {
	Title       string `json:"title"`
	Version     string `json:"version"`
	Description string `json:"description,omitempty"`
}

type openAPITag struct {
	Name string `json:"name"`
}

// pathItem holds a path's operations by lower-case method.
type pathItem map[string]*operation

type operation struct {
	OperationID string                `json:"operationId"`
	Summary     string                `json:"summary"`
	Description string                `json:"description,omitempty"`
	Tags        []string              `json:"tags,omitempty"`
	Parameters  []parameter           `json:"parameters,omitempty"`
	RequestBody *requestBody          `json:"requestBody,omitempty"`
	Responses   map[string]*response  `json:"responses"`
	Security    []map[string][]string `json:"security,omitempty"`
	// Role is the least role of a token allowed to call the operation; absent when it needs none.
	Role string `json:"x-slipway-role,omitempty"`
}

type parameter struct {
	Name        string             `json:"name"`
	In          string             `json:"in"`
	Description string             `json:"description,omitempty"`
	Required    bool               `json:"required,omitempty"`
	Schema      *jsonschema.Schema `json:"schema"`
}

type requestBody struct {
	Description string               `json:"description,omitempty"`
	Required    bool                 `json:"required"`
	Content     map[string]mediaType `json:"content"`
}

type response struct {
	Description string               `json:"description"`
	Content     map[string]mediaType `json:"content,omitempty"`
}

type mediaType struct {
	Schema *jsonschema.Schema `json:"schema"`
}

type openAPIComponents struct {
	Schemas         map[string]*jsonschema.Schema `json:"schemas"`
	SecuritySchemes map[string]securityScheme     `json:"securitySchemes"`
}

type securityScheme struct {
	Type         string `json:"type"`
	Scheme       string `json:"scheme"`
	Description  string `json:"description,omitempty"`
	BearerFormat string `json:"bearerFormat,omitempty"`
}

// openAPIDocument is the served document, built once per Server from apiRoutes.
type openAPIDocument struct {
	once sync.Once
	json []byte
	err  error
}

// get returns the document's JSON, building it the first time.
func (d *openAPIDocument) get() ([]byte, error) {
	d.once.Do(func() {
		var doc *openAPIDoc
		if doc, d.err = buildOpenAPI(apiRoutes()); d.err == nil {
			d.json, d.err = json.MarshalIndent(doc, "", "  ")
		}
	})
	return d.json, d.err
}

// serveOpenAPI answers GET /api/v1/openapi.json: the API's OpenAPI 3.1 document. It holds no data, so it needs
// no token and may be cached.
func (s *Server) serveOpenAPI(c echo.Context) error {
	doc, err := s.openAPI.get()
	if err != nil {
		return fmt.Errorf("building the OpenAPI document: %w", err)
	}
	c.Response().Header().Set("Cache-Control", "public, max-age=3600")
	return c.JSONBlob(http.StatusOK, doc)
}

// bearerScheme is the name of the bearer-token security scheme.
const bearerScheme = "bearerAuth"

// roleNames names the roles in the document.
var roleNames = map[role]string{roleViewer: RoleViewer, roleDeveloper: RoleDeveloper, roleAdmin: RoleAdmin}

// buildOpenAPI is the OpenAPI 3.1 document of routes, with their schemas reflected from the api package and
// described by openAPIComments.
func buildOpenAPI(routes []apiRoute) (*openAPIDoc, error) {
	var comments map[string]string
	if err := json.Unmarshal(openAPIComments, &comments); err != nil {
		return nil, fmt.Errorf("reading the schema descriptions: %w", err)
	}
	return buildOpenAPIWith(routes, newSchemaSet(comments))
}

// buildOpenAPIWith is buildOpenAPI with the schemas reflected into schemas, which must be empty.
func buildOpenAPIWith(routes []apiRoute, schemas *schemaSet) (*openAPIDoc, error) {
	errSchema, err := schemas.response(errorBodyType)
	if err != nil {
		return nil, err
	}
	doc := &openAPIDoc{
		OpenAPI: "3.1.0",
		Info: openAPIInfo{Title: "slipway API", Version: "v1", Description: "slipway's REST API: projects, " +
			"components, environments, configs, builds and deployments. Every /api/v1 route but this document " +
			"needs a bearer token (Authorization: Bearer slw_…) whose role is at least the operation's " +
			"x-slipway-role (viewer < developer < admin); a console session cookie (with its X-CSRF-Token on " +
			"writes) is accepted too. Errors are {\"error\": {\"code\", \"message\", \"field\"?}}."},
		JSONSchemaDialect: "https://json-schema.org/draft/2020-12/schema",
		Paths:             map[string]*pathItem{},
		Components: openAPIComponents{SecuritySchemes: map[string]securityScheme{bearerScheme: {
			Type: "http", Scheme: "bearer", Description: "an API token, slw_ and 43 base64url characters",
			BearerFormat: "slw_…"}}},
	}
	ids := map[string]bool{}
	tags := map[string]bool{}
	for _, rt := range routes {
		if ids[rt.id] {
			return nil, fmt.Errorf("operation ID %s is used twice", rt.id)
		}
		ids[rt.id] = true
		op, err := rt.operation(schemas, errSchema)
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", rt.method, rt.path, err)
		}
		item := doc.Paths[rt.path]
		if item == nil {
			item = &pathItem{}
			doc.Paths[rt.path] = item
		}
		m := strings.ToLower(rt.method)
		if (*item)[m] != nil {
			return nil, fmt.Errorf("%s %s is in the route table twice", rt.method, rt.path)
		}
		(*item)[m] = op
		tags[rt.tag] = true
	}
	for _, name := range slices.Sorted(maps.Keys(tags)) {
		doc.Tags = append(doc.Tags, openAPITag{Name: name})
	}
	doc.Components.Schemas = schemas.defs
	return doc, nil
}

// pathParamRE finds the parameters of an OpenAPI path template.
var pathParamRE = regexp.MustCompile(`\{([^}]+)\}`)

// operation is rt as an OpenAPI operation: its path parameters, then its own; its request body; its responses,
// with the answers every route of its kind can give (401 and 403 behind a token, 400, 413 and 422 for a JSON
// body, 500 for all).
func (rt apiRoute) operation(schemas *schemaSet, errSchema *jsonschema.Schema) (*operation, error) {
	op := &operation{OperationID: rt.id, Summary: rt.summary, Description: rt.description, Tags: []string{rt.tag},
		Responses: map[string]*response{}}
	for _, m := range pathParamRE.FindAllStringSubmatch(rt.path, -1) {
		desc, ok := pathParamDescriptions[m[1]]
		if !ok {
			return nil, fmt.Errorf("path parameter %s has no description", m[1])
		}
		op.Parameters = append(op.Parameters, parameter{Name: m[1], In: "path", Required: true, Description: desc,
			Schema: &jsonschema.Schema{Type: "string"}})
	}
	for _, p := range rt.params {
		op.Parameters = append(op.Parameters, parameter{Name: p.name, In: p.in, Description: p.desc,
			Required: p.required, Schema: p.schema()})
	}
	if rt.role != 0 {
		op.Role = roleNames[rt.role]
		op.Security = []map[string][]string{{bearerScheme: {}}}
		op.Description = strings.TrimSpace(op.Description + "\n\nNeeds a token of role " + op.Role + " or above.")
	}
	if rt.body != nil {
		sc, err := schemas.request(rt.body)
		if err != nil {
			return nil, err
		}
		op.RequestBody = &requestBody{Required: !rt.bodyOptional, Description: rt.bodyDesc,
			Content: map[string]mediaType{echo.MIMEApplicationJSON: {Schema: sc}}}
	} else if rt.rawBody != nil {
		op.RequestBody = &requestBody{Required: true, Description: rt.bodyDesc,
			Content: map[string]mediaType{echo.MIMEApplicationJSON: {Schema: rt.rawBody}}}
	}
	answers := slices.Clone(rt.responses)
	if rt.role != 0 {
		answers = append(answers, fail(http.StatusUnauthorized, "no bearer token, or one that is not valid"),
			fail(http.StatusForbidden, "the token's role is below "+roleNames[rt.role]))
	}
	if rt.body != nil {
		answers = append(answers,
			fail(http.StatusBadRequest, "the body is not the JSON object expected: malformed, an unknown or repeated field"),
			fail(http.StatusRequestEntityTooLarge, "the body is larger than 1 MiB"),
			fail(http.StatusUnprocessableEntity, "a field has the wrong type or a value that is not allowed"))
	}
	answers = append(answers, fail(http.StatusInternalServerError, "an internal error; the message names its error ID"))
	for _, a := range answers {
		code := strconv.Itoa(a.status)
		r := op.Responses[code]
		if r == nil {
			r = &response{Description: a.desc}
			op.Responses[code] = r
		} else if a.desc != "" && !strings.Contains(r.Description, a.desc) {
			r.Description += "; " + a.desc
		}
		if r.Description == "" {
			r.Description = http.StatusText(a.status)
		}
		content, err := a.content(schemas, errSchema)
		if err != nil {
			return nil, err
		}
		for ct, mt := range content {
			if r.Content == nil {
				r.Content = map[string]mediaType{}
			}
			r.Content[ct] = mt
		}
	}
	return op, nil
}

// content is the response body a can have, by media type.
func (a answer) content(schemas *schemaSet, errSchema *jsonschema.Schema) (map[string]mediaType, error) {
	switch {
	case a.status >= 400 && a.body == nil && a.media == "":
		return map[string]mediaType{echo.MIMEApplicationJSON: {Schema: errSchema}}, nil
	case a.body != nil:
		bodies, several := a.body.(anyOf)
		if !several {
			bodies = anyOf{a.body}
		}
		union := &jsonschema.Schema{}
		for _, b := range bodies {
			sc, err := schemas.response(b)
			if err != nil {
				return nil, err
			}
			union.AnyOf = append(union.AnyOf, sc)
		}
		if !several {
			union = union.AnyOf[0]
		}
		out := map[string]mediaType{echo.MIMEApplicationJSON: {Schema: union}}
		if a.media != "" { // the same answer in another form too (JSON lines, say)
			out[a.media] = mediaType{Schema: &jsonschema.Schema{Type: "string"}}
		}
		return out, nil
	case a.media != "":
		sc := a.schema
		if sc == nil {
			sc = &jsonschema.Schema{Type: "string"}
		}
		return map[string]mediaType{a.media: {Schema: sc}}, nil
	}
	return nil, nil
}
