package buildkit

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	gatewaypb "github.com/moby/buildkit/frontend/gateway/pb"
	"github.com/moby/buildkit/solver/errdefs"
	"github.com/moby/buildkit/util/grpcerrors"
	"google.golang.org/grpc/codes"
)

// Stable types of permanent build failures; the build activity uses them as the types of its
// non-retryable application errors.
const (
	// ErrTypeDockerfile means the Dockerfile is missing or invalid: a syntax error, an unknown
	// instruction, an unknown target stage, a base image that does not exist. Rebuilding the same
	// commit fails the same way.
	ErrTypeDockerfile = "InvalidDockerfile"
	// ErrTypeBuildStep means a build step failed: a RUN exited non-zero, a COPY named a file that
	// is not in the context.
	ErrTypeBuildStep = "BuildStepFailed"
	// ErrTypeBuildContext means the build context directory is missing or unreadable.
	ErrTypeBuildContext = "InvalidBuildContext"
)

// BuildError is a build failure caused by the build's inputs; retrying the same build cannot
// help. Callers find it with errors.As or Classify.
type BuildError struct {
	// Type is one of the ErrType constants.
	Type string
	// Msg says what failed, in BuildKit's words where it gave some, such as
	// `process "/bin/sh -c exit 3" did not complete successfully: exit code: 3`.
	Msg string
	// Err is the underlying error, if any.
	Err error
}

// Error returns Msg.
func (e *BuildError) Error() string { return e.Msg }

// Unwrap returns Err.
func (e *BuildError) Unwrap() error { return e.Err }

// Classify says whether err is a permanent build failure and of which type. A *BuildError in the
// chain gives its Type; otherwise BuildKit's typed errors are inspected as Build does. Anything
// else, such as buildkitd or a registry being unreachable, is transient: ("", false).
func Classify(err error) (typ string, permanent bool) {
	if err == nil {
		return "", false
	}
	var be *BuildError
	if errors.As(err, &be) {
		return be.Type, true
	}
	return classify(err)
}

// classify inspects an error from BuildKit's Solve. BuildKit reports nearly everything with gRPC
// code Unknown, so the typed errors it restores on the client decide: an *ExitError is a RUN that
// failed; a *VertexError is a step that failed while running (permanent only for a COPY or ADD of
// a file the context lacks); a *FrontendError without a vertex is the Dockerfile frontend refusing
// the Dockerfile, except for a base image that could not be resolved for a reason other than
// "not found" (a registry or network failure).
func classify(err error) (string, bool) {
	switch grpcerrors.Code(err) {
	case codes.Unavailable, codes.Canceled, codes.DeadlineExceeded, codes.ResourceExhausted, codes.Aborted:
		return "", false
	}
	msg := err.Error()
	var exit *gatewaypb.ExitError
	if errors.As(err, &exit) {
		return ErrTypeBuildStep, true
	}
	var vertex *errdefs.VertexError
	if errors.As(err, &vertex) {
		if strings.Contains(msg, "failed to calculate checksum") && strings.HasSuffix(msg, ": not found") {
			return ErrTypeBuildStep, true
		}
		if addRefused.MatchString(msg) {
			return ErrTypeBuildStep, true
		}
		return "", false
	}
	var frontend *errdefs.FrontendError
	if !errors.As(err, &frontend) {
		return "", false
	}
	if strings.Contains(msg, "failed to resolve source metadata") {
		if strings.HasSuffix(msg, ": not found") {
			return ErrTypeDockerfile, true
		}
		return "", false
	}
	if len(errdefs.Sources(err)) > 0 {
		return ErrTypeDockerfile, true
	}
	for _, m := range dockerfileMessages {
		if strings.Contains(msg, m) {
			return ErrTypeDockerfile, true
		}
	}
	return "", false
}

// addRefused matches the error of an ADD <url> the server refused with a 4xx other than 408 (timeout)
// and 429 (too many requests): asking again gets the same answer.
var addRefused = regexp.MustCompile(`invalid response status 4(0[0-79]|[13-9][0-9]|2[0-8])\b`)

// dockerfileMessages are BuildKit's messages for Dockerfile errors that carry no source location.
var dockerfileMessages = []string{
	"dockerfile parse error",
	"the Dockerfile cannot be empty",
	"dockerfile contains no stages to build",
	"target stage",
	"cannot copy from stage",
	"circular dependency detected on stage",
}

// classified wraps a Solve error: a permanent one as a *BuildError, a transient one with the
// address of the buildkitd that failed.
func classified(err error, addr string) error {
	if typ, ok := classify(err); ok {
		return &BuildError{Type: typ, Msg: strings.TrimPrefix(err.Error(), "failed to solve: "), Err: err}
	}
	return fmt.Errorf("building on buildkitd at %s: %w", addr, err)
}
