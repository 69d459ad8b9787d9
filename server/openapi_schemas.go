package server

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"

	"github.com/invopop/jsonschema"
)

// schemaRefPrefix is where the document keeps its named schemas; invopop/jsonschema refers to them under $defs.
const (
	schemaRefPrefix  = "#/components/schemas/"
	reflectRefPrefix = "#/$defs/"
)

// schemaSet reflects the api package's Go types into the named JSON Schemas (2020-12, OpenAPI 3.1's dialect) of
// the document's components. Responses and requests are reflected apart: in a response every field without
// omitempty is required and a pointer without omitempty may be null, as encoding/json writes them; in a request
// no field is required (the handlers answer 422 for a missing one) and every pointer may be null (absent and
// null both mean "not given", or in a merge patch "reset"). Build it with newSchemaSet; the zero schemaSet is not
// usable.
type schemaSet struct {
	// defs are the named schemas, by name.
	defs map[string]*jsonschema.Schema
	// types are the Go types of the named struct schemas, by name: the same name must not stand for two types.
	types map[string]reflect.Type
	// comments are the Go doc comments of the types and fields, keyed as invopop's CommentMap but for a generic
	// type's arguments ("…/api.Page.Items"); used records the keys looked up.
	comments map[string]string
	used     map[string]bool
}

// newSchemaSet is an empty schemaSet describing its schemas with comments (nil: no descriptions).
func newSchemaSet(comments map[string]string) *schemaSet {
	s := &schemaSet{defs: map[string]*jsonschema.Schema{}, types: map[string]reflect.Type{}, comments: comments,
		used: map[string]bool{}}
	return s
}

// schemaName is the component name of a named Go type: its own name for the api package's types (Page[api.Build]
// is PageBuild), the package's name before it for others (scan.Report is ScanReport), so that api.Endpoint and
// descriptor.Endpoint do not clash.
func schemaName(t reflect.Type) string {
	name := t.Name()
	if base, args, ok := strings.Cut(name, "["); ok {
		// Page[github.com/slipway-dev/slipway/api.Build] → PageBuild
		args = strings.TrimSuffix(args, "]")
		var b strings.Builder
		b.WriteString(base)
		for arg := range strings.SplitSeq(args, ",") {
			b.WriteString(arg[strings.LastIndex(arg, ".")+1:])
		}
		name = b.String()
	}
	if name == "" || t.PkgPath() == "" || t.PkgPath() == "github.com/slipway-dev/slipway/api" {
		return name
	}
	pkg := t.PkgPath()[strings.LastIndex(t.PkgPath(), "/")+1:]
	return strings.ToUpper(pkg[:1]) + pkg[1:] + name
}

// request reflects v's type as a request body and returns the reference to its schema.
func (s *schemaSet) request(v any) (*jsonschema.Schema, error) {
	return s.reflect(v, true)
}

// response reflects v's type as a response body and returns the reference to its schema.
func (s *schemaSet) response(v any) (*jsonschema.Schema, error) {
	return s.reflect(v, false)
}

// reflect adds the schemas of v's type and the named types it uses to s and returns the reference to the schema
// of v's type. A name reflected before must come out the same, or the document would say two things of it.
func (s *schemaSet) reflect(v any, request bool) (*jsonschema.Schema, error) {
	t := reflect.TypeOf(v)
	named := map[string]reflect.Type{}
	r := &jsonschema.Reflector{
		// Only a jsonschema:"required" tag, which no api type has, makes a request field required.
		RequiredFromJSONSchemaTags: request,
		Anonymous:                  true,
		LookupComment:              s.comment,
		Namer: func(t reflect.Type) string {
			name := schemaName(t)
			if t.Kind() == reflect.Struct && name != "" {
				named[name] = t
			}
			return name
		},
	}
	root := r.ReflectFromType(t)
	for name, def := range root.Definitions {
		rt := named[name]
		if rt != nil {
			if err := s.nullables(name, def, rt, request); err != nil {
				return nil, err
			}
		}
		rewriteRefs(def)
		if prev, ok := s.defs[name]; ok {
			if err := sameSchema(name, prev, def); err != nil {
				return nil, err
			}
			continue
		}
		if prevType, ok := s.types[name]; ok && prevType != rt {
			return nil, fmt.Errorf("schema %s names both %v and %v", name, prevType, rt)
		}
		s.defs[name], s.types[name] = def, rt
	}
	name := schemaName(t)
	if _, ok := s.defs[name]; !ok {
		return nil, fmt.Errorf("reflecting %v: no schema named %s", t, name)
	}
	return &jsonschema.Schema{Ref: schemaRefPrefix + name}, nil
}

// comment is the doc comment of type t, or of its field when field is not "".
func (s *schemaSet) comment(t reflect.Type, field string) string {
	name, _, _ := strings.Cut(t.Name(), "[")
	key := t.PkgPath() + "." + name
	if field != "" {
		key += "." + field
	}
	s.used[key] = true
	return s.comments[key]
}

// sameSchema fails unless a and b, two reflections of the schema called name, say the same.
func sameSchema(name string, a, b *jsonschema.Schema) error {
	ja, err := json.Marshal(a)
	if err != nil {
		return fmt.Errorf("encoding schema %s: %w", name, err)
	}
	jb, err := json.Marshal(b)
	if err != nil {
		return fmt.Errorf("encoding schema %s: %w", name, err)
	}
	if string(ja) != string(jb) {
		return fmt.Errorf("schema %s differs between a request and a response (%s, %s): give the request its own type", name, ja, jb)
	}
	return nil
}

// nullables lets the properties of def, the schema of struct type t, be null where encoding/json may write or
// read null: in a request every pointer, slice and map; in a response a pointer without omitempty. A response's
// slices and maps are never null: the handlers send [] and {} (nonNil), and the tests hold them to it.
func (s *schemaSet) nullables(name string, def *jsonschema.Schema, t reflect.Type, request bool) error {
	fields := map[string]reflect.StructField{}
	jsonStructFields(t, fields)
	for pair := def.Properties.Oldest(); pair != nil; pair = pair.Next() {
		f, ok := fields[pair.Key]
		if !ok {
			return fmt.Errorf("schema %s has property %s, which encoding/json does not write for %v", name, pair.Key, t)
		}
		_, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		omitted := strings.Contains(","+opts+",", ",omitempty,")
		var null bool
		switch k := f.Type.Kind(); {
		case request:
			null = k == reflect.Pointer || k == reflect.Slice || k == reflect.Map
		case k == reflect.Pointer:
			null = !omitted
		}
		if null {
			pair.Value = orNull(pair.Value)
		}
	}
	return nil
}

// orNull is p, or null; a description stays on the outside.
func orNull(p *jsonschema.Schema) *jsonschema.Schema {
	inner := *p
	inner.Description = ""
	return &jsonschema.Schema{Description: p.Description, AnyOf: []*jsonschema.Schema{&inner, {Type: "null"}}}
}

// rewriteRefs points every reference in sc from $defs to the document's components.
func rewriteRefs(sc *jsonschema.Schema) {
	if sc == nil {
		return
	}
	if rest, ok := strings.CutPrefix(sc.Ref, reflectRefPrefix); ok {
		sc.Ref = schemaRefPrefix + rest
	}
	if sc.Properties != nil {
		for pair := sc.Properties.Oldest(); pair != nil; pair = pair.Next() {
			rewriteRefs(pair.Value)
		}
	}
	for _, sub := range sc.PatternProperties {
		rewriteRefs(sub)
	}
	for _, list := range [][]*jsonschema.Schema{sc.AllOf, sc.AnyOf, sc.OneOf, sc.PrefixItems} {
		for _, sub := range list {
			rewriteRefs(sub)
		}
	}
	rewriteRefs(sc.Items)
	rewriteRefs(sc.AdditionalProperties)
	rewriteRefs(sc.Not)
}
