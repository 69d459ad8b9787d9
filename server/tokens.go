package server

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
)

// tokenRequest is the body of POST /api/v1/tokens.
type tokenRequest struct {
	Name string `json:"name"`
	Role string `json:"role"`
}

// createdToken is the answer to POST /api/v1/tokens: the only time the token itself is shown.
type createdToken struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Role  string `json:"role"`
	Token string `json:"token"`
}

// tokenItem is a token as GET /api/v1/tokens lists it: never the token or its hash.
type tokenItem struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Role      string    `json:"role"`
	CreatedAt time.Time `json:"createdAt"`
}

// createToken answers POST /api/v1/tokens (admin only).
func (s *Server) createToken(c echo.Context) error {
	var req tokenRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	if err := checkName("name", req.Name); err != nil {
		return err
	}
	if _, ok := parseRole(req.Role); !ok {
		return invalid("role", "role must be %q, %q or %q", RoleAdmin, RoleDeveloper, RoleViewer)
	}
	token, t, err := MintToken(req.Name, req.Role)
	if err != nil {
		return err
	}
	if err := s.store.CreateToken(c.Request().Context(), t); err != nil {
		return withField(err, "name")
	}
	return c.JSON(http.StatusCreated, createdToken{ID: t.ID, Name: t.Name, Role: t.Role, Token: token})
}

// listTokens answers GET /api/v1/tokens (admin only).
func (s *Server) listTokens(c echo.Context) error {
	ts, err := s.store.ListTokens(c.Request().Context())
	if err != nil {
		return err
	}
	items := make([]tokenItem, 0, len(ts))
	for _, t := range ts {
		items = append(items, tokenItem{ID: t.ID, Name: t.Name, Role: t.Role, CreatedAt: t.CreatedAt})
	}
	return c.JSON(http.StatusOK, page[tokenItem]{Items: items})
}
