package trivydb

import (
	"context"
	"fmt"
	"os"
	"slices"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// SchemaVersion is the Trivy DB schema Push publishes: metadata.json's Version, and the tag Trivy
// asks for when --db-repository names no tag.
const SchemaVersion = 2

// DefaultRepository and DefaultTag are where slipway keeps the DB inside its registry:
// <registry>/trivy/db:2, which Trivy reads with --db-repository <registry>/trivy/db:2.
const (
	DefaultRepository = "trivy/db"
	DefaultTag        = "2"
)

// DefaultReference is DefaultRepository:DefaultTag in registry (host:port); name.Insecure allows
// plain HTTP.
func DefaultReference(registry string, opts ...name.Option) (name.Tag, error) {
	return name.NewTag(registry+"/"+DefaultRepository+":"+DefaultTag, opts...)
}

// Push publishes the Trivy DB in dir (trivy.db and metadata.json) to ref as the single-layer
// artifact Trivy downloads with --db-repository, and returns the manifest digest. ref carries the
// tag; Trivy expects DefaultTag. opts configure go-containerregistry's remote (auth, transport);
// Push adds ctx. A dir missing either file, or whose metadata.json Version is not SchemaVersion, is
// refused with an *InvalidDBError before anything is sent.
func Push(ctx context.Context, dir string, ref name.Reference, opts ...remote.Option) (v1.Hash, error) {
	meta, err := readDir(dir)
	if err != nil {
		return v1.Hash{}, err
	}
	f, err := os.CreateTemp("", "trivydb-*.tar.gz")
	if err != nil {
		return v1.Hash{}, err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	img, err := pack(dir, meta, f)
	if err != nil {
		return v1.Hash{}, err
	}
	if err := remote.Write(ref, img, append(slices.Clip(opts), remote.WithContext(ctx))...); err != nil {
		return v1.Hash{}, fmt.Errorf("pushing %s: %w", ref, err)
	}
	return img.Digest()
}
