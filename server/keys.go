package server

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"syscall"

	"github.com/labstack/echo/v4"
	"go.temporal.io/sdk/temporal"

	"github.com/slipway-dev/slipway/api"
)

// rotateKeys answers POST /api/v1/keys/rotate (admin only): a fresh active KEK (or the one named in
// the body, once distributed), then every data key re-wrapped with it. If the re-wrap fails the new
// KEK stays active and the old ones stay in the key file, so every value remains readable and
// calling rotate again finishes the job. Rotations at the same time do not fail with a 500: each one
// another overtook (its KEK is no longer the active one when its re-wrap ends, or the worker refused
// to re-wrap with it) answers 409 rotation_conflict.
func (s *Server) rotateKeys(c echo.Context) error {
	var req api.RotateRequest
	data, err := readBody(c)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(data)) > 0 {
		if err := decodeStrict(data, &req); err != nil {
			return err
		}
	}
	id := req.KEK
	if id == "" {
		if id, err = s.keys.Rotate(); err != nil {
			if errors.Is(err, fs.ErrPermission) || errors.Is(err, syscall.EROFS) {
				return &APIError{Status: http.StatusConflict, Code: "key_file_read_only", Message: fmt.Sprintf(
					"the key file %s cannot be written by this server: add a KEK with `slipway keys rotate --kek-file F`, "+
						"give the new file to every slipway process, then rotate with {\"kek\": \"<its id>\"}", s.keys.Path())}
			}
			return fmt.Errorf("rotating the key-encryption key: %w", err)
		}
	} else {
		if err := s.keys.Reload(); err != nil {
			return fmt.Errorf("reloading the key file: %w", err)
		}
		if active := s.keys.ActiveID(); active != id {
			return invalid("kek", "the active KEK in this server's key file is %q, not %q: give every slipway process the rotated key file first", active, id)
		}
	}
	n, err := s.rewrap(c.Request().Context())
	if keyMismatch(err) {
		return errRotationConflict(id, s.keys.ActiveID(), err)
	}
	if err != nil {
		return fmt.Errorf("re-wrapping data keys with key-encryption key %s: %w", id, err)
	}
	if active := s.keys.ActiveID(); active != id {
		return errRotationConflict(id, active, nil)
	}
	return c.JSON(http.StatusOK, api.Rotation{Active: id, Rewrapped: n})
}

// keyMismatchType is the type of the re-wrap activity's error when the worker's active KEK is not the one asked
// for (activities.ErrTypeKeyMismatch): another rotation made a newer KEK active meanwhile, or the worker's key
// file differs from this server's.
const keyMismatchType = "KeyMismatch"

// keyMismatch reports whether err is the re-wrap's key-mismatch refusal.
func keyMismatch(err error) bool {
	var appErr *temporal.ApplicationError
	return errors.As(err, &appErr) && appErr.Type() == keyMismatchType
}

// errRotationConflict is the 409 for a rotation to id that another one overtook: active, the KEK active now, was
// made active while this one ran (rotations at the same time), or the worker's key file does not agree (cause,
// the re-wrap's refusal, is then non-nil). Nothing is lost either way: every value stays readable, and a rotation
// called once the others have answered re-wraps what is left.
func errRotationConflict(id, active string, cause error) *APIError {
	msg := fmt.Sprintf("another key rotation made %s the active KEK while this one was making %s active (run one rotation at a time): "+
		"every value stays readable, and rotating again once the others have answered re-wraps what is left", active, id)
	if cause != nil && active == id {
		msg = fmt.Sprintf("the worker's active KEK is not %s: give every slipway process the same key file, then rotate again", id)
	}
	return &APIError{Status: http.StatusConflict, Code: "rotation_conflict", Message: msg}
}
