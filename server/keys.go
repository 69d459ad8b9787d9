package server

import (
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"
)

// rotation is the answer to POST /api/v1/keys/rotate.
type rotation struct {
	Active    string `json:"active"`
	Rewrapped int    `json:"rewrapped"`
}

// rotateKeys answers POST /api/v1/keys/rotate (admin only): a fresh active KEK, then every data key re-wrapped
// with it. If the re-wrap fails the new KEK stays active and the old ones stay in the key file, so every value
// remains readable and calling rotate again finishes the job.
func (s *Server) rotateKeys(c echo.Context) error {
	id, err := s.keys.Rotate()
	if err != nil {
		return fmt.Errorf("rotating the key-encryption key: %w", err)
	}
	n, err := s.rewrap(c.Request().Context())
	if err != nil {
		return fmt.Errorf("re-wrapping data keys with new key-encryption key %s: %w", id, err)
	}
	return c.JSON(http.StatusOK, rotation{Active: id, Rewrapped: n})
}
