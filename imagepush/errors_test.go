package imagepush

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"syscall"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

func TestClassify(t *testing.T) {
	regErr := func(status int, code transport.ErrorCode) error {
		e := &transport.Error{StatusCode: status}
		if code != "" {
			e.Errors = []transport.Diagnostic{{Code: code, Message: "m"}}
		}
		return e
	}
	for _, tc := range []struct {
		err  error
		want string // "" for transient
	}{
		{regErr(http.StatusUnauthorized, ""), ErrTypeRegistryAuth},
		{regErr(http.StatusForbidden, transport.DeniedErrorCode), ErrTypeRegistryAuth},
		{regErr(http.StatusNotFound, transport.UnauthorizedErrorCode), ErrTypeRegistryAuth},
		{regErr(http.StatusBadRequest, transport.DigestInvalidErrorCode), ErrTypeInvalidLayout},
		{regErr(http.StatusBadRequest, transport.SizeInvalidErrorCode), ErrTypeInvalidLayout},
		{regErr(http.StatusNotFound, transport.NameUnknownErrorCode), ErrTypeRegistryRejected},
		{regErr(http.StatusBadRequest, transport.ManifestInvalidErrorCode), ErrTypeRegistryRejected},
		{regErr(http.StatusRequestEntityTooLarge, ""), ErrTypeRegistryRejected},
		{regErr(http.StatusMethodNotAllowed, transport.UnsupportedErrorCode), ErrTypeRegistryRejected},
		{regErr(http.StatusNotFound, transport.BlobUploadUnknownErrorCode), ""},
		{regErr(http.StatusBadRequest, transport.ManifestBlobUnknownErrorCode), ""},
		{regErr(http.StatusBadRequest, transport.BlobUploadInvalidErrorCode), ""},
		{regErr(http.StatusNotFound, transport.ManifestBlobUnknownErrorCode), ""},
		{regErr(http.StatusTooManyRequests, transport.TooManyRequestsErrorCode), ""},
		{regErr(http.StatusRequestTimeout, ""), ""},
		{regErr(http.StatusInternalServerError, ""), ""},
		{regErr(http.StatusServiceUnavailable, transport.UnauthorizedErrorCode), ""},
		{fmt.Errorf("ping: %w", regErr(http.StatusUnauthorized, "")), ErrTypeRegistryAuth},
		{&net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}, ""},
		{context.Canceled, ""},
		{fmt.Errorf("x: %w", context.DeadlineExceeded), ""},
		{&fs.PathError{Op: "open", Path: "/l/blobs/sha256/ab", Err: fs.ErrNotExist}, ErrTypeInvalidLayout},
	} {
		t.Run(fmt.Sprint(tc.err), func(t *testing.T) {
			err := classify("pushing r", tc.err)
			typ, perm := Classify(err)
			if typ != tc.want || perm != (tc.want != "") {
				t.Errorf("Classify = (%q, %v), want %q", typ, perm, tc.want)
			}
			if !errors.Is(err, tc.err) {
				t.Error("classified error does not wrap the original")
			}
		})
	}
}

func TestDroppedConnectionPredicate(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{nil, false},
		{&net.OpError{Op: "read", Err: syscall.ECONNRESET}, true},
		{fmt.Errorf("write: %w", syscall.EPIPE), true},
		{fmt.Errorf(`Post "http://r/v2/": %w`, io.EOF), true},
		{fmt.Errorf("copying: %w", io.ErrUnexpectedEOF), true},
		{fmt.Errorf(`Post "http://r/v2/": %w`, fmt.Errorf("x: %w", context.Canceled)), false},
		{&net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}, false},
		{&transport.Error{StatusCode: http.StatusServiceUnavailable}, false},
	} {
		if got := droppedConnection(tc.err); got != tc.want {
			t.Errorf("droppedConnection(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}
