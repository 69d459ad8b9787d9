package trivydb

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// LayerMediaType and ArtifactType are the media types of Trivy's DB artifact: Trivy refuses a layer
// of any other type; the artifact type is what trivy-db's release pushes with
// `oras push --artifact-type`.
const (
	LayerMediaType types.MediaType = "application/vnd.aquasec.trivy.db.layer.v1.tar+gzip"
	ArtifactType   string          = "application/vnd.aquasec.trivy.config.v1+json"
)

const (
	// layerTitle is the name Trivy gives the downloaded layer; its .tar.gz suffix makes Trivy
	// unpack it into <cache-dir>/db.
	layerTitle      = "db.tar.gz"
	titleAnnotation = "org.opencontainers.image.title"
	// createdAnnotation carries metadata.json's UpdatedAt, so a DB always packs to the same digest.
	createdAnnotation = "org.opencontainers.image.created"
)

// emptyConfig is the OCI empty descriptor's content, the config of an artifact that has none.
var emptyConfig = []byte("{}")

// pack writes dir's DB as db.tar.gz to f and returns the artifact holding it as its only layer:
// an OCI image manifest with artifactType ArtifactType, the empty config and the layer titled
// db.tar.gz — the shape `oras push --artifact-type` gives trivy-db's own releases.
func pack(dir string, meta metadata, f *os.File) (v1.Image, error) {
	h := sha256.New()
	n := &countWriter{}
	if err := writeTarGz(io.MultiWriter(f, h, n), dir, meta); err != nil {
		return nil, fmt.Errorf("packing %s: %w", layerTitle, err)
	}
	l := &dbLayer{path: f.Name(), size: n.n,
		digest: v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(h.Sum(nil))}}
	cfg, _, err := v1.SHA256(bytes.NewReader(emptyConfig))
	if err != nil {
		return nil, err
	}
	m := v1.Manifest{
		SchemaVersion: 2,
		MediaType:     types.OCIManifestSchema1,
		ArtifactType:  ArtifactType,
		Config:        v1.Descriptor{MediaType: types.OCIEmptyJSON, Size: int64(len(emptyConfig)), Digest: cfg, Data: emptyConfig},
		Layers: []v1.Descriptor{{MediaType: LayerMediaType, Size: l.size, Digest: l.digest,
			Annotations: map[string]string{titleAnnotation: layerTitle}}},
	}
	if !meta.UpdatedAt.IsZero() {
		m.Annotations = map[string]string{createdAnnotation: meta.UpdatedAt.UTC().Format(time.RFC3339)}
	}
	raw, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	return partial.CompressedToImage(&artifact{layer: l, manifest: raw})
}

// writeTarGz writes trivy.db and metadata.json as a gzipped tar, both at its root, dated
// meta.UpdatedAt. metadata.json is written from meta.raw, the bytes readDir checked.
func writeTarGz(w io.Writer, dir string, meta metadata) error {
	db, err := os.Open(filepath.Join(dir, DBFile))
	if err != nil {
		return err
	}
	defer db.Close()
	fi, err := db.Stat()
	if err != nil {
		return err
	}
	zw := gzip.NewWriter(w)
	tw := tar.NewWriter(zw)
	hdr := func(name string, size int64) *tar.Header {
		return &tar.Header{Name: name, Mode: 0o644, Size: size, ModTime: meta.UpdatedAt, Typeflag: tar.TypeReg, Format: tar.FormatPAX}
	}
	if err := tw.WriteHeader(hdr(DBFile, fi.Size())); err != nil {
		return err
	}
	if _, err := io.Copy(tw, db); err != nil {
		return fmt.Errorf("reading %s: %w", db.Name(), err)
	}
	if err := tw.WriteHeader(hdr(MetadataFile, int64(len(meta.raw)))); err != nil {
		return err
	}
	if _, err := tw.Write(meta.raw); err != nil {
		return err
	}
	return errors.Join(tw.Close(), zw.Close())
}

// artifact is the DB artifact as go-containerregistry's partial.CompressedImageCore.
type artifact struct {
	layer    *dbLayer
	manifest []byte
}

func (a *artifact) RawConfigFile() ([]byte, error)      { return emptyConfig, nil }
func (a *artifact) MediaType() (types.MediaType, error) { return types.OCIManifestSchema1, nil }
func (a *artifact) RawManifest() ([]byte, error)        { return a.manifest, nil }

func (a *artifact) LayerByDigest(h v1.Hash) (partial.CompressedLayer, error) {
	if h != a.layer.digest {
		return nil, fmt.Errorf("the Trivy DB artifact has no layer %s", h)
	}
	return a.layer, nil
}

// dbLayer is db.tar.gz in a file, as partial.CompressedLayer.
type dbLayer struct {
	path   string
	digest v1.Hash
	size   int64
}

func (l *dbLayer) Digest() (v1.Hash, error)            { return l.digest, nil }
func (l *dbLayer) Compressed() (io.ReadCloser, error)  { return os.Open(l.path) }
func (l *dbLayer) Size() (int64, error)                { return l.size, nil }
func (l *dbLayer) MediaType() (types.MediaType, error) { return LayerMediaType, nil }

// countWriter counts the bytes written through it.
type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return len(p), nil
}
