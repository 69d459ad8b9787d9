package server

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/slipway-dev/slipway/api"
	"github.com/slipway-dev/slipway/store"
)

const canary = "canary-Zq8vT3xK-never-shown"

const cfgPath = "/api/v1/projects/shop/components/api/environments/development/configs"

// configEnv is a testEnv with project shop, component api.
func configEnv(t *testing.T) *testEnv {
	e := newTestEnv(t)
	e.createProject("shop")
	e.createComponent("shop", "api")
	return e
}

func TestConfigsPutAndListHideSecrets(t *testing.T) {
	e := configEnv(t)

	var item api.Config
	rec := e.must(http.StatusCreated, http.MethodPut, cfgPath+"/LOG_LEVEL", e.developer, map[string]any{"value": "debug"}, &item)
	if item.Key != "LOG_LEVEL" || item.Secret || item.Value == nil || *item.Value != "debug" || item.UpdatedAt.IsZero() {
		t.Errorf("put config answered %s", rec.Body)
	}
	rec = e.must(http.StatusOK, http.MethodPut, cfgPath+"/LOG_LEVEL", e.developer, map[string]any{"value": "info", "secret": false}, &item)
	if item.Value == nil || *item.Value != "info" {
		t.Errorf("replacing config answered %s", rec.Body)
	}

	rec = e.must(http.StatusCreated, http.MethodPut, cfgPath+"/DB_PASSWORD", e.developer, map[string]any{"value": canary, "secret": true}, nil)
	assertNoCanary(t, "put secret", rec.Body.Bytes())
	if strings.Contains(rec.Body.String(), `"value"`) || !strings.Contains(rec.Body.String(), `"secret":true`) {
		t.Errorf("put secret answered %s, want secret true and no value", rec.Body)
	}
	// Replacing a secret without repeating "secret" keeps it secret.
	rec = e.must(http.StatusOK, http.MethodPut, cfgPath+"/DB_PASSWORD", e.developer, map[string]any{"value": canary + "-2"}, nil)
	assertNoCanary(t, "replace secret", rec.Body.Bytes())
	e.must(http.StatusCreated, http.MethodPut, cfgPath+"/EMPTY", e.developer, map[string]any{"value": ""}, nil)

	var list api.Page[api.Config]
	rec = e.must(http.StatusOK, http.MethodGet, cfgPath, e.viewer, nil, &list)
	assertNoCanary(t, "list", rec.Body.Bytes())
	if len(list.Items) != 3 {
		t.Fatalf("list %s, want 3 items", rec.Body)
	}
	byKey := map[string]api.Config{}
	for _, it := range list.Items {
		byKey[it.Key] = it
	}
	if list.Items[0].Key != "DB_PASSWORD" || list.Items[1].Key != "EMPTY" || list.Items[2].Key != "LOG_LEVEL" {
		t.Errorf("list not by key: %s", rec.Body)
	}
	if it := byKey["LOG_LEVEL"]; it.Secret || it.Value == nil || *it.Value != "info" {
		t.Errorf("non-secret listed as %+v, want value info", it)
	}
	if it := byKey["EMPTY"]; it.Value == nil || *it.Value != "" {
		t.Errorf("empty non-secret listed as %+v, want value \"\"", it)
	}
	if it := byKey["DB_PASSWORD"]; !it.Secret || it.Value != nil {
		t.Errorf("secret listed as %+v, want secret without value", it)
	}
	assertNoCanary(t, "logs", []byte(e.logs.String()))

	// At rest every value is sealed and bound to its place.
	vals, err := e.st.ListConfigs(context.Background(), "shop", "api", "development")
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range vals {
		if bytes.Contains(v.Sealed.Ciphertext, []byte("info")) || bytes.Contains(v.Sealed.Ciphertext, []byte(canary)) {
			t.Errorf("%s stored in clear", v.Key)
		}
		plain, err := e.keys.Open(store.ConfigAAD("shop", "api", "development", v.Key), v.Sealed)
		if err != nil {
			t.Errorf("opening %s with its AAD: %v", v.Key, err)
		}
		if v.Key == "DB_PASSWORD" && string(plain) != canary+"-2" {
			t.Errorf("secret holds %q", plain)
		}
		if _, err := e.keys.Open(store.ConfigAAD("shop", "api", "production", v.Key), v.Sealed); err == nil {
			t.Errorf("%s opens with another environment's AAD", v.Key)
		}
	}

	// A secret can be turned into a plain config only by giving a new value.
	e.must(http.StatusOK, http.MethodPut, cfgPath+"/DB_PASSWORD", e.developer, map[string]any{"value": "public", "secret": false}, &item)
	if item.Secret || item.Value == nil || *item.Value != "public" {
		t.Errorf("secret to config answered %+v", item)
	}
}

// TestPutConfigOmittingSecretRacesDelete sends PUTs that omit "secret" while another client deletes the key and
// puts it back as a secret. The store decides the kind in the transaction that writes, so the key ends secret,
// and 201 is answered exactly once per time the key was absent (deletions + 1).
func TestPutConfigOmittingSecretRacesDelete(t *testing.T) {
	e := configEnv(t)
	e.must(http.StatusCreated, http.MethodPut, cfgPath+"/DB_PASSWORD", e.developer, map[string]any{"value": canary, "secret": true}, nil)

	const putters, rounds = 4, 25
	var created, deleted atomic.Int64
	created.Add(1)
	// count records one PUT's answer; any status but 200 and 201 is an error.
	count := func(rec *httptest.ResponseRecorder) error {
		switch rec.Code {
		case http.StatusCreated:
			created.Add(1)
		case http.StatusOK:
		default:
			return fmt.Errorf("PUT: status %d; body: %s", rec.Code, rec.Body)
		}
		return nil
	}
	errs := make(chan error, putters+1)
	var wg sync.WaitGroup
	for i := range putters {
		wg.Go(func() {
			for range rounds {
				rec := e.do(http.MethodPut, cfgPath+"/DB_PASSWORD", e.developer, map[string]any{"value": fmt.Sprint("plain-", i)})
				if err := count(rec); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Go(func() {
		for range rounds {
			if rec := e.do(http.MethodDelete, cfgPath+"/DB_PASSWORD", e.developer, nil); rec.Code != http.StatusNoContent {
				errs <- fmt.Errorf("DELETE: status %d; body: %s", rec.Code, rec.Body)
				return
			}
			deleted.Add(1)
			rec := e.do(http.MethodPut, cfgPath+"/DB_PASSWORD", e.developer, map[string]any{"value": canary, "secret": true})
			if err := count(rec); err != nil {
				errs <- err
				return
			}
		}
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

	var list api.Page[api.Config]
	rec := e.must(http.StatusOK, http.MethodGet, cfgPath, e.viewer, nil, &list)
	assertNoCanary(t, "list after the race", rec.Body.Bytes())
	if len(list.Items) != 1 || !list.Items[0].Secret {
		t.Errorf("after the race the configs are %s, want DB_PASSWORD secret", rec.Body)
	}
	if c, d := created.Load(), deleted.Load(); c != d+1 {
		t.Errorf("%d PUTs answered 201 after %d deletions, want %d", c, d, d+1)
	}
}

func assertNoCanary(t *testing.T, what string, b []byte) {
	t.Helper()
	if bytes.Contains(b, []byte(canary)) {
		t.Errorf("%s contains the secret value: %s", what, b)
	}
}

func TestConfigsErrors(t *testing.T) {
	e := configEnv(t)
	for _, key := range []string{"1ABC", "WITH-DASH", "dot.key", strings.Repeat("K", 256)} {
		rec := e.do(http.MethodPut, cfgPath+"/"+key, e.developer, map[string]any{"value": "x"})
		wantError(t, rec, http.StatusUnprocessableEntity, "invalid", "key")
	}
	wantError(t, e.do(http.MethodPut, cfgPath+"/A", e.developer, map[string]any{"secret": true}), http.StatusUnprocessableEntity, "invalid", "value")
	wantError(t, e.do(http.MethodPut, cfgPath+"/A", e.developer, map[string]any{"value": strings.Repeat("v", 64<<10+1)}), http.StatusUnprocessableEntity, "invalid", "value")
	wantError(t, e.do(http.MethodPut, cfgPath+"/A", e.developer, map[string]any{"value": "a\x00b"}), http.StatusUnprocessableEntity, "invalid", "value")
	wantError(t, e.do(http.MethodPut, cfgPath+"/A", e.developer, map[string]any{"value": 3}), http.StatusUnprocessableEntity, "invalid", "value")
	wantError(t, e.do(http.MethodPut, cfgPath+"/A", e.developer, map[string]any{"value": "x", "secert": true}), http.StatusBadRequest, "unknown_field", "secert")
	e.must(http.StatusCreated, http.MethodPut, cfgPath+"/A", e.developer, map[string]any{"value": strings.Repeat("v", 64<<10)}, nil)
	wantError(t, e.do(http.MethodDelete, cfgPath+"/bad-key", e.developer, nil), http.StatusUnprocessableEntity, "invalid", "key")

	missing := []string{
		"/api/v1/projects/nope/components/api/environments/development/configs",
		"/api/v1/projects/shop/components/nope/environments/development/configs",
		"/api/v1/projects/shop/components/api/environments/nope/configs",
	}
	for _, p := range missing {
		wantError(t, e.do(http.MethodGet, p, e.viewer, nil), http.StatusNotFound, "not_found", "")
		wantError(t, e.do(http.MethodPut, p+"/B", e.developer, map[string]any{"value": "x"}), http.StatusNotFound, "not_found", "")
		wantError(t, e.do(http.MethodDelete, p+"/A", e.developer, nil), http.StatusNotFound, "not_found", "")
	}
	wantError(t, e.do(http.MethodDelete, cfgPath+"/NOT_SET", e.developer, nil), http.StatusNotFound, "not_found", "")

	var list api.Page[api.Config]
	e.must(http.StatusOK, http.MethodGet, cfgPath, e.viewer, nil, &list)
	if len(list.Items) != 1 || list.Items[0].Key != "A" {
		t.Errorf("after errors the configs are %+v, want only A", list.Items)
	}
}

func TestDeleteConfig(t *testing.T) {
	e := configEnv(t)
	e.must(http.StatusCreated, http.MethodPut, cfgPath+"/A", e.developer, map[string]any{"value": "1"}, nil)
	e.must(http.StatusCreated, http.MethodPut, cfgPath+"/B", e.developer, map[string]any{"value": "2", "secret": true}, nil)
	e.must(http.StatusNoContent, http.MethodDelete, cfgPath+"/B", e.developer, nil, nil)
	var list api.Page[api.Config]
	e.must(http.StatusOK, http.MethodGet, cfgPath, e.viewer, nil, &list)
	if len(list.Items) != 1 || list.Items[0].Key != "A" {
		t.Errorf("after delete %+v, want only A", list.Items)
	}
	wantError(t, e.do(http.MethodDelete, cfgPath+"/B", e.developer, nil), http.StatusNotFound, "not_found", "")
}
