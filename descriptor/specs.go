package descriptor

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/getkin/kin-openapi/openapi2"
	"github.com/getkin/kin-openapi/openapi2conv"
	"github.com/getkin/kin-openapi/openapi3"
	"gopkg.in/yaml.v3"
)

// MaxSpecSize is the largest API spec file Specs reads, in bytes.
const MaxSpecSize = 5 << 20

// Spec formats.
const (
	OpenAPI3      = "openapi3"
	Swagger2      = "swagger2"
	GraphQLSchema = "graphql"
	Proto         = "proto"
)

// Spec is the API spec of one endpoint, read from the repository.
type Spec struct {
	// Endpoint is the name of the endpoint the spec belongs to.
	Endpoint string `json:"endpoint"`
	// Path is the spec's file, relative to the repository root, as the descriptor names it.
	Path string `json:"path"`
	// Format is OpenAPI3, Swagger2, GraphQLSchema or Proto.
	Format string `json:"format"`
	// JSON is an OpenAPI 3 or Swagger 2 document, validated, as JSON. Nil for the other formats.
	JSON json.RawMessage `json:"json,omitempty"`
	// Raw is a GraphQL schema or a .proto file as it is in the repository, not validated. Nil for
	// OpenAPI 3 and Swagger 2.
	Raw []byte `json:"raw,omitempty"`
}

// Specs reads the spec file of each endpoint of d that names one, from the repository checked out at
// root, in the order of the endpoints. A REST endpoint's spec must be a valid OpenAPI 3 or Swagger 2
// document, in YAML or JSON, whose $refs stay inside the document; a GraphQL or gRPC endpoint's must not be
// empty; other endpoint types cannot have one.
//
// A spec that is missing, not a regular file, larger than MaxSpecSize, reached through a path or a
// symbolic link that leads out of root, or invalid is an *Error matching ErrInvalid, naming the
// descriptor's field or the spec file; Specs reports every such spec, joined, and returns other errors
// (failures to read) at once.
func Specs(root string, d Descriptor) ([]Spec, error) {
	var specs []Spec
	var problems []error
	for i, e := range d.Endpoints {
		if e.SchemaFilePath == "" {
			continue
		}
		spec, err := readSpec(root, fmt.Sprintf("endpoints[%d].schemaFilePath", i), e)
		switch {
		case errors.Is(err, ErrInvalid):
			problems = append(problems, err)
		case err != nil:
			return nil, err
		default:
			specs = append(specs, spec)
		}
	}
	if len(problems) > 0 {
		return nil, errors.Join(problems...)
	}
	return specs, nil
}

// readSpec reads and checks the spec of endpoint e, whose schemaFilePath is field.
func readSpec(root, field string, e Endpoint) (Spec, error) {
	spec := Spec{Endpoint: e.Name, Path: e.SchemaFilePath}
	switch e.Type {
	case REST:
	case GraphQL:
		spec.Format = GraphQLSchema
	case GRPC:
		spec.Format = Proto
	default:
		return Spec{}, invalid(Path, 0, field, fmt.Sprintf("a %s endpoint has no schema file; only REST, GraphQL and gRPC endpoints have one", e.Type))
	}
	data, err := readFile(root, e.SchemaFilePath, MaxSpecSize)
	if err != nil {
		return Spec{}, fileError(Path, field, e.SchemaFilePath, err)
	}
	if spec.Format != "" {
		if len(bytes.TrimSpace(data)) == 0 {
			return Spec{}, invalid(e.SchemaFilePath, 0, "", "is empty")
		}
		spec.Raw = data
		return spec, nil
	}
	spec.Format, spec.JSON, err = openAPI(data)
	if err != nil {
		return Spec{}, invalid(e.SchemaFilePath, 0, "", err.Error())
	}
	return spec, nil
}

// openAPI validates data as an OpenAPI 3 or Swagger 2 document refusing external $refs, and returns its
// format and the document as JSON.
func openAPI(data []byte) (format string, doc []byte, err error) {
	openapi, swagger, err := versions(data)
	if err != nil {
		return "", nil, err
	}
	// kin-openapi reads no files and makes no requests unless external $refs are allowed: validating is
	// CPU work only, which nothing here cancels.
	ctx := context.Background()
	loader := &openapi3.Loader{Context: ctx, IsExternalRefsAllowed: false}
	switch {
	case strings.HasPrefix(openapi, "3.") && swagger == "":
		doc3, err := loader.LoadFromData(data)
		if err != nil {
			return "", nil, err
		}
		if err := doc3.Validate(ctx); err != nil {
			return "", nil, err
		}
		doc, err = doc3.MarshalJSON()
		if err != nil {
			return "", nil, fmt.Errorf("cannot be written as JSON: %w", err)
		}
		return OpenAPI3, doc, nil
	case swagger == "2.0" && openapi == "":
		var doc2 openapi2.T
		if err := openapi2.UnmarshalFromData(data, &doc2); err != nil {
			return "", nil, err
		}
		doc3, err := openapi2conv.ToV3WithLoader(&doc2, loader, nil)
		if err != nil {
			return "", nil, err
		}
		if doc3.Paths == nil && doc2.Paths != nil {
			// ToV3 leaves out an empty paths object, which both versions require.
			doc3.Paths = openapi3.NewPaths()
		}
		if err := doc3.Validate(ctx); err != nil {
			return "", nil, err
		}
		doc, err = json.Marshal(&doc2)
		if err != nil {
			return "", nil, fmt.Errorf("cannot be written as JSON: %w", err)
		}
		return Swagger2, doc, nil
	}
	return "", nil, fmt.Errorf(`is neither an OpenAPI 3 document (openapi: 3.x) nor a Swagger 2 document (swagger: "2.0"): openapi is %q, swagger is %q`, short(openapi), short(swagger))
}

// versions returns the top-level openapi and swagger fields of a YAML or JSON document, as written.
func versions(data []byte) (openapi, swagger string, err error) {
	var y struct {
		OpenAPI yaml.Node `yaml:"openapi"`
		Swagger yaml.Node `yaml:"swagger"`
	}
	yerr := yaml.Unmarshal(data, &y)
	if yerr == nil {
		return y.OpenAPI.Value, y.Swagger.Value, nil
	}
	// Not every JSON document is YAML: a tab may indent JSON, never YAML.
	var j struct {
		OpenAPI json.RawMessage `json:"openapi"`
		Swagger json.RawMessage `json:"swagger"`
	}
	if err := json.Unmarshal(data, &j); err != nil {
		return "", "", fmt.Errorf("is neither YAML nor JSON: %w", yerr)
	}
	return jsonText(j.OpenAPI), jsonText(j.Swagger), nil
}

// jsonText returns the JSON string in raw, or raw itself when it is another value.
func jsonText(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return string(raw)
}
