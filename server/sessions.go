package server

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/slipway-dev/slipway/store"
)

// The console's sessions: signing in with an API token gives the browser a session cookie (HttpOnly,
// SameSite=Strict, Secure under TLS) holding a random secret whose hash the store keeps. A request with the
// cookie acts with the token's role, on the API as on the pages; a write (any method but GET and HEAD) must
// also carry the session's CSRF token in X-CSRF-Token (a form field, csrf, for sign-out) and, when the browser
// says where it comes from, come from this origin.
const (
	// sessionCookie names the session cookie.
	sessionCookie = "slipway_session"
	// sessionLifetime is how long a session lasts from sign-in; signing in again starts a new one.
	sessionLifetime = 12 * time.Hour
	// csrfHeader carries the session's CSRF token on writes.
	csrfHeader = "X-CSRF-Token"
	// sessionKey is the echo.Context key holding the request's store.Session, when it came with one.
	sessionKey = "slipway.session"
)

// sessionOf returns the session the request authenticated with; ok is false for a bearer token or none.
func sessionOf(c echo.Context) (store.Session, bool) {
	s, ok := c.Get(sessionKey).(store.Session)
	return s, ok
}

// sessionFromCookie resolves the request's session cookie; ok is false when there is none or it has ended.
func (s *Server) sessionFromCookie(c echo.Context) (sess store.Session, ok bool, err error) {
	ck, err := c.Cookie(sessionCookie)
	if err != nil || ck.Value == "" {
		return store.Session{}, false, nil
	}
	sess, err = s.store.SessionByHash(c.Request().Context(), HashToken(ck.Value))
	if errors.Is(err, store.ErrNotFound) {
		return store.Session{}, false, nil
	}
	if err != nil {
		return store.Session{}, false, fmt.Errorf("looking up the session: %w", err)
	}
	return sess, true, nil
}

// checkWrite refuses a write made with a session unless it carries the session's CSRF token (got) and comes
// from this origin.
func checkWrite(c echo.Context, sess store.Session, got string) *APIError {
	r := c.Request()
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return nil
	}
	if subtle.ConstantTimeCompare([]byte(got), []byte(sess.CSRF)) != 1 {
		return &APIError{Status: http.StatusForbidden, Code: "csrf",
			Message: "a write with the session cookie must send the session's CSRF token in " + csrfHeader}
	}
	if origin := r.Header.Get("Origin"); origin != "" {
		if u, err := url.Parse(origin); err != nil || u.Host != r.Host {
			return &APIError{Status: http.StatusForbidden, Code: "csrf", Message: "the request comes from another origin: " + origin}
		}
	}
	return nil
}

// secure says the request came over TLS: the session cookie is then Secure.
func secure(r *http.Request) bool { return r.TLS != nil }

// signIn answers POST /sign-in (a form: token, next): a valid token gets a session cookie and a redirect to
// next (a path of this server; /projects when none), an invalid one the sign-in page again with a 401.
func (s *Server) signIn(c echo.Context) error {
	ctx := c.Request().Context()
	next := localPath(c.FormValue("next"))
	token := strings.TrimSpace(c.FormValue("token"))
	t, err := s.store.TokenByHash(ctx, HashToken(token))
	if token == "" || errors.Is(err, store.ErrNotFound) {
		return s.renderSignIn(c, http.StatusUnauthorized, "That token is not valid: paste a slipway API token (slw_…).", next)
	}
	if err != nil {
		return err
	}
	secret, csrf := randomString(32), randomString(32)
	if _, err := s.store.CreateSession(ctx, HashToken(secret), t.ID, csrf, time.Now().Add(sessionLifetime)); err != nil {
		return err
	}
	c.SetCookie(&http.Cookie{Name: sessionCookie, Value: secret, Path: "/", HttpOnly: true, Secure: secure(c.Request()),
		SameSite: http.SameSiteStrictMode, MaxAge: int(sessionLifetime / time.Second)})
	c.Set(tokenKey, t) // for the request log
	s.log.InfoContext(ctx, "console sign-in", "token", t.Name, "role", t.Role)
	return c.Redirect(http.StatusSeeOther, next)
}

// signOut answers POST /sign-out (a form with the session's csrf): the session ends and the cookie is cleared.
// Without a session it only clears the cookie.
func (s *Server) signOut(c echo.Context) error {
	sess, ok, err := s.sessionFromCookie(c)
	if err != nil {
		return err
	}
	if ok {
		if e := checkWrite(c, sess, c.FormValue("csrf")); e != nil {
			return e
		}
		if err := s.store.DeleteSession(c.Request().Context(), sess.Hash); err != nil {
			return err
		}
	}
	c.SetCookie(&http.Cookie{Name: sessionCookie, Value: "", Path: "/", HttpOnly: true, Secure: secure(c.Request()),
		SameSite: http.SameSiteStrictMode, MaxAge: -1})
	return c.Redirect(http.StatusSeeOther, "/sign-in")
}

// localPath is p when it is a path of this server, else /projects: a sign-in never sends the browser elsewhere.
func localPath(p string) string {
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.HasPrefix(p, "/\\") || strings.ContainsAny(p, "\r\n") {
		return "/projects"
	}
	return p
}

func randomString(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on Linux
	}
	return base64.RawURLEncoding.EncodeToString(b)
}
