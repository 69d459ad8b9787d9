package imagepush

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/slipway-dev/slipway/ociregistry"
)

// testRegistry is slipway's embedded registry behind a handler that counts requests by kind
// (see requestKind), can demand basic auth, and lets a test answer requests itself.
type testRegistry struct {
	// Host is the registry's "127.0.0.1:port".
	Host string

	mu     sync.Mutex
	counts map[string]int
	// user and password, when user is set, are demanded as basic auth on every request.
	user, password string
	// intercept, when set, sees each request first; it returns true when it answered it.
	intercept func(w http.ResponseWriter, r *http.Request, kind string) bool
}

type registryOption func(*testRegistry)

func requireBasicAuth(user, password string) registryOption {
	return func(r *testRegistry) { r.user, r.password = user, password }
}

func intercept(f func(w http.ResponseWriter, r *http.Request, kind string) bool) registryOption {
	return func(r *testRegistry) { r.intercept = f }
}

func newTestRegistry(t *testing.T, opts ...registryOption) *testRegistry {
	t.Helper()
	reg, err := ociregistry.Open(t.TempDir(), nil)
	if err != nil {
		t.Fatalf("opening registry: %v", err)
	}
	tr := &testRegistry{counts: map[string]int{}}
	for _, o := range opts {
		o(tr)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		kind := requestKind(r)
		tr.mu.Lock()
		tr.counts[kind]++
		tr.mu.Unlock()
		if tr.user != "" {
			if u, p, ok := r.BasicAuth(); !ok || u != tr.user || p != tr.password {
				w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
				registryError(w, http.StatusUnauthorized, "UNAUTHORIZED", "authentication required")
				return
			}
		}
		if tr.intercept != nil && tr.intercept(w, r, kind) {
			return
		}
		reg.ServeHTTP(w, r)
	}))
	t.Cleanup(func() { srv.Close(); reg.Close() })
	tr.Host = strings.TrimPrefix(srv.URL, "http://")
	return tr
}

// requestKind names a distribution API request: "ping", "upload POST|PATCH|PUT" (a blob upload),
// "blob HEAD|GET", "manifest HEAD|GET|PUT".
func requestKind(r *http.Request) string {
	p := r.URL.Path
	switch {
	case p == "/v2/" || p == "/v2":
		return "ping"
	case strings.Contains(p, "/blobs/uploads"):
		return "upload " + r.Method
	case strings.Contains(p, "/blobs/"):
		return "blob " + r.Method
	case strings.Contains(p, "/manifests/"):
		return "manifest " + r.Method
	}
	return "other " + r.Method
}

func registryError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"errors":[{"code":%q,"message":%q}]}`, code, msg)
}

// count returns how many requests of kind arrived.
func (r *testRegistry) count(kind string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.counts[kind]
}

// total returns how many requests arrived.
func (r *testRegistry) total() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, c := range r.counts {
		n += c
	}
	return n
}

// uploads returns how many blob upload requests (POST, PATCH, PUT) arrived.
func (r *testRegistry) uploads() int {
	return r.count("upload POST") + r.count("upload PATCH") + r.count("upload PUT")
}

// reset forgets the counts so far.
func (r *testRegistry) reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.counts = map[string]int{}
}

func (r *testRegistry) String() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return fmt.Sprint(r.counts)
}

// ociImage returns a random image with OCI media types, as BuildKit's OCI exporter writes.
func ociImage(t *testing.T, layerSizes ...int64) v1.Image {
	t.Helper()
	img := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	for _, n := range layerSizes {
		l, err := random.Layer(n, types.OCILayer)
		if err != nil {
			t.Fatal(err)
		}
		if img, err = mutate.AppendLayers(img, l); err != nil {
			t.Fatal(err)
		}
	}
	return img
}

// writeLayout writes an OCI layout holding img (a v1.Image or v1.ImageIndex) the way BuildKit's
// OCI exporter does: index.json with one manifest, blobs under blobs/sha256.
func writeLayout(t *testing.T, img any) string {
	t.Helper()
	dir := t.TempDir()
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	ann := layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": "latest"})
	switch img := img.(type) {
	case v1.Image:
		err = p.AppendImage(img, ann)
	case v1.ImageIndex:
		err = p.AppendIndex(img, ann)
	default:
		t.Fatalf("writeLayout(%T)", img)
	}
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// imageSize is the manifest, config and layer sizes of img.
func imageSize(t *testing.T, img v1.Image) int64 {
	t.Helper()
	m, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	n, err := img.Size()
	if err != nil {
		t.Fatal(err)
	}
	n += m.Config.Size
	for _, l := range m.Layers {
		n += l.Size
	}
	return n
}

func digestOf(t *testing.T, d interface{ Digest() (v1.Hash, error) }) string {
	t.Helper()
	h, err := d.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return h.String()
}
