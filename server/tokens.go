package server

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/slipway-dev/slipway/api"
	"github.com/slipway-dev/slipway/store"
)

// createToken answers POST /api/v1/tokens (admin only).
func (s *Server) createToken(c echo.Context) error {
	var req api.TokenRequest
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
	s.audit(c, store.AuditEntry{Action: api.AuditTokenCreate, Target: t.Name, Reason: "role " + t.Role})
	return c.JSON(http.StatusCreated, api.CreatedToken{ID: t.ID, Name: t.Name, Role: t.Role, Token: token})
}

// listTokens answers GET /api/v1/tokens (admin only).
func (s *Server) listTokens(c echo.Context) error {
	ts, err := s.store.ListTokens(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, api.Page[api.Token]{Items: tokensOf(ts)})
}

// tokensOf is the tokens as the API shows them: never a secret or its hash.
func tokensOf(ts []store.Token) []api.Token {
	items := make([]api.Token, 0, len(ts))
	for _, t := range ts {
		items = append(items, api.Token{ID: t.ID, Name: t.Name, Role: t.Role, CreatedAt: t.CreatedAt})
	}
	return items
}
