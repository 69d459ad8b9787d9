package imagepush

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
)

func blobPath(dir string, h v1.Hash) string {
	return filepath.Join(dir, "blobs", h.Algorithm, h.Hex)
}

// corrupt rewrites the blob h in the layout at dir with f applied to its content.
func corrupt(t *testing.T, dir string, h v1.Hash, f func([]byte) []byte) {
	t.Helper()
	p := blobPath(dir, h)
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, f(b), 0o644); err != nil {
		t.Fatal(err)
	}
}

func flipFirstByte(b []byte) []byte { b[0] ^= 0xff; return b }

func TestInvalidLayoutIsPermanent(t *testing.T) {
	img := ociImage(t, 2000)
	m := mustManifest(t, img)
	imgDigest, _ := img.Digest()

	for _, tc := range []struct {
		name  string
		setup func(t *testing.T) string
	}{
		{"missing directory", func(t *testing.T) string { return filepath.Join(t.TempDir(), "nope") }},
		{"no index.json", func(t *testing.T) string { return t.TempDir() }},
		{"index.json not JSON", func(t *testing.T) string {
			dir := writeLayout(t, img)
			if err := os.WriteFile(filepath.Join(dir, "index.json"), []byte("{oops"), 0o644); err != nil {
				t.Fatal(err)
			}
			return dir
		}},
		{"no manifest", func(t *testing.T) string {
			dir := t.TempDir()
			if _, err := layout.Write(dir, empty.Index); err != nil {
				t.Fatal(err)
			}
			return dir
		}},
		{"two manifests", func(t *testing.T) string {
			dir := writeLayout(t, img)
			p, _ := layout.FromPath(dir)
			if err := p.AppendImage(ociImage(t, 10)); err != nil {
				t.Fatal(err)
			}
			return dir
		}},
		{"manifest blob missing", func(t *testing.T) string {
			dir := writeLayout(t, img)
			os.Remove(blobPath(dir, imgDigest))
			return dir
		}},
		{"manifest blob altered", func(t *testing.T) string {
			dir := writeLayout(t, img)
			corrupt(t, dir, imgDigest, func(b []byte) []byte { return append(b, ' ') })
			return dir
		}},
		{"config blob altered", func(t *testing.T) string {
			dir := writeLayout(t, img)
			corrupt(t, dir, m.Config.Digest, flipFirstByte)
			return dir
		}},
		{"layer blob missing", func(t *testing.T) string {
			dir := writeLayout(t, img)
			os.Remove(blobPath(dir, m.Layers[0].Digest))
			return dir
		}},
		{"layer blob truncated", func(t *testing.T) string {
			dir := writeLayout(t, img)
			corrupt(t, dir, m.Layers[0].Digest, func(b []byte) []byte { return b[:len(b)/2] })
			return dir
		}},
		{"not a manifest", func(t *testing.T) string {
			dir := writeLayout(t, img)
			b, _ := os.ReadFile(filepath.Join(dir, "index.json"))
			b = []byte(strings.Replace(string(b), "application/vnd.oci.image.manifest.v1+json", "application/vnd.oci.image.layer.v1.tar+gzip", 1))
			if err := os.WriteFile(filepath.Join(dir, "index.json"), b, 0o644); err != nil {
				t.Fatal(err)
			}
			return dir
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reg := newTestRegistry(t)
			dir := tc.setup(t)
			_, err := New().Push(context.Background(), dir, reg.Host+"/shop/api", []string{commit})
			if typ, perm := Classify(err); !perm || typ != ErrTypeInvalidLayout {
				t.Fatalf("err = %v (%s, %v), want %s", err, typ, perm, ErrTypeInvalidLayout)
			}
			if !strings.Contains(err.Error(), dir) {
				t.Errorf("error %q does not name the layout", err)
			}
			if n := reg.total(); n != 0 {
				t.Errorf("an invalid layout reached the registry: %v", reg)
			}
		})
	}
}

// A layer whose bytes changed but not its size passes the cheap local checks; the registry
// refuses it for its digest, and that is the layout's fault, not a reason to retry.
func TestCorruptLayerContentIsInvalidLayout(t *testing.T) {
	reg := newTestRegistry(t)
	img := ociImage(t, 2000)
	dir := writeLayout(t, img)
	corrupt(t, dir, mustManifest(t, img).Layers[0].Digest, flipFirstByte)
	repo := reg.Host + "/shop/api"
	_, err := New().Push(context.Background(), dir, repo, []string{commit})
	if typ, perm := Classify(err); !perm || typ != ErrTypeInvalidLayout {
		t.Fatalf("err = %v (%s, %v), want %s", err, typ, perm, ErrTypeInvalidLayout)
	}
	if !strings.Contains(err.Error(), repo) {
		t.Errorf("error %q does not name the repository", err)
	}
	if n := reg.count("manifest PUT"); n != 0 {
		t.Errorf("manifest of a corrupt image was PUT %d times", n)
	}
}
