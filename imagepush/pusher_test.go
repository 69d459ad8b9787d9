package imagepush

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

const commit = "0123456789abcdef0123456789abcdef01234567"

func TestPushThenPullByDigestAndTag(t *testing.T) {
	reg := newTestRegistry(t)
	img := ociImage(t, 3000, 2000)
	dir := writeLayout(t, img)
	repo := reg.Host + "/shop/api"

	res, err := New().Push(context.Background(), dir, repo, []string{commit, "latest"})
	if err != nil {
		t.Fatalf("Push: %v", err)
	}
	want := digestOf(t, img)
	if res.Digest != want {
		t.Errorf("Digest = %s, want %s", res.Digest, want)
	}
	if res.Reference != repo+"@"+want {
		t.Errorf("Reference = %s, want %s@%s", res.Reference, repo, want)
	}
	if got := imageSize(t, img); res.Size != got {
		t.Errorf("Size = %d, want %d (manifest + config + layers)", res.Size, got)
	}
	if res.MediaType != string(types.OCIManifestSchema1) {
		t.Errorf("MediaType = %s, want %s", res.MediaType, types.OCIManifestSchema1)
	}

	ref, _ := name.NewDigest(res.Reference)
	pulled, err := remote.Image(ref)
	if err != nil {
		t.Fatalf("pull by digest: %v", err)
	}
	if got := digestOf(t, pulled); got != want {
		t.Errorf("pulled digest = %s, want %s", got, want)
	}
	layers, _ := pulled.Layers()
	wantLayers, _ := img.Layers()
	if len(layers) != len(wantLayers) {
		t.Fatalf("pulled %d layers, want %d", len(layers), len(wantLayers))
	}
	for i, l := range layers {
		rc, err := l.Compressed()
		if err != nil {
			t.Fatalf("layer %d: %v", i, err)
		}
		rc.Close()
		if digestOf(t, l) != digestOf(t, wantLayers[i]) {
			t.Errorf("layer %d digest differs", i)
		}
	}
	for _, tag := range []string{commit, "latest"} {
		tagRef, _ := name.NewTag(repo + ":" + tag)
		desc, err := remote.Head(tagRef)
		if err != nil {
			t.Fatalf("HEAD %s: %v", tagRef, err)
		}
		if desc.Digest.String() != want {
			t.Errorf("tag %s points to %s, want %s", tag, desc.Digest, want)
		}
	}
}

func TestPushIndexLayout(t *testing.T) {
	reg := newTestRegistry(t)
	amd, arm := ociImage(t, 1000), ociImage(t, 1200, 800)
	idx := mutate.IndexMediaType(mutate.AppendManifests(empty.Index,
		mutate.IndexAddendum{Add: amd, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}},
		mutate.IndexAddendum{Add: arm, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "arm64"}}},
	), types.OCIImageIndex)
	dir := writeLayout(t, idx)
	repo := reg.Host + "/shop/multi"

	res, err := New().Push(context.Background(), dir, repo, []string{commit})
	if err != nil {
		t.Fatalf("Push: %v", err)
	}
	want := digestOf(t, idx)
	if res.Digest != want || res.MediaType != string(types.OCIImageIndex) {
		t.Errorf("Result = %+v, want digest %s of an OCI index", res, want)
	}
	idxSize, _ := idx.Size()
	// Both images share the empty config of mutate.ConfigMediaType(empty.Image): counted once.
	wantSize := idxSize + imageSize(t, amd) + imageSize(t, arm)
	if m1, m2 := mustManifest(t, amd), mustManifest(t, arm); m1.Config.Digest == m2.Config.Digest {
		wantSize -= m1.Config.Size
	}
	if res.Size != wantSize {
		t.Errorf("Size = %d, want %d", res.Size, wantSize)
	}

	ref, _ := name.NewDigest(res.Reference)
	pulled, err := remote.Index(ref)
	if err != nil {
		t.Fatalf("pull index by digest: %v", err)
	}
	im, _ := pulled.IndexManifest()
	for _, d := range im.Manifests {
		child, err := pulled.Image(d.Digest)
		if err != nil {
			t.Fatalf("child %s: %v", d.Digest, err)
		}
		ls, _ := child.Layers()
		for _, l := range ls {
			rc, err := l.Compressed()
			if err != nil {
				t.Fatalf("child %s layer: %v", d.Digest, err)
			}
			rc.Close()
		}
	}
	tagRef, _ := name.NewTag(repo + ":" + commit)
	if desc, err := remote.Head(tagRef); err != nil || desc.Digest.String() != want {
		t.Errorf("tag: %v, %v; want %s", desc, err, want)
	}
}

func mustManifest(t *testing.T, img v1.Image) *v1.Manifest {
	t.Helper()
	m, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestSecondPushUploadsNoBlob(t *testing.T) {
	reg := newTestRegistry(t)
	dir := writeLayout(t, ociImage(t, 4000, 3000))
	repo := reg.Host + "/shop/api"
	first, err := New().Push(context.Background(), dir, repo, []string{commit})
	if err != nil {
		t.Fatalf("first push: %v", err)
	}
	if reg.uploads() == 0 {
		t.Fatalf("first push uploaded nothing: %v", reg)
	}

	reg.reset()
	second, err := New().Push(context.Background(), dir, repo, []string{commit})
	if err != nil {
		t.Fatalf("second push: %v", err)
	}
	t.Logf("second push requests: %v", reg)
	if second != first {
		t.Errorf("second Result = %+v, want %+v", second, first)
	}
	if n := reg.uploads(); n != 0 {
		t.Errorf("second push made %d blob upload requests, want 0: %v", n, reg)
	}
	if n := reg.count("manifest PUT"); n != 0 {
		t.Errorf("second push PUT %d manifests, want 0 (digest and tag already there): %v", n, reg)
	}
	if reg.count("manifest HEAD") == 0 {
		t.Errorf("second push asked nothing: %v", reg)
	}
}

// A push that failed after its blobs were uploaded, as Temporal would retry it: the retry HEADs
// the blobs, uploads none, and PUTs the manifest. The failing manifest PUT is answered once: the
// 500 is not retried inside Push.
func TestRetryAfterFailedManifestPutUploadsNoBlob(t *testing.T) {
	var mu sync.Mutex
	failing := true
	reg := newTestRegistry(t, intercept(func(w http.ResponseWriter, r *http.Request, kind string) bool {
		mu.Lock()
		defer mu.Unlock()
		if kind == "manifest PUT" && failing {
			registryError(w, http.StatusInternalServerError, "UNKNOWN", "disk full")
			return true
		}
		return false
	}))
	img := ociImage(t, 2000, 1000)
	dir := writeLayout(t, img)
	repo := reg.Host + "/shop/api"

	_, err := New().Push(context.Background(), dir, repo, []string{commit})
	if err == nil {
		t.Fatal("push succeeded while the registry refused manifests")
	}
	if typ, perm := Classify(err); perm {
		t.Errorf("500 classified permanent (%s): %v", typ, err)
	}
	if !strings.Contains(err.Error(), repo) {
		t.Errorf("error %q does not name the repository", err)
	}
	if n := reg.count("manifest PUT"); n != 1 {
		t.Errorf("manifest PUT sent %d times, want 1 (Temporal owns retries)", n)
	}
	if reg.uploads() == 0 {
		t.Fatalf("no blobs uploaded before the manifest: %v", reg)
	}

	mu.Lock()
	failing = false
	mu.Unlock()
	reg.reset()
	res, err := New().Push(context.Background(), dir, repo, []string{commit})
	if err != nil {
		t.Fatalf("retried push: %v", err)
	}
	if n := reg.uploads(); n != 0 {
		t.Errorf("retry made %d blob upload requests, want 0: %v", n, reg)
	}
	if n := reg.count("blob HEAD"); n != 3 {
		t.Errorf("retry HEADed %d blobs, want 3 (config and 2 layers): %v", n, reg)
	}
	if n := reg.count("manifest PUT"); n < 1 {
		t.Errorf("retry PUT no manifest: %v", reg)
	}
	if res.Digest != digestOf(t, img) {
		t.Errorf("Digest = %s, want %s", res.Digest, digestOf(t, img))
	}
}

func TestRegistryAnswering500IsTransient(t *testing.T) {
	reg := newTestRegistry(t, intercept(func(w http.ResponseWriter, r *http.Request, kind string) bool {
		registryError(w, http.StatusInternalServerError, "UNKNOWN", "boom")
		return true
	}))
	dir := writeLayout(t, ociImage(t, 100))
	start := time.Now()
	_, err := New().Push(context.Background(), dir, reg.Host+"/shop/api", []string{commit})
	if err == nil {
		t.Fatal("push to a failing registry succeeded")
	}
	var perr *Error
	if errors.As(err, &perr) {
		t.Errorf("500 returned as permanent %s: %v", perr.Type, err)
	}
	if n := reg.total(); n != 1 {
		t.Errorf("registry saw %d requests, want 1 (no retries inside Push): %v", n, reg)
	}
	// go-containerregistry's own retries would sleep 1 s + 3 s.
	if d := time.Since(start); d > 900*time.Millisecond {
		t.Errorf("Push took %v to fail", d)
	}
}

func TestRegistryAuth(t *testing.T) {
	const user, password = "slipway", "s3cret-Pa55"
	dir := writeLayout(t, ociImage(t, 500))

	for _, tc := range []struct {
		name string
		opts []Option
		ok   bool
	}{
		{"anonymous", nil, false},
		{"wrong password", []Option{WithBasicAuth(user, "wrong-"+password)}, false},
		{"basic auth", []Option{WithBasicAuth(user, password)}, true},
		{"keychain", []Option{WithKeychain(staticKeychain{authn.FromConfig(authn.AuthConfig{Username: user, Password: password})})}, true},
		{"last auth option wins", []Option{WithBasicAuth(user, password), WithBasicAuth("", "")}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reg := newTestRegistry(t, requireBasicAuth(user, password))
			repo := reg.Host + "/shop/api"
			res, err := New(tc.opts...).Push(context.Background(), dir, repo, []string{commit})
			if tc.ok {
				if err != nil {
					t.Fatalf("Push: %v", err)
				}
				if res.Digest == "" {
					t.Fatal("no digest")
				}
				return
			}
			var perr *Error
			if !errors.As(err, &perr) || perr.Type != ErrTypeRegistryAuth {
				t.Fatalf("err = %v, want *Error %s", err, ErrTypeRegistryAuth)
			}
			if typ, perm := Classify(err); !perm || typ != ErrTypeRegistryAuth {
				t.Errorf("Classify = %s, %v", typ, perm)
			}
			if !strings.Contains(err.Error(), repo) {
				t.Errorf("error %q does not name the repository", err)
			}
			if strings.Contains(err.Error(), password) {
				t.Errorf("error %q reveals the password", err)
			}
			if reg.uploads() != 0 {
				t.Errorf("unauthenticated blob uploads reached the registry: %v", reg)
			}
		})
	}
}

type staticKeychain struct{ auth authn.Authenticator }

func (k staticKeychain) Resolve(authn.Resource) (authn.Authenticator, error) { return k.auth, nil }

func TestRegistryForbiddingPushIsAuthRefused(t *testing.T) {
	reg := newTestRegistry(t, intercept(func(w http.ResponseWriter, r *http.Request, kind string) bool {
		if kind == "upload POST" || kind == "manifest PUT" {
			registryError(w, http.StatusForbidden, "DENIED", "read-only token")
			return true
		}
		return false
	}))
	dir := writeLayout(t, ociImage(t, 500))
	_, err := New().Push(context.Background(), dir, reg.Host+"/shop/api", nil)
	if typ, perm := Classify(err); !perm || typ != ErrTypeRegistryAuth {
		t.Fatalf("err = %v (%s, %v), want %s", err, typ, perm, ErrTypeRegistryAuth)
	}
}

func TestNameUnknownIsRejected(t *testing.T) {
	reg := newTestRegistry(t, intercept(func(w http.ResponseWriter, r *http.Request, kind string) bool {
		if kind == "upload POST" {
			registryError(w, http.StatusNotFound, "NAME_UNKNOWN", "repository shop/api does not exist")
			return true
		}
		return false
	}))
	dir := writeLayout(t, ociImage(t, 500))
	_, err := New().Push(context.Background(), dir, reg.Host+"/shop/api", nil)
	if typ, perm := Classify(err); !perm || typ != ErrTypeRegistryRejected {
		t.Fatalf("err = %v (%s, %v), want %s", err, typ, perm, ErrTypeRegistryRejected)
	}
}

func TestCancelStopsPushPromptly(t *testing.T) {
	arrived := make(chan struct{}, 16)
	released := make(chan struct{})
	reg := newTestRegistry(t, intercept(func(w http.ResponseWriter, r *http.Request, kind string) bool {
		if kind != "upload PATCH" {
			return false
		}
		// Take the blob, then hang like a stalled registry until the client goes away (the
		// server notices a closed connection only once the body is read) or the test ends.
		_, _ = io.Copy(io.Discard, r.Body)
		arrived <- struct{}{}
		select {
		case <-r.Context().Done():
		case <-released:
		}
		return true
	}))
	t.Cleanup(func() { close(released) }) // runs before the registry's cleanup closes the server
	dir := writeLayout(t, ociImage(t, 1<<20))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errc := make(chan error, 1)
	go func() {
		_, err := New().Push(ctx, dir, reg.Host+"/shop/api", []string{commit})
		errc <- err
	}()
	select {
	case <-arrived:
	case err := <-errc:
		t.Fatalf("Push returned before uploading: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("no upload reached the registry")
	}
	cancel()
	select {
	case err := <-errc:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v, want context.Canceled", err)
		}
		if _, perm := Classify(err); perm {
			t.Errorf("cancellation classified permanent: %v", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Push still running 2 s after cancel")
	}
}

func TestCancelledContextSendsNothing(t *testing.T) {
	reg := newTestRegistry(t)
	dir := writeLayout(t, ociImage(t, 100))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := New().Push(ctx, dir, reg.Host+"/shop/api", nil)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if reg.uploads() != 0 || reg.count("manifest PUT") != 0 {
		t.Errorf("cancelled push wrote to the registry: %v", reg)
	}
}

// A connection dropped before the registry answers is retried once, in Push.
func TestDroppedConnectionIsRetriedOnce(t *testing.T) {
	for _, tc := range []struct {
		name  string
		drops int
		ok    bool
	}{
		{"dropped once", 1, true},
		{"dropped every time", 1 << 30, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			dropped := 0
			reg := newTestRegistry(t, intercept(func(w http.ResponseWriter, r *http.Request, kind string) bool {
				mu.Lock()
				defer mu.Unlock()
				if kind != "upload POST" || dropped >= tc.drops {
					return false
				}
				dropped++
				conn, _, err := w.(http.Hijacker).Hijack()
				if err != nil {
					t.Errorf("hijack: %v", err)
					return false
				}
				conn.Close()
				return true
			}))
			img := ociImage(t, 700)
			dir := writeLayout(t, img)
			res, err := New(WithTransport(&http.Transport{DisableKeepAlives: true})).Push(context.Background(), dir, reg.Host+"/shop/api", nil)
			if tc.ok {
				if err != nil {
					t.Fatalf("Push: %v", err)
				}
				if res.Digest != digestOf(t, img) {
					t.Errorf("Digest = %s", res.Digest)
				}
				return
			}
			if err == nil {
				t.Fatal("Push succeeded through a registry dropping every upload")
			}
			if _, perm := Classify(err); perm {
				t.Errorf("dropped connection classified permanent: %v", err)
			}
			// Two blobs (config, layer), each tried at most twice.
			if n := reg.count("upload POST"); n > 4 {
				t.Errorf("%d upload POSTs, want at most 4", n)
			}
		})
	}
}

func TestProgress(t *testing.T) {
	reg := newTestRegistry(t)
	img := ociImage(t, 256<<10, 128<<10)
	dir := writeLayout(t, img)
	type key struct{}
	ctx := context.WithValue(context.Background(), key{}, "activity")
	var mu sync.Mutex
	var calls int
	var last [2]int64
	p := New(WithProgress(func(ctx context.Context, done, total int64) {
		mu.Lock()
		defer mu.Unlock()
		if ctx.Value(key{}) != "activity" {
			t.Error("progress got another context than Push's")
		}
		if done > total {
			t.Errorf("progress done %d > total %d", done, total)
		}
		calls++
		last = [2]int64{done, total}
	}))
	if _, err := p.Push(ctx, dir, reg.Host+"/shop/api", []string{commit}); err != nil {
		t.Fatalf("Push: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if calls == 0 {
		t.Fatal("progress never called")
	}
	if last[0] != last[1] || last[1] < 384<<10 {
		t.Errorf("last progress = %d/%d, want all of at least %d bytes", last[0], last[1], 384<<10)
	}
}

func TestInsecureRegistries(t *testing.T) {
	reg := newTestRegistry(t)
	dir := writeLayout(t, ociImage(t, 300))
	// A name that is neither loopback nor private, so go-containerregistry would insist on TLS,
	// dialled to the test registry.
	const host = "registry.example.test:5000"
	dial := func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, reg.Host)
	}
	for _, tc := range []struct {
		name string
		opts []Option
		ok   bool
	}{
		{"TLS required", nil, false},
		{"other host insecure", []Option{WithInsecureRegistries("other.test:5000")}, false},
		{"host insecure", []Option{WithInsecureRegistries(host)}, true},
		{"all insecure", []Option{WithAllInsecure()}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := append([]Option{WithTransport(&http.Transport{DialContext: dial})}, tc.opts...)
			_, err := New(opts...).Push(context.Background(), dir, host+"/shop/api", []string{commit})
			if tc.ok && err != nil {
				t.Fatalf("Push: %v", err)
			}
			if !tc.ok && err == nil {
				t.Fatal("Push over plain HTTP succeeded without being allowed")
			}
		})
	}
}

func TestInvalidReference(t *testing.T) {
	reg := newTestRegistry(t)
	dir := writeLayout(t, ociImage(t, 100))
	for _, tc := range []struct {
		name, repo string
		tags       []string
	}{
		{"no registry host", "shop/api", nil},
		{"upper case", reg.Host + "/Shop/API", nil},
		{"tag in repository", reg.Host + "/shop/api:v1", nil},
		{"empty", "", nil},
		{"bad tag", reg.Host + "/shop/api", []string{"not a tag"}},
		{"empty tag", reg.Host + "/shop/api", []string{""}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New().Push(context.Background(), dir, tc.repo, tc.tags)
			if typ, perm := Classify(err); !perm || typ != ErrTypeInvalidReference {
				t.Fatalf("err = %v (%s, %v), want %s", err, typ, perm, ErrTypeInvalidReference)
			}
		})
	}
	if n := reg.total(); n != 0 {
		t.Errorf("invalid references reached the registry: %v", reg)
	}
}
