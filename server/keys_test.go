package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"go.temporal.io/sdk/temporal"

	"github.com/slipway-dev/slipway/activities"
	"github.com/slipway-dev/slipway/api"
	"github.com/slipway-dev/slipway/secretbox"
)

func TestRotateKeysRewrapsEveryValue(t *testing.T) {
	e := configEnv(t)
	before := e.keys.ActiveID()
	for _, k := range []string{"A", "B", "C"} {
		e.must(http.StatusCreated, http.MethodPut, cfgPath+"/"+k, e.developer, map[string]any{"value": "v-" + k, "secret": k == "C"}, nil)
	}

	var r api.Rotation
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
	var list api.Page[api.Config]
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
	var r api.Rotation
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
	var r api.Rotation
	e.must(http.StatusOK, http.MethodPost, "/api/v1/keys/rotate", e.admin, map[string]any{"kek": added}, &r)
	if r.Active != added || e.keys.ActiveID() != added {
		t.Fatalf("rotation %+v, keyring active %q; want %q (was %q)", r, e.keys.ActiveID(), added, before)
	}
	if e.rewraps.Load() != 1 {
		t.Fatalf("Rewrap called %d times, want 1", e.rewraps.Load())
	}
}

// rotateInParallel sends n rotations at once and returns their answers.
func rotateInParallel(e *testEnv, n int) []*httptest.ResponseRecorder {
	recs := make([]*httptest.ResponseRecorder, n)
	var wg sync.WaitGroup
	for i := range recs {
		wg.Go(func() {
			req := httptest.NewRequest(http.MethodPost, "/api/v1/keys/rotate", nil)
			req.Header.Set("Authorization", "Bearer "+e.admin)
			recs[i] = serve(e.h, req)
		})
	}
	wg.Wait()
	return recs
}

// Rotations at the same time, re-wrapped by a worker the way the Temporal path does (the KEK active when the
// re-wrap starts; refused with KeyMismatch when another is active by the time the worker runs): the one whose KEK
// stays active answers 200, each one overtaken 409 rotation_conflict in the JSON error shape, none 500.
func TestConcurrentRotationsConflictInsteadOfFailing(t *testing.T) {
	const n = 5
	var arrived sync.WaitGroup
	arrived.Add(n)
	var e *testEnv
	e = newTestEnv(t, func(d *Deps) {
		d.Rewrap = func(ctx context.Context) (int, error) {
			kek := e.keys.ActiveID()
			arrived.Done()
			arrived.Wait() // every rotation has made its KEK active
			if e.keys.ActiveID() != kek {
				return 0, temporal.NewNonRetryableApplicationError("worker's active KEK is not "+kek, keyMismatchType, nil)
			}
			return e.st.RewrapConfigs(ctx, 2, e.keys.Rewrap)
		}
	})
	e.createProject("shop")
	e.createComponent("shop", "api")
	e.must(http.StatusCreated, http.MethodPut, cfgPath+"/A", e.developer, map[string]any{"value": "x", "secret": true}, nil)

	ok := 0
	for _, rec := range rotateInParallel(e, n) {
		switch rec.Code {
		case http.StatusOK:
			ok++
			var r api.Rotation
			if err := json.Unmarshal(rec.Body.Bytes(), &r); err != nil || r.Active != e.keys.ActiveID() {
				t.Errorf("200 answered %s (%v), active is %s", rec.Body, err, e.keys.ActiveID())
			}
		default:
			apiErr := wantError(t, rec, http.StatusConflict, "rotation_conflict", "")
			if !strings.Contains(apiErr.Message, e.keys.ActiveID()) {
				t.Errorf("conflict %q does not name the active KEK %s", apiErr.Message, e.keys.ActiveID())
			}
		}
	}
	if ok != 1 {
		t.Errorf("%d rotations answered 200, want exactly the last one", ok)
	}
	vals, err := e.st.ListConfigs(context.Background(), "shop", "api", "development")
	if err != nil || len(vals) != 1 || vals[0].Sealed.KEKID != e.keys.ActiveID() {
		t.Fatalf("values %+v (%v), want A wrapped by the active KEK %s", vals, err, e.keys.ActiveID())
	}
}

// The same with the in-process re-wrap: every answer is 200 or 409, and the values end wrapped by the active KEK.
func TestConcurrentRotationsInProcess(t *testing.T) {
	e := newTestEnv(t, func(d *Deps) { d.Rewrap = nil })
	e.createProject("shop")
	e.createComponent("shop", "api")
	for _, k := range []string{"A", "B", "C"} {
		e.must(http.StatusCreated, http.MethodPut, cfgPath+"/"+k, e.developer, map[string]any{"value": "v-" + k}, nil)
	}
	for _, rec := range rotateInParallel(e, 5) {
		if rec.Code != http.StatusOK {
			wantError(t, rec, http.StatusConflict, "rotation_conflict", "")
		}
	}
	vals, err := e.st.ListConfigs(context.Background(), "shop", "api", "development")
	if err != nil || len(vals) != 3 {
		t.Fatalf("values %+v, %v", vals, err)
	}
	for _, v := range vals {
		if v.Sealed.KEKID != e.keys.ActiveID() {
			t.Errorf("%s wrapped by %s, active is %s", v.Key, v.Sealed.KEKID, e.keys.ActiveID())
		}
	}
}

// A worker whose key file does not agree refuses to re-wrap: 409 saying so, not 500.
func TestRotationRefusedByTheWorkerIsAConflict(t *testing.T) {
	e := newTestEnv(t, func(d *Deps) {
		d.Rewrap = func(context.Context) (int, error) {
			return 0, fmt.Errorf("key rotation: %w", temporal.NewNonRetryableApplicationError("worker's active KEK is kek-other", keyMismatchType, nil))
		}
	})
	apiErr := wantError(t, e.do(http.MethodPost, "/api/v1/keys/rotate", e.admin, nil), http.StatusConflict, "rotation_conflict", "")
	if !strings.Contains(apiErr.Message, "same key file") {
		t.Errorf("conflict %q does not say what to do", apiErr.Message)
	}
	if keyMismatchType != activities.ErrTypeKeyMismatch {
		t.Errorf("keyMismatchType %q, the activity's type is %q", keyMismatchType, activities.ErrTypeKeyMismatch)
	}
}
