package server

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/slipway-dev/slipway/store"
)

// Role names stored in store.Token.Role.
const (
	// RoleAdmin may call every route, including tokens and keys.
	RoleAdmin = "admin"
	// RoleDeveloper may call every route except tokens and keys.
	RoleDeveloper = "developer"
	// RoleViewer may only read (GET).
	RoleViewer = "viewer"
)

// tokenPrefix starts every API token so it is recognisable in config files and secret scanners.
const tokenPrefix = "slw_"

// tokenKey is the echo.Context key holding the authenticated store.Token.
const tokenKey = "slipway.token"

// role orders the roles so a route can name the least one it allows.
type role int

const (
	roleViewer role = iota + 1
	roleDeveloper
	roleAdmin
)

// parseRole maps a stored role name to its rank; ok is false for an unknown name.
func parseRole(name string) (r role, ok bool) {
	switch name {
	case RoleViewer:
		return roleViewer, true
	case RoleDeveloper:
		return roleDeveloper, true
	case RoleAdmin:
		return roleAdmin, true
	}
	return 0, false
}

// NewToken returns a fresh API token ("slw_" + 32 random bytes, base64url) and its SHA-256 hash, which is
// what the store keeps.
func NewToken() (token string, hash []byte, err error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", nil, fmt.Errorf("generating token: %w", err)
	}
	token = tokenPrefix + base64.RawURLEncoding.EncodeToString(b)
	return token, HashToken(token), nil
}

// HashToken returns the SHA-256 hash of a token, the form in which tokens are stored and looked up.
func HashToken(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}

// MintToken returns a fresh token secret and the store.Token to keep for it: a random ID like
// "tok-1a2b3c4d5e6f7a8b", the name and role as given, the secret's hash and the creation time.
// The caller stores it; the secret is shown once and never kept.
func MintToken(name, role string) (token string, t store.Token, err error) {
	token, hash, err := NewToken()
	if err != nil {
		return "", store.Token{}, err
	}
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		return "", store.Token{}, fmt.Errorf("generating token ID: %w", err)
	}
	t = store.Token{ID: "tok-" + hex.EncodeToString(b), Name: name, Role: role, Hash: hash, CreatedAt: time.Now().UTC()}
	return token, t, nil
}

// unauthorized is the 401 for a missing or unknown token.
func unauthorized(c echo.Context, msg string) *APIError {
	c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="slipway"`)
	return &APIError{Status: http.StatusUnauthorized, Code: "unauthorized", Message: msg}
}

// allow authenticates the bearer token and admits it only when its role is at least least; the token is kept in
// the context for the handler and the request log.
func (s *Server) allow(least role) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			t, err := s.authenticate(c)
			if err != nil {
				return err
			}
			c.Set(tokenKey, t)
			r, known := parseRole(t.Role)
			if !known || r < least {
				return &APIError{
					Status:  http.StatusForbidden,
					Code:    "forbidden",
					Message: fmt.Sprintf("token %q with role %q may not %s %s", t.Name, t.Role, c.Request().Method, c.Path()),
				}
			}
			return next(c)
		}
	}
}

// authenticate resolves the request's bearer token, or else its console session cookie, to its store.Token. A
// write with a session must carry the session's CSRF token (checkWrite).
func (s *Server) authenticate(c echo.Context) (store.Token, error) {
	token := bearer(c.Request())
	if token == "" {
		sess, ok, err := s.sessionFromCookie(c)
		if err != nil {
			return store.Token{}, err
		}
		if !ok {
			return store.Token{}, unauthorized(c, "missing bearer token: send the header \"Authorization: Bearer <token>\"")
		}
		if e := checkWrite(c, sess, c.Request().Header.Get(csrfHeader)); e != nil {
			return store.Token{}, e
		}
		c.Set(sessionKey, sess)
		return sess.Token, nil
	}
	t, err := s.store.TokenByHash(c.Request().Context(), HashToken(token))
	if errors.Is(err, store.ErrNotFound) {
		return store.Token{}, unauthorized(c, "the bearer token is not valid")
	}
	if err != nil {
		return store.Token{}, fmt.Errorf("looking up bearer token: %w", err)
	}
	return t, nil
}

// bearer is the request's bearer token, "" when it carries none.
func bearer(r *http.Request) string {
	scheme, token, ok := strings.Cut(r.Header.Get(echo.HeaderAuthorization), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(token)
}

// tokenName is the name of the authenticated token, "" when the request carried none.
func tokenName(c echo.Context) string {
	t, _ := c.Get(tokenKey).(store.Token)
	return t.Name
}
