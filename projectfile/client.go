package projectfile

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
)

// Client calls slipway's REST API: it sends body (nil: none) as JSON to method path (starting "/api/v1/")
// and decodes a 2xx answer into out (nil: dropped). An error answer is returned as an error that
// errors.As finds an interface{ HTTPStatus() int } in (so 404 can be told apart). When that error also has a
// method APIField() string, the API's "field" it returns lets Apply name the file's line for the field at fault.
type Client interface {
	Do(ctx context.Context, method, path string, body, out any) error
}

// statusOf is the HTTP status of an API error answer; 0 when err is not one.
func statusOf(err error) int {
	var e interface{ HTTPStatus() int }
	if errors.As(err, &e) {
		return e.HTTPStatus()
	}
	return 0
}

// fieldOf is the field an API error answer names; "" when it names none or err is not one.
func fieldOf(err error) string {
	var e interface{ APIField() string }
	if errors.As(err, &e) {
		return e.APIField()
	}
	return ""
}

// isNotFound says err is the API's 404.
func isNotFound(err error) bool { return statusOf(err) == http.StatusNotFound }

// apiPath is "/api/v1/" followed by the path segments, each escaped.
func apiPath(segments ...string) string {
	var b strings.Builder
	b.WriteString("/api/v1")
	for _, s := range segments {
		b.WriteString("/")
		b.WriteString(url.PathEscape(s))
	}
	return b.String()
}
