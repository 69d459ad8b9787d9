package imagepush

import (
	"context"
	"errors"
	"fmt"
	"io/fs"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// Fetch writes the image (or image index) that Push left at repository@digest into a new OCI layout
// at layoutDir, as a build leaves it: index.json listing that one manifest, every blob it references
// under blobs/. layoutDir must not exist or be empty. It talks to the registry as Push does (the same
// credentials, transport and plain-HTTP rules), so what a Pusher pushed it can read back; manifests
// and blobs are checked against their digests as they arrive.
//
// Like Push it leaves retries to the caller. Errors that retrying cannot fix are *Error: an invalid
// repository or digest (ErrTypeInvalidReference) or credentials refused (ErrTypeRegistryAuth).
// Everything else (unreachable registry, 5xx, a manifest or blob the registry does not have,
// cancellation, a full disk) is a plain wrapped error. On error layoutDir may hold part of the
// image: the caller removes it.
func (p *Pusher) Fetch(ctx context.Context, repository, digest, layoutDir string) (Result, error) {
	repo, _, err := p.references(repository, nil)
	if err != nil {
		return Result{}, err
	}
	ref, err := name.NewDigest(repo.Name()+"@"+digest, name.StrictValidation)
	if err != nil {
		return Result{}, permanentf(ErrTypeInvalidReference, "fetching %s@%s: %w", repository, digest, err)
	}
	ref = repo.Digest(ref.DigestStr()) // keep repo's insecure flag, which NewDigest did not see
	opts := append(p.remoteOptions(ctx), retryOptions()...)
	desc, err := remote.Get(ref, opts...)
	if err != nil {
		return Result{}, classify("fetching "+ref.Name(), err)
	}
	lp, err := layout.Write(layoutDir, empty.Index)
	if err != nil {
		return Result{}, fmt.Errorf("fetching %s: writing the layout: %w", ref.Name(), err)
	}
	switch {
	case desc.MediaType.IsImage():
		img, err := desc.Image()
		if err == nil {
			err = lp.AppendImage(img)
		}
		if err != nil {
			return Result{}, fetchError(ref, err)
		}
	case desc.MediaType.IsIndex():
		idx, err := desc.ImageIndex()
		if err == nil {
			err = lp.AppendIndex(idx)
		}
		if err != nil {
			return Result{}, fetchError(ref, err)
		}
	default:
		return Result{}, fmt.Errorf("fetching %s: media type %q is neither an image nor an image index", ref.Name(), desc.MediaType)
	}
	// The layout is checked as Push checks it, which also sums its size.
	art, err := readLayout(layoutDir)
	if err != nil {
		return Result{}, fmt.Errorf("fetching %s: %w", ref.Name(), err)
	}
	return Result{Digest: art.digest.String(), Reference: ref.Name(), Size: art.size, MediaType: string(art.mediaType)}, nil
}

// fetchError is err from copying ref's blobs into a layout: a registry's answer classified as Push's
// are, a local file error (the disk, not the registry) as transient.
func fetchError(ref name.Digest, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("fetching %s: writing the layout: %w", ref.Name(), err)
	}
	return classify("fetching "+ref.Name(), err)
}
