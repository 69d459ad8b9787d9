package server

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/slipway-dev/slipway/api"
	"github.com/slipway-dev/slipway/delivery"
	"github.com/slipway-dev/slipway/store"
)

// causeKey is the echo.Context key under which handleError leaves the real error behind a 500 for observe to log.
const causeKey = "slipway.cause"

// APIError is an error the API answers with: the HTTP status and the body
// {"error":{"code":…,"message":…,"field":…}}, an api.ErrorBody (see body; the JSON tags here are api.Error's).
// Code is a stable snake_case string; Message is a human sentence naming the problem; Field is the JSON field or
// path parameter at fault, "" when none is.
type APIError struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

// body is e as the API answers it, inside api.ErrorBody.
func (e *APIError) body() api.Error {
	return api.Error{Code: e.Code, Message: e.Message, Field: e.Field}
}

// Error returns the message, prefixed with the field when there is one.
func (e *APIError) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s: %s", e.Field, e.Message)
	}
	return e.Message
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

// handleError is the central echo.HTTPErrorHandler: it writes the JSON error shape. A 5xx gets a fresh error ID
// ("e-" and 12 hex digits), named in its message and logged with the real error on the request's log line (the
// context's causeKey); what the client reads of it is what serverError leaves.
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
		id := newErrorID()
		c.Set(causeKey, fmt.Errorf("error ID %s: %w", id, err))
		apiErr = serverError(apiErr, id, s.isAdmin(c))
	}
	if c.Response().Committed {
		return
	}
	if page, _ := c.Get(pageKey).(bool); page && req.Method == http.MethodGet {
		err = s.renderPageError(c, apiErr)
	} else if req.Method == http.MethodHead {
		err = c.NoContent(apiErr.Status)
	} else {
		err = c.JSON(apiErr.Status, api.ErrorBody{Error: apiErr.body()})
	}
	if err != nil {
		c.Set(causeKey, fmt.Errorf("writing error response: %w", err))
	}
}

// internalMessage is the whole message of a 500 whose cause is not an APIError: the cause is never shown, to
// anyone; the error ID finds it in the server log.
const internalMessage = "internal server error (error ID %s): the details are in the server log under that ID"

// serverError is what a client reads of a 5xx with error ID id. An internal error (code "internal") says only
// that, and the ID. An APIError a handler wrote (e.g. 503 temporal_unavailable) keeps its message for an admin;
// for anyone else the message is cut before the first detail of the host it names (a host path or socket, an
// address, a network error — see hostDetail), which only the log keeps. Both name the ID.
func serverError(e *APIError, id string, admin bool) *APIError {
	out := *e
	switch {
	case out.Code == "internal":
		out.Message = fmt.Sprintf(internalMessage, id)
	case admin:
		out.Message = fmt.Sprintf("%s (error ID %s)", out.Message, id)
	default:
		out.Message = fmt.Sprintf("%s (error ID %s)", delivery.WithoutHostDetail(out.Message), id)
	}
	return &out
}

// newErrorID returns a fresh error ID, "e-" and 12 hex digits.
func newErrorID() string {
	b := make([]byte, 6)
	rand.Read(b)
	return "e-" + hex.EncodeToString(b)
}

// classify maps any error to the APIError the client sees.
func classify(err error) *APIError {
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		return apiErr
	}
	var refused *delivery.Error
	if errors.As(err, &refused) {
		return &APIError{Status: statusOf(refused.Kind), Code: refused.Code, Field: refused.Field, Message: refused.Message}
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
	return &APIError{Status: http.StatusInternalServerError, Code: "internal", Message: "internal server error"}
}

// statusOf is the HTTP status of a use case's refusal of this kind.
func statusOf(k delivery.Kind) int {
	switch k {
	case delivery.Invalid:
		return http.StatusUnprocessableEntity
	case delivery.NotFound:
		return http.StatusNotFound
	case delivery.Conflict:
		return http.StatusConflict
	case delivery.Forbidden:
		return http.StatusForbidden
	case delivery.Unavailable:
		return http.StatusServiceUnavailable
	case delivery.Upstream:
		return http.StatusBadGateway
	}
	return http.StatusInternalServerError
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
