package imagepush

import (
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// TestFetchWritesWhatPushPushed pushes an image and an index and fetches each back into a layout
// Push itself would push as the same manifest.
func TestFetchWritesWhatPushPushed(t *testing.T) {
	reg := newTestRegistry(t, requireBasicAuth("slipway", "s3cret"))
	p := New(WithBasicAuth("slipway", "s3cret"))
	img := ociImage(t, 3000, 2000)
	idx := mutate.IndexMediaType(mutate.AppendManifests(empty.Index,
		mutate.IndexAddendum{Add: ociImage(t, 1000), Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}},
	), types.OCIImageIndex)
	for _, tc := range []struct {
		name string
		art  any
	}{{"image", img}, {"index", idx}} {
		t.Run(tc.name, func(t *testing.T) {
			repo := reg.Host + "/shop/" + tc.name
			pushed, err := p.Push(context.Background(), writeLayout(t, tc.art), repo, nil)
			if err != nil {
				t.Fatalf("Push: %v", err)
			}
			dir := filepath.Join(t.TempDir(), "layout")
			got, err := p.Fetch(context.Background(), repo, pushed.Digest, dir)
			if err != nil {
				t.Fatalf("Fetch: %v", err)
			}
			if got != pushed {
				t.Errorf("Fetch = %+v, want what Push returned, %+v", got, pushed)
			}
			art, err := readLayout(dir)
			if err != nil || art.digest.String() != pushed.Digest {
				t.Fatalf("fetched layout: %+v, %v; want manifest %s", art, err, pushed.Digest)
			}
		})
	}
}

func TestFetchErrors(t *testing.T) {
	reg := newTestRegistry(t, requireBasicAuth("slipway", "s3cret"))
	good := New(WithBasicAuth("slipway", "s3cret"))
	repo := reg.Host + "/shop/api"
	pushed, err := good.Push(context.Background(), writeLayout(t, ociImage(t, 100)), repo, nil)
	if err != nil {
		t.Fatalf("Push: %v", err)
	}
	missing := "sha256:" + strings.Repeat("0", 64)
	for _, tc := range []struct {
		name         string
		p            *Pusher
		repo, digest string
		typ          string // "" means transient
	}{
		{"unknown digest", good, repo, missing, ""},
		{"wrong password", New(WithBasicAuth("slipway", "wrong")), repo, pushed.Digest, ErrTypeRegistryAuth},
		{"no registry host", good, "shop/api", pushed.Digest, ErrTypeInvalidReference},
		{"not a digest", good, repo, "latest", ErrTypeInvalidReference},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.p.Fetch(context.Background(), tc.repo, tc.digest, filepath.Join(t.TempDir(), "layout"))
			if err == nil {
				t.Fatal("Fetch succeeded")
			}
			typ, permanent := Classify(err)
			if typ != tc.typ || permanent != (tc.typ != "") {
				t.Fatalf("err = %v (%q, permanent %v), want type %q", err, typ, permanent, tc.typ)
			}
			if strings.Contains(err.Error(), "s3cret") || strings.Contains(err.Error(), "wrong") {
				t.Fatalf("err = %v names the credentials", err)
			}
		})
	}
}

func TestFetchUsesTheKeychain(t *testing.T) {
	reg := newTestRegistry(t, requireBasicAuth("slipway", "s3cret"))
	p := New(WithKeychain(staticKeychain{auth: &authn.Basic{Username: "slipway", Password: "s3cret"}}))
	repo := reg.Host + "/shop/api"
	pushed, err := p.Push(context.Background(), writeLayout(t, ociImage(t, 100)), repo, nil)
	if err != nil {
		t.Fatalf("Push: %v", err)
	}
	if _, err := p.Fetch(context.Background(), repo, pushed.Digest, filepath.Join(t.TempDir(), "layout")); err != nil {
		t.Fatalf("Fetch: %v", err)
	}
}

// A blob the registry lost (garbage collection) is transient: the layout may be fetched again later,
// and the caller's retries decide.
func TestFetchOfALostBlobIsTransient(t *testing.T) {
	var lost atomic.Bool
	reg := newTestRegistry(t, intercept(func(w http.ResponseWriter, r *http.Request, kind string) bool {
		if lost.Load() && kind == "blob GET" {
			registryError(w, http.StatusNotFound, "BLOB_UNKNOWN", "blob unknown to registry")
			return true
		}
		return false
	}))
	repo := reg.Host + "/shop/api"
	pushed, err := New().Push(context.Background(), writeLayout(t, ociImage(t, 100)), repo, nil)
	if err != nil {
		t.Fatalf("Push: %v", err)
	}
	lost.Store(true)
	_, err = New().Fetch(context.Background(), repo, pushed.Digest, filepath.Join(t.TempDir(), "layout"))
	if typ, permanent := Classify(err); err == nil || permanent {
		t.Fatalf("err = %v (%q, permanent %v), want a transient error", err, typ, permanent)
	}
	if !strings.Contains(err.Error(), pushed.Digest) {
		t.Fatalf("err = %v does not name the digest", err)
	}
}
