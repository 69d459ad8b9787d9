package server

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"syscall"

	"github.com/labstack/echo/v4"
)

// rotateRequest is the optional body of POST /api/v1/keys/rotate.
type rotateRequest struct {
	// KEK names a KEK already added to the key file (`slipway keys rotate --kek-file F`) and
	// distributed to every process. Nothing new is created: the data keys are re-wrapped with it.
	// Empty means: add a fresh KEK to this server's key file now.
	KEK string `json:"kek"`
}

// rotation is the answer to POST /api/v1/keys/rotate.
type rotation struct {
	Active    string `json:"active"`
	Rewrapped int    `json:"rewrapped"`
}

// rotateKeys answers POST /api/v1/keys/rotate (admin only): a fresh active KEK (or the one named in
// the body, once distributed), then every data key re-wrapped with it. If the re-wrap fails the new
// KEK stays active and the old ones stay in the key file, so every value remains readable and
// calling rotate again finishes the job.
func (s *Server) rotateKeys(c echo.Context) error {
	var req rotateRequest
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
	if err != nil {
		return fmt.Errorf("re-wrapping data keys with key-encryption key %s: %w", id, err)
	}
	return c.JSON(http.StatusOK, rotation{Active: id, Rewrapped: n})
}
