package server

import (
	"encoding/hex"
	"net/http"
	"strings"
	"testing"

	"github.com/slipway-dev/slipway/api"
)

func TestTokensCreateShownOnceAndWorks(t *testing.T) {
	e := newTestEnv(t)
	var created api.CreatedToken
	rec := e.must(http.StatusCreated, http.MethodPost, "/api/v1/tokens", e.admin, map[string]any{"name": "ci", "role": "developer"}, &created)
	if created.Name != "ci" || created.Role != "developer" || !strings.HasPrefix(created.ID, "tok-") || !strings.HasPrefix(created.Token, "slw_") {
		t.Fatalf("created token %s", rec.Body)
	}

	// The new token authenticates with its role.
	e.must(http.StatusCreated, http.MethodPost, "/api/v1/projects", created.Token, map[string]any{"name": "shop"}, nil)
	wantError(t, e.do(http.MethodGet, "/api/v1/tokens", created.Token, nil), http.StatusForbidden, "forbidden", "")

	var list api.Page[api.Token]
	rec = e.must(http.StatusOK, http.MethodGet, "/api/v1/tokens", e.admin, nil, &list)
	body := rec.Body.String()
	for _, secret := range []string{created.Token, e.admin, e.viewer, e.developer, hex.EncodeToString(HashToken(created.Token))} {
		if strings.Contains(body, secret) {
			t.Errorf("token list shows a secret or hash: %s", body)
		}
	}
	if strings.Contains(body, `"token"`) || strings.Contains(body, `"hash"`) {
		t.Errorf("token list has a token or hash field: %s", body)
	}
	found := false
	for _, it := range list.Items {
		if it.Name == "ci" {
			found = it.ID == created.ID && it.Role == "developer"
		}
	}
	if !found || len(list.Items) != 4 {
		t.Errorf("list %+v, want the 3 test tokens and ci", list.Items)
	}
}

func TestTokensErrors(t *testing.T) {
	e := newTestEnv(t)
	wantError(t, e.do(http.MethodPost, "/api/v1/tokens", e.admin, map[string]any{"name": "root", "role": "viewer"}), http.StatusConflict, "already_exists", "name")
	wantError(t, e.do(http.MethodPost, "/api/v1/tokens", e.admin, map[string]any{"name": "ci", "role": "owner"}), http.StatusUnprocessableEntity, "invalid", "role")
	wantError(t, e.do(http.MethodPost, "/api/v1/tokens", e.admin, map[string]any{"name": "ci"}), http.StatusUnprocessableEntity, "invalid", "role")
	wantError(t, e.do(http.MethodPost, "/api/v1/tokens", e.admin, map[string]any{"name": "CI Bot", "role": "viewer"}), http.StatusUnprocessableEntity, "invalid", "name")
	var list api.Page[api.Token]
	e.must(http.StatusOK, http.MethodGet, "/api/v1/tokens", e.admin, nil, &list)
	if len(list.Items) != 3 {
		t.Errorf("failed creations left %d tokens, want 3", len(list.Items))
	}
}
