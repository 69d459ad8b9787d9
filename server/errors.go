package server

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/slipway-dev/slipway/store"
)

// causeKey is the echo.Context key under which handleError leaves the real error behind a 500 for observe to log.
const causeKey = "slipway.cause"

// APIError is an error the API answers with: the HTTP status and the body
// {"error":{"code":…,"message":…,"field":…}}. Code is a stable snake_case string; Message is a human sentence
// naming the problem; Field is the JSON field or path parameter at fault, "" when none is.
type APIError struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

// Error returns the message, prefixed with the field when there is one.
func (e *APIError) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s: %s", e.Field, e.Message)
	}
	return e.Message
}

// errorBody is the JSON envelope of every error response.
type errorBody struct {
	Error *APIError `json:"error"`
}

// invalid is a 422 naming the field at fault.
func invalid(field, format string, args ...any) *APIError {
	return &APIError{Status: http.StatusUnprocessableEntity, Code: "invalid", Message: fmt.Sprintf(format, args...), Field: field}
}

// withField turns a store error the handler can attribute to one field into an APIError naming it;
// other errors are returned unchanged for handleError to classify.
func withField(err error, field string) error {
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		return err
	}
	for _, sentinel := range []error{store.ErrExists, store.ErrInvalid} {
		if errors.Is(err, sentinel) {
			e := classify(err)
			e.Field = field
			return e
		}
	}
	return err
}

// handleError is the central echo.HTTPErrorHandler: it writes the JSON error shape and, for a 500, hides the
// real error from the client and leaves it in the context for the request log line.
func (s *Server) handleError(err error, c echo.Context) {
	apiErr := classify(err)
	req := c.Request()
	switch {
	case errors.Is(err, echo.ErrNotFound):
		apiErr.Message = fmt.Sprintf("no route for %s %s", req.Method, req.URL.Path)
	case errors.Is(err, echo.ErrMethodNotAllowed):
		apiErr.Message = fmt.Sprintf("method %s is not allowed on %s (allowed: %s)",
			req.Method, req.URL.Path, c.Response().Header().Get(echo.HeaderAllow))
	}
	if apiErr.Status >= http.StatusInternalServerError {
		c.Set(causeKey, err)
	}
	if c.Response().Committed {
		return
	}
	if req.Method == http.MethodHead {
		err = c.NoContent(apiErr.Status)
	} else {
		err = c.JSON(apiErr.Status, errorBody{Error: apiErr})
	}
	if err != nil {
		c.Set(causeKey, fmt.Errorf("writing error response: %w", err))
	}
}

// classify maps any error to the APIError the client sees.
func classify(err error) *APIError {
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		return apiErr
	}
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return errBodyTooLarge(tooLarge.Limit)
	}
	switch {
	case errors.Is(err, store.ErrNotFound):
		return &APIError{Status: http.StatusNotFound, Code: "not_found", Message: err.Error()}
	case errors.Is(err, store.ErrExists):
		return &APIError{Status: http.StatusConflict, Code: "already_exists", Message: err.Error()}
	case errors.Is(err, store.ErrInvalid):
		return &APIError{Status: http.StatusUnprocessableEntity, Code: "invalid", Message: err.Error()}
	}
	var he *echo.HTTPError
	if errors.As(err, &he) && he.Code < http.StatusInternalServerError {
		msg, ok := he.Message.(string)
		if !ok || msg == "" {
			msg = http.StatusText(he.Code)
		}
		return &APIError{Status: he.Code, Code: codeForStatus(he.Code), Message: msg}
	}
	return &APIError{Status: http.StatusInternalServerError, Code: "internal", Message: "internal server error; the details are in the server log"}
}

// codeForStatus names the stable code of an HTTP status raised by Echo itself (routing, methods).
func codeForStatus(status int) string {
	switch status {
	case http.StatusBadRequest:
		return "bad_request"
	case http.StatusUnauthorized:
		return "unauthorized"
	case http.StatusForbidden:
		return "forbidden"
	case http.StatusNotFound:
		return "not_found"
	case http.StatusMethodNotAllowed:
		return "method_not_allowed"
	case http.StatusConflict:
		return "already_exists"
	case http.StatusRequestEntityTooLarge:
		return "body_too_large"
	case http.StatusUnsupportedMediaType:
		return "unsupported_media_type"
	case http.StatusUnprocessableEntity:
		return "invalid"
	case http.StatusTooManyRequests:
		return "too_many_requests"
	default:
		return "bad_request"
	}
}
