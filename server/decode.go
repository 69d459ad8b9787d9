package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"regexp"
	"strings"

	"github.com/labstack/echo/v4"
)

// maxBodyBytes is the largest request body accepted (1 MiB), but for webhook deliveries, which may be as
// large as GitHub sends (25 MB).
const (
	maxBodyBytes    = 1 << 20
	maxWebhookBytes = 25 << 20
)

// bodyLimit is the largest body accepted on path.
func bodyLimit(path string) int64 {
	if strings.HasPrefix(path, "/webhooks/") {
		return maxWebhookBytes
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

// decodeStrict decodes one JSON object into v, refusing unknown fields, wrong types and trailing data.
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
	return nil
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
