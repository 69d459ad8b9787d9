package delivery

import (
	"context"
	"errors"
	"fmt"

	"go.temporal.io/api/serviceerror"
)

// Kind says what sort of refusal an *Error is, which is what a caller maps it by (an HTTP status, or
// whether a Temporal activity may retry).
type Kind int

// The kinds of refusal. The zero Kind is not used.
const (
	// Invalid: the request names something that cannot be (a build of another component, an
	// environment not in the project, a commit that does not exist). Retrying cannot help.
	Invalid Kind = iota + 1
	// NotFound: what the request is about does not exist.
	NotFound
	// Conflict: the request cannot be done in the present state (the build did not succeed, nothing
	// runs to promote); it may be once the state changes.
	Conflict
	// Forbidden: the caller may not do this (only an admin deploys into production).
	Forbidden
	// Unavailable: a part slipway needs (Temporal, a registry) is not configured or did not answer;
	// retrying later may help.
	Unavailable
	// Upstream: an outside system slipway reads (the Git host) failed; retrying later may help.
	Upstream
)

// Error is a use case's refusal: what the caller did wrong or what is missing, in words a user can
// act on. Its message never holds a credential or a secret value.
type Error struct {
	Kind Kind
	// Code is a stable snake_case name of the refusal (e.g. "missing_config"), the API's error code.
	Code string
	// Field names the request field at fault; "" when none is.
	Field string
	// Message is a sentence naming the problem.
	Message string
	// Err is the cause, if any; it is not part of Error().
	Err error
}

// Error returns the message.
func (e *Error) Error() string { return e.Message }

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

func refuse(kind Kind, code, field, format string, args ...any) *Error {
	return &Error{Kind: kind, Code: code, Field: field, Message: fmt.Sprintf(format, args...)}
}

// Refusal codes that callers outside the package map by (the activities to their Temporal error types).
const (
	// CodeNotDeployable: the build did not succeed, has no image, or does not exist.
	CodeNotDeployable = "not_deployable"
	// CodeMissingConfig: the environment lacks configs or secrets the build requires; the message names each.
	CodeMissingConfig = "missing_config"
	// CodeAutoDeployToProduction: a build's auto-deploy would have gone into a production environment.
	CodeAutoDeployToProduction = "auto_deploy_to_production"
	// CodeNoEnvironment: the project has no such environment (or none at all).
	CodeNoEnvironment = "no_environment"
	// CodeFailedVerification: the build failed its verification in the environment it would be promoted from.
	CodeFailedVerification = "failed_verification"
)

// errTemporalUnavailable is the refusal of a use case that needs Temporal when it is not there.
func errTemporalUnavailable(format string, args ...any) *Error {
	return refuse(Unavailable, "temporal_unavailable", "", format, args...)
}

// Unreachable reports whether err means Temporal did not answer (down, overloaded or too slow), as opposed
// to answering with a refusal.
func Unreachable(err error) bool {
	var unavailable *serviceerror.Unavailable
	var deadline *serviceerror.DeadlineExceeded
	var exhausted *serviceerror.ResourceExhausted
	return errors.As(err, &unavailable) || errors.As(err, &deadline) || errors.As(err, &exhausted) ||
		errors.Is(err, context.DeadlineExceeded)
}

// isNotFound reports whether Temporal answered that what was asked for (a workflow) does not exist.
func isNotFound(err error) bool {
	var nf *serviceerror.NotFound
	return errors.As(err, &nf)
}
