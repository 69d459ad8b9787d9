package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"
)

// maxBodyBytes is the largest request body accepted (1 MiB), but for webhook deliveries, which may be as
// large as GitHub sends (25 MB), and Temporal codec requests (maxCodecBytes).
const (
	maxBodyBytes    = 1 << 20
	maxWebhookBytes = 25 << 20
)

// bodyLimit is the largest body accepted on path.
func bodyLimit(path string) int64 {
	if strings.HasPrefix(path, "/webhooks/") {
		return maxWebhookBytes
	}
	if strings.HasPrefix(path, codecAPIPath+"/") {
		return maxCodecBytes
	}
	return maxBodyBytes
}

// unknownFieldRE finds the field name in encoding/json's "unknown field" error.
var unknownFieldRE = regexp.MustCompile(`unknown field "([^"]*)"`)

// errBodyTooLarge is the 413 for a body over limit bytes.
func errBodyTooLarge(limit int64) *APIError {
	return &APIError{
		Status:  http.StatusRequestEntityTooLarge,
		Code:    "body_too_large",
		Message: fmt.Sprintf("request body is larger than %d bytes", limit),
	}
}

// malformed is a 400 for a body that is not the JSON object expected.
func malformed(format string, args ...any) *APIError {
	return &APIError{Status: http.StatusBadRequest, Code: "malformed_json", Message: fmt.Sprintf(format, args...)}
}

// limitBody refuses bodies over bodyLimit: at once when Content-Length says so, otherwise while reading.
func limitBody(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		limit := bodyLimit(req.URL.Path)
		if req.ContentLength > limit {
			return errBodyTooLarge(limit)
		}
		req.Body = http.MaxBytesReader(c.Response().Writer, req.Body, limit)
		return next(c)
	}
}

// readBody reads the whole (size-limited) request body.
func readBody(c echo.Context) ([]byte, error) {
	data, err := io.ReadAll(c.Request().Body)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, errBodyTooLarge(tooLarge.Limit)
		}
		return nil, fmt.Errorf("reading request body: %w", err)
	}
	return data, nil
}

// bind reads the request body and decodes it strictly into v.
func bind(c echo.Context, v any) error {
	data, err := readBody(c)
	if err != nil {
		return err
	}
	return decodeStrict(data, v)
}

// decodeStrict decodes one JSON object into v, refusing unknown fields, wrong types and trailing data, and — which
// encoding/json accepts — a key given twice in one object (it keeps the last) or a field name in another case than
// its own (it matches names case-insensitively): see checkKeys. v is not to be used when it fails.
func decodeStrict(data []byte, v any) error {
	if len(bytes.TrimSpace(data)) == 0 {
		return malformed("request body is empty; expected a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeError(err)
	}
	if err := dec.Decode(&json.RawMessage{}); !errors.Is(err, io.EOF) {
		return malformed("request body has data after the JSON object")
	}
	return checkKeys(data, reflect.TypeOf(v))
}

// checkKeys reads data, one valid JSON value that decoded into a value of type t, token by token and refuses
// (400, naming the field by its path, e.g. "kubernetes.namespace") the first key repeated in an object, and the
// first key that is not a field name of the struct it fills but differs from one only in case. Inside values
// whose type decodes itself (json.Unmarshaler) or is not known (any) only repeated keys are looked for.
func checkKeys(data []byte, t reflect.Type) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	return walkKeys(dec, t, "")
}

// unmarshalerType is json.Unmarshaler's type: a value of a type that implements it decodes itself.
var unmarshalerType = reflect.TypeFor[json.Unmarshaler]()

// walkKeys reads the next JSON value from dec, to be decoded into a t (nil: unknown), at path.
func walkKeys(dec *json.Decoder, t reflect.Type, path string) error {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t != nil && (t.Kind() == reflect.Interface || reflect.PointerTo(t).Implements(unmarshalerType)) {
		t = nil
	}
	tok, err := dec.Token()
	if err != nil {
		return malformed("request body is not valid JSON: %v", err)
	}
	switch tok {
	case json.Delim('{'):
		return walkObject(dec, t, path)
	case json.Delim('['):
		var elem reflect.Type
		if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
			elem = t.Elem()
		}
		for i := 0; dec.More(); i++ {
			if err := walkKeys(dec, elem, fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
		_, err := dec.Token() // ']'
		return err
	}
	return nil
}

// walkObject reads the members of an object whose '{' was just read, to be decoded into a t (nil: unknown), and
// its closing '}'.
func walkObject(dec *json.Decoder, t reflect.Type, path string) error {
	var fields map[string]reflect.StructField
	var elem reflect.Type
	switch {
	case t == nil:
	case t.Kind() == reflect.Struct:
		fields = map[string]reflect.StructField{}
		jsonStructFields(t, fields)
	case t.Kind() == reflect.Map:
		elem = t.Elem()
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return malformed("request body is not valid JSON: %v", err)
		}
		key, _ := tok.(string)
		at := key
		if path != "" {
			at = path + "." + key
		}
		if seen[key] {
			return &APIError{Status: http.StatusBadRequest, Code: "duplicate_field", Field: at,
				Message: fmt.Sprintf("request body has field %q more than once", at)}
		}
		seen[key] = true
		vt := elem
		if fields != nil {
			f, ok := fields[key]
			if !ok {
				for _, name := range slices.Sorted(maps.Keys(fields)) {
					if strings.EqualFold(name, key) {
						return &APIError{Status: http.StatusBadRequest, Code: "unknown_field", Field: at,
							Message: fmt.Sprintf("request body has unknown field %q: field names are case-sensitive, did you mean %q?", at, name)}
					}
				}
			}
			vt = f.Type
		}
		if err := walkKeys(dec, vt, at); err != nil {
			return err
		}
	}
	_, err := dec.Token() // '}'
	return err
}

// jsonStructFields adds the fields encoding/json writes for struct type t to fields, by JSON name: the json tag's
// name or else the Go name, "-" and unexported fields left out, the fields of an untagged embedded struct as t's
// own unless t has one of that name.
func jsonStructFields(t reflect.Type, fields map[string]reflect.StructField) {
	var embedded []reflect.Type
	for f := range t.Fields() {
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				embedded = append(embedded, ft)
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		fields[name] = f
	}
	for _, et := range embedded {
		inner := map[string]reflect.StructField{}
		jsonStructFields(et, inner)
		for name, f := range inner {
			if _, ok := fields[name]; !ok {
				fields[name] = f
			}
		}
	}
}

// decodeError explains a json.Decoder error to the client, naming the field when there is one.
func decodeError(err error) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return malformed("request body is not valid JSON: %s (at byte %d)", syntax.Error(), syntax.Offset)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return malformed("request body is truncated JSON")
	case errors.As(err, &typ):
		if typ.Field == "" {
			return malformed("request body must be a JSON object, not %s", typ.Value)
		}
		return invalid(typ.Field, "field %q must be %s, not %s", typ.Field, jsonKind(typ.Type), typ.Value)
	}
	if m := unknownFieldRE.FindStringSubmatch(err.Error()); m != nil {
		return &APIError{
			Status:  http.StatusBadRequest,
			Code:    "unknown_field",
			Message: fmt.Sprintf("request body has unknown field %q", m[1]),
			Field:   m[1],
		}
	}
	return malformed("request body is not the JSON object expected: %s", err.Error())
}

// jsonKind names the JSON type a Go type decodes from.
func jsonKind(t reflect.Type) string {
	if t == nil {
		return "a different type"
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Bool:
		return "a boolean"
	case reflect.String:
		return "a string"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	default:
		return "an object"
	}
}
