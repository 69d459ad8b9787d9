package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"

	"github.com/slipway-dev/slipway/store"
)

// uiRealm is the realm of the Temporal UI's Basic challenge: browsers show it in their sign-in dialog.
const uiRealm = `Basic realm="slipway Temporal UI: any user name, a slipway token as password", charset="UTF-8"`

// TemporalUI returns a handler serving the Temporal UI that listens at target (its ui-server, on a
// loopback port of its own) to holders of a slipway token only: the browser asks for it by HTTP Basic
// (any user name, the token as password), and a client may send it as a bearer token as the API takes
// it. Every role may read; only an admin may act (terminate, cancel, signal, reset, start…): for the
// others the UI is told write actions are off, and any request that would write is refused 403
// before it reaches the ui-server. Queries stay open to all, as the ui-server's own read-only mode
// allows them.
func (s *Server) TemporalUI(target *url.URL) http.Handler {
	proxy := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(target)
			r.Out.Host = r.In.Host // the ui-server checks CSRF against the origin the browser sees
			r.Out.Header.Del("Authorization")
			if r.Out.URL.Path == "/api/v1/settings" {
				r.Out.Header.Del("Accept-Encoding") // so a non-admin's answer can be rewritten
			}
		},
		ModifyResponse: func(res *http.Response) error {
			if res.Request.URL.Path != "/api/v1/settings" || res.StatusCode != http.StatusOK || isAdmin(res.Request.Header.Get(uiRoleHeader)) {
				return nil
			}
			return disableWriteActions(res)
		},
		ErrorHandler: func(w http.ResponseWriter, _ *http.Request, err error) {
			s.log.Warn("Temporal UI proxy", "err", err)
			http.Error(w, "the Temporal UI is not answering", http.StatusBadGateway)
		},
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t, err := s.uiToken(r)
		if err != nil {
			var unknown *APIError
			if errors.As(err, &unknown) {
				w.Header().Set("WWW-Authenticate", uiRealm)
				http.Error(w, "sign in with a slipway token as the password", http.StatusUnauthorized)
				return
			}
			s.log.Error("Temporal UI: looking up the token", "err", err)
			http.Error(w, "looking up the token failed", http.StatusInternalServerError)
			return
		}
		if s.uiCodec(w, r, t.Role) {
			return
		}
		if !isAdmin(t.Role) && uiWrites(r) {
			http.Error(w, fmt.Sprintf("token %q with role %q may only read in the Temporal UI", t.Name, t.Role), http.StatusForbidden)
			return
		}
		// The role travels to ModifyResponse on the proxied request; a client cannot set it (it is replaced here).
		r.Header.Set(uiRoleHeader, t.Role)
		proxy.ServeHTTP(w, r)
	})
}

// uiRoleHeader carries the caller's role from the handler to the proxy's ModifyResponse. The
// ui-server ignores it.
const uiRoleHeader = "X-Slipway-Role"

func isAdmin(role string) bool { return role == RoleAdmin }

// uiToken resolves the request's token, sent as a Basic password or a bearer token. An
// *APIError means there is none or it is not valid.
func (s *Server) uiToken(r *http.Request) (store.Token, error) {
	token := bearer(r)
	if _, password, ok := r.BasicAuth(); ok {
		token = password
	}
	if token == "" {
		return store.Token{}, &APIError{Status: http.StatusUnauthorized, Code: "unauthorized", Message: "no token"}
	}
	t, err := s.store.TokenByHash(r.Context(), HashToken(token))
	if errors.Is(err, store.ErrNotFound) {
		return store.Token{}, &APIError{Status: http.StatusUnauthorized, Code: "unauthorized", Message: "the token is not valid"}
	}
	return t, err
}

// uiWrites reports whether r would change something through the ui-server: any method but GET,
// HEAD and OPTIONS, except a workflow query (a POST that reads), as the ui-server's own
// DisableWriteActions rules it.
func uiWrites(r *http.Request) bool {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	}
	p := r.URL.Path
	isQuery := r.Method == http.MethodPost && strings.HasPrefix(p, "/api/v1/namespaces/") &&
		strings.Contains(p, "/workflows/") && strings.Contains(p, "/query/")
	return !isQuery
}

// disableWriteActions rewrites the ui-server's settings answer so the UI shows no write control.
func disableWriteActions(res *http.Response) error {
	body, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	res.Body.Close()
	if err != nil {
		return fmt.Errorf("reading the Temporal UI's settings: %w", err)
	}
	var settings map[string]any
	if err := json.Unmarshal(body, &settings); err != nil {
		return fmt.Errorf("reading the Temporal UI's settings: %w", err)
	}
	settings["DisableWriteActions"] = true
	if body, err = json.Marshal(settings); err != nil {
		return err
	}
	res.Body = io.NopCloser(bytes.NewReader(body))
	res.ContentLength = int64(len(body))
	res.Header.Set("Content-Length", strconv.Itoa(len(body)))
	res.Header.Del("Content-Encoding")
	return nil
}
