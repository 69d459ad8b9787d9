package imagepush

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"

	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// Stable types of the permanent errors Push returns; the activity passes them on as the type of a
// non-retryable application error.
const (
	// ErrTypeInvalidLayout means the image layout is missing, unreadable or inconsistent (a blob
	// missing, truncated, or not matching its digest). Pushing it again cannot succeed.
	ErrTypeInvalidLayout = "InvalidImageLayout"
	// ErrTypeRegistryAuth means the registry answered 401 or 403: the credentials are missing,
	// wrong, or lack push rights to the repository.
	ErrTypeRegistryAuth = "RegistryAuthRefused"
	// ErrTypeInvalidReference means the repository or a tag is not a valid reference, or names no
	// registry host (slipway never pushes to an implied Docker Hub).
	ErrTypeInvalidReference = "InvalidImageReference"
	// ErrTypeRegistryRejected means the registry refused the request itself (400, 405, 413, 415,
	// or NAME_UNKNOWN, e.g. a repository that must be created first): retrying sends the same request.
	ErrTypeRegistryRejected = "RegistryRejected"
)

// Error is a failure that retrying cannot fix. Every *Error is permanent; transient failures
// (connection errors, timeouts, 5xx, 429) are returned as plain wrapped errors. Match it with
// errors.As and pass Type on as the non-retryable error type.
type Error struct {
	// Type is one of the ErrType* constants.
	Type string
	// Err says what was being done, on which repository or layout, and why it failed.
	Err error
}

// Error returns the message of the underlying error.
func (e *Error) Error() string { return e.Err.Error() }

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// Classify says whether err is permanent and of which type: the Type of an *Error in its chain, or
// ("", false) for a transient error that the caller should retry.
func Classify(err error) (typ string, permanent bool) {
	var e *Error
	if errors.As(err, &e) {
		return e.Type, true
	}
	return "", false
}

func permanentf(typ string, format string, args ...any) error {
	return &Error{Type: typ, Err: fmt.Errorf(format, args...)}
}

// classify wraps err from a registry operation with what was being done (doing names the
// repository) and makes it an *Error when retrying cannot help.
func classify(doing string, err error) error {
	wrapped := fmt.Errorf("%s: %w", doing, err)
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return wrapped
	}
	// A blob vanished from the layout while it was being pushed.
	if errors.Is(err, fs.ErrNotExist) {
		return &Error{Type: ErrTypeInvalidLayout, Err: wrapped}
	}
	var terr *transport.Error
	if !errors.As(err, &terr) || terr.StatusCode < 400 || terr.StatusCode >= 500 ||
		terr.StatusCode == http.StatusRequestTimeout || terr.StatusCode == http.StatusTooManyRequests {
		return wrapped
	}
	if terr.StatusCode == http.StatusUnauthorized || terr.StatusCode == http.StatusForbidden {
		return &Error{Type: ErrTypeRegistryAuth, Err: wrapped}
	}
	for _, d := range terr.Errors {
		switch d.Code {
		case transport.UnauthorizedErrorCode, transport.DeniedErrorCode:
			return &Error{Type: ErrTypeRegistryAuth, Err: wrapped}
		case transport.DigestInvalidErrorCode, transport.SizeInvalidErrorCode:
			// The bytes sent do not match their digest or size (the transport checksums the wire), so the
			// blob in the layout is corrupt.
			return &Error{Type: ErrTypeInvalidLayout, Err: wrapped}
		case transport.ManifestBlobUnknownErrorCode, transport.BlobUnknownErrorCode,
			transport.BlobUploadUnknownErrorCode, transport.BlobUploadInvalidErrorCode:
			// A blob or upload session the registry lost (garbage collection, an expired
			// session): pushing again HEADs and uploads it anew.
			return wrapped
		case transport.NameUnknownErrorCode, transport.NameInvalidErrorCode, transport.TagInvalidErrorCode,
			transport.ManifestInvalidErrorCode, transport.UnsupportedErrorCode:
			return &Error{Type: ErrTypeRegistryRejected, Err: wrapped}
		}
	}
	switch terr.StatusCode {
	case http.StatusBadRequest, http.StatusMethodNotAllowed, http.StatusRequestEntityTooLarge,
		http.StatusUnsupportedMediaType:
		return &Error{Type: ErrTypeRegistryRejected, Err: wrapped}
	}
	return wrapped
}
