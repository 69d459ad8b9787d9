package trivydb

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// emptyConfigDigest is the digest of "{}", the OCI empty descriptor's.
const emptyConfigDigest = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"

// serveRegistry starts an in-memory registry and returns its host:port.
func serveRegistry(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// writeDB writes a stand-in trivy.db and a metadata.json of version, updated at updated, to dir.
func writeDB(t *testing.T, dir string, version int, updated time.Time) {
	t.Helper()
	meta, err := json.Marshal(map[string]any{"Version": version, "UpdatedAt": updated, "NextUpdate": updated.Add(24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, DBFile), []byte("not really bolt, but bytes to carry"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, MetadataFile), meta, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestPushArtifactShape(t *testing.T) {
	dir := t.TempDir()
	updated := time.Date(2026, 11, 1, 6, 0, 0, 0, time.UTC)
	writeDB(t, dir, SchemaVersion, updated)
	ref, err := DefaultReference(serveRegistry(t), name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	digest, err := Push(t.Context(), dir, ref)
	if err != nil {
		t.Fatalf("Push: %v", err)
	}

	desc, err := remote.Get(ref)
	if err != nil {
		t.Fatalf("getting %s: %v", ref, err)
	}
	if desc.Digest != digest {
		t.Errorf("Push returned %s, registry holds %s", digest, desc.Digest)
	}
	var m v1.Manifest
	if err := json.Unmarshal(desc.Manifest, &m); err != nil {
		t.Fatal(err)
	}
	if m.MediaType != types.OCIManifestSchema1 || desc.MediaType != types.OCIManifestSchema1 {
		t.Errorf("manifest media type %q (served as %q), want %q", m.MediaType, desc.MediaType, types.OCIManifestSchema1)
	}
	if m.ArtifactType != "application/vnd.aquasec.trivy.config.v1+json" {
		t.Errorf("artifactType %q", m.ArtifactType)
	}
	if m.Config.MediaType != types.OCIEmptyJSON || m.Config.Digest.String() != emptyConfigDigest || m.Config.Size != 2 {
		t.Errorf("config %+v, want the OCI empty descriptor", m.Config)
	}
	if got := m.Annotations["org.opencontainers.image.created"]; got != "2026-11-01T06:00:00Z" {
		t.Errorf("created annotation %q, want metadata.json's UpdatedAt", got)
	}
	if len(m.Layers) != 1 {
		t.Fatalf("%d layers, want 1: %s", len(m.Layers), desc.Manifest)
	}
	l := m.Layers[0]
	if l.MediaType != "application/vnd.aquasec.trivy.db.layer.v1.tar+gzip" {
		t.Errorf("layer media type %q", l.MediaType)
	}
	if got := l.Annotations["org.opencontainers.image.title"]; got != "db.tar.gz" {
		t.Errorf("layer title %q, want db.tar.gz", got)
	}

	cfg, err := remote.Layer(ref.Context().Digest(emptyConfigDigest))
	if err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, cfg.Compressed); string(got) != "{}" {
		t.Errorf("config blob %q, want {}", got)
	}
	layer, err := remote.Layer(ref.Context().Digest(l.Digest.String()))
	if err != nil {
		t.Fatal(err)
	}
	files := untarGz(t, readAll(t, layer.Compressed))
	for _, f := range []string{DBFile, MetadataFile} {
		want, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(files[f], want) {
			t.Errorf("db.tar.gz %s = %q, want %q", f, files[f], want)
		}
	}
	if len(files) != 2 {
		t.Errorf("db.tar.gz holds %d files, want trivy.db and metadata.json only", len(files))
	}

	again, err := Push(t.Context(), dir, ref)
	if err != nil {
		t.Fatalf("second Push: %v", err)
	}
	if again != digest {
		t.Errorf("pushing the same DB again gave %s, first %s", again, digest)
	}
}

func TestPushRefusesInvalidDir(t *testing.T) {
	updated := time.Now().UTC()
	tests := []struct {
		name    string
		prepare func(t *testing.T, dir string)
		file    string
		want    string
	}{
		{"no trivy.db", func(t *testing.T, dir string) { os.Remove(filepath.Join(dir, DBFile)) }, DBFile, "no such file"},
		{"empty trivy.db", func(t *testing.T, dir string) {
			if err := os.WriteFile(filepath.Join(dir, DBFile), nil, 0o644); err != nil {
				t.Fatal(err)
			}
		}, DBFile, "empty"},
		{"trivy.db a directory", func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, DBFile))
			if err := os.Mkdir(filepath.Join(dir, DBFile), 0o755); err != nil {
				t.Fatal(err)
			}
		}, DBFile, "not a regular file"},
		{"no metadata.json", func(t *testing.T, dir string) { os.Remove(filepath.Join(dir, MetadataFile)) }, MetadataFile, "no such file"},
		{"metadata.json not JSON", func(t *testing.T, dir string) {
			if err := os.WriteFile(filepath.Join(dir, MetadataFile), []byte("{"), 0o644); err != nil {
				t.Fatal(err)
			}
		}, MetadataFile, "parsing"},
		{"schema 1", func(t *testing.T, dir string) { writeDB(t, dir, 1, updated) }, MetadataFile, "schema Version 1, want 2"},
		{"schema 3", func(t *testing.T, dir string) { writeDB(t, dir, 3, updated) }, MetadataFile, "schema Version 3, want 2"},
		{"no Version", func(t *testing.T, dir string) {
			if err := os.WriteFile(filepath.Join(dir, MetadataFile), []byte(`{"UpdatedAt":"2026-11-01T00:00:00Z"}`), 0o644); err != nil {
				t.Fatal(err)
			}
		}, MetadataFile, "schema Version 0, want 2"},
	}
	var requests atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		http.Error(w, "unexpected", http.StatusTeapot)
	}))
	t.Cleanup(srv.Close)
	ref, err := DefaultReference(strings.TrimPrefix(srv.URL, "http://"), name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeDB(t, dir, SchemaVersion, updated)
			tt.prepare(t, dir)
			_, err := Push(t.Context(), dir, ref)
			var invalid *InvalidDBError
			if !errors.As(err, &invalid) {
				t.Fatalf("Push = %v, want an *InvalidDBError", err)
			}
			if want := filepath.Join(dir, tt.file); invalid.Path != want {
				t.Errorf("error names %s, want %s", invalid.Path, want)
			}
			if msg := err.Error(); !strings.Contains(msg, tt.file) || !strings.Contains(msg, tt.want) {
				t.Errorf("error %q should name %s and say %q", msg, tt.file, tt.want)
			}
		})
	}
	if n := requests.Load(); n != 0 {
		t.Errorf("refused pushes sent %d requests to the registry, want none", n)
	}
}

func TestDefaultReference(t *testing.T) {
	ref, err := DefaultReference("127.0.0.1:5000")
	if err != nil {
		t.Fatal(err)
	}
	if got := ref.String(); got != "127.0.0.1:5000/trivy/db:2" {
		t.Errorf("DefaultReference = %s", got)
	}
}

func readAll(t *testing.T, open func() (io.ReadCloser, error)) []byte {
	t.Helper()
	rc, err := open()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// untarGz returns the regular files of a gzipped tar by name.
func untarGz(t *testing.T, b []byte) map[string][]byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	files := map[string][]byte{}
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return files
		}
		if err != nil {
			t.Fatal(err)
		}
		if files[h.Name], err = io.ReadAll(tr); err != nil {
			t.Fatal(err)
		}
	}
}
