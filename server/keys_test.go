package server

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/slipway-dev/slipway/secretbox"
)

func TestRotateKeysRewrapsEveryValue(t *testing.T) {
	e := configEnv(t)
	before := e.keys.ActiveID()
	for _, k := range []string{"A", "B", "C"} {
		e.must(http.StatusCreated, http.MethodPut, cfgPath+"/"+k, e.developer, map[string]any{"value": "v-" + k, "secret": k == "C"}, nil)
	}

	var r rotation
	e.must(http.StatusOK, http.MethodPost, "/api/v1/keys/rotate", e.admin, nil, &r)
	if e.rewraps.Load() != 1 {
		t.Errorf("Rewrap called %d times, want 1", e.rewraps.Load())
	}
	if r.Active == before || r.Active != e.keys.ActiveID() {
		t.Errorf("rotate reported active %q; before %q, keyring now %q", r.Active, before, e.keys.ActiveID())
	}
	if r.Rewrapped != 3 {
		t.Errorf("rewrapped %d, want 3", r.Rewrapped)
	}
	vals, err := e.st.ListConfigs(context.Background(), "shop", "api", "development")
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range vals {
		if v.Sealed.KEKID != r.Active {
			t.Errorf("%s still wrapped by %s", v.Key, v.Sealed.KEKID)
		}
	}
	var list page[configItem]
	e.must(http.StatusOK, http.MethodGet, cfgPath, e.viewer, nil, &list)
	if len(list.Items) != 3 || list.Items[0].Value == nil || *list.Items[0].Value != "v-A" {
		t.Errorf("values after rotation: %+v", list.Items)
	}
}

func TestRotateKeysWithoutRewrapDepUsesStore(t *testing.T) {
	e := newTestEnv(t, func(d *Deps) { d.Rewrap = nil })
	e.createProject("shop")
	e.createComponent("shop", "api")
	e.must(http.StatusCreated, http.MethodPut, cfgPath+"/A", e.developer, map[string]any{"value": "x"}, nil)
	var r rotation
	e.must(http.StatusOK, http.MethodPost, "/api/v1/keys/rotate", e.admin, nil, &r)
	if r.Rewrapped != 1 || r.Active != e.keys.ActiveID() {
		t.Errorf("rotation %+v, keyring active %q", r, e.keys.ActiveID())
	}
}

func TestRotateKeysRewrapFailureIsInternal(t *testing.T) {
	e := newTestEnv(t, func(d *Deps) {
		d.Rewrap = func(context.Context) (int, error) { return 0, errors.New("workflow exploded: detail-for-logs-only") }
	})
	rec := e.do(http.MethodPost, "/api/v1/keys/rotate", e.admin, nil)
	apiErr := wantError(t, rec, http.StatusInternalServerError, "internal", "")
	if apiErr.Message == "" || strings.Contains(rec.Body.String(), "detail-for-logs-only") {
		t.Errorf("500 body leaks the cause: %s", rec.Body)
	}
	if !strings.Contains(e.logs.String(), "detail-for-logs-only") {
		t.Errorf("the cause was not logged: %s", e.logs)
	}
}

func TestRotateKeysToDistributedKEK(t *testing.T) {
	e := configEnv(t)
	e.must(http.StatusCreated, http.MethodPut, cfgPath+"/A", e.developer, map[string]any{"value": "x", "secret": true}, nil)
	// An operator added a KEK to the key file with another process (`slipway keys rotate --kek-file`).
	other, err := secretbox.LoadKeyring(e.keys.Path())
	if err != nil {
		t.Fatal(err)
	}
	before := e.keys.ActiveID()
	added, err := other.Rotate()
	if err != nil {
		t.Fatal(err)
	}
	rec := e.do(http.MethodPost, "/api/v1/keys/rotate", e.admin, map[string]any{"kek": "kek-00000000"})
	wantError(t, rec, http.StatusUnprocessableEntity, "invalid", "kek")
	var r rotation
	e.must(http.StatusOK, http.MethodPost, "/api/v1/keys/rotate", e.admin, map[string]any{"kek": added}, &r)
	if r.Active != added || e.keys.ActiveID() != added {
		t.Fatalf("rotation %+v, keyring active %q; want %q (was %q)", r, e.keys.ActiveID(), added, before)
	}
	if e.rewraps.Load() != 1 {
		t.Fatalf("Rewrap called %d times, want 1", e.rewraps.Load())
	}
}
