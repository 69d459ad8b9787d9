package imagepush

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// artifact is the one manifest an image layout holds, ready to push.
type artifact struct {
	// manifest is a v1.Image or a v1.ImageIndex read from the layout.
	manifest  remote.Taggable
	digest    v1.Hash
	mediaType types.MediaType
	// size is the sum of the sizes of every distinct manifest, config and distributable layer
	// the manifest references, itself included: what the registry stores for it.
	size int64
}

// readLayout opens the OCI image layout at dir, which must list exactly one manifest in its
// index.json (BuildKit's OCI exporter writes one image, or one index when it adds attestations),
// and checks it before anything is sent: manifests and configs must hash to their digests, and
// every layer blob must be present with its declared size. Layers are not hashed, since that would
// read the whole image a second time; the registry checks their digests as they arrive.
func readLayout(dir string) (artifact, error) {
	lp, err := layout.FromPath(dir)
	if err != nil {
		return artifact{}, invalidLayout(dir, err)
	}
	idx, err := lp.ImageIndex()
	if err != nil {
		return artifact{}, invalidLayout(dir, err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return artifact{}, invalidLayout(dir, fmt.Errorf("parsing index.json: %w", err))
	}
	if len(im.Manifests) != 1 {
		return artifact{}, invalidLayout(dir, fmt.Errorf("index.json lists %d manifests, want exactly 1", len(im.Manifests)))
	}
	desc := im.Manifests[0]
	c := checker{lp: lp, seen: map[v1.Hash]bool{}}
	a := artifact{digest: desc.Digest, mediaType: desc.MediaType}
	switch {
	case desc.MediaType.IsImage():
		img, err := idx.Image(desc.Digest)
		if err == nil {
			err = c.image(desc, img)
		}
		if err != nil {
			return artifact{}, invalidLayout(dir, err)
		}
		a.manifest = img
	case desc.MediaType.IsIndex():
		child, err := idx.ImageIndex(desc.Digest)
		if err == nil {
			err = c.index(desc, child)
		}
		if err != nil {
			return artifact{}, invalidLayout(dir, err)
		}
		a.manifest = child
	default:
		return artifact{}, invalidLayout(dir, fmt.Errorf("manifest %s has media type %q, want an image or an image index", desc.Digest, desc.MediaType))
	}
	a.size = c.size
	return a, nil
}

func invalidLayout(dir string, err error) error {
	return permanentf(ErrTypeInvalidLayout, "reading image layout %s: %w", dir, err)
}

// checker walks a manifest tree in a layout, checking each blob once and summing their sizes.
type checker struct {
	lp   layout.Path
	seen map[v1.Hash]bool
	size int64
}

func (c *checker) image(desc v1.Descriptor, img v1.Image) error {
	raw, err := img.RawManifest()
	if err != nil {
		return err
	}
	if err := c.content(desc, raw, "manifest"); err != nil {
		return err
	}
	m, err := img.Manifest()
	if err != nil {
		return fmt.Errorf("parsing manifest %s: %w", desc.Digest, err)
	}
	cfg, err := img.RawConfigFile()
	if err != nil {
		return fmt.Errorf("config of manifest %s: %w", desc.Digest, err)
	}
	if err := c.content(m.Config, cfg, "config"); err != nil {
		return err
	}
	for _, l := range m.Layers {
		// go-containerregistry does not push foreign layers, and a layout need not hold them.
		if !l.MediaType.IsDistributable() {
			continue
		}
		if err := c.blob(l); err != nil {
			return err
		}
	}
	return nil
}

func (c *checker) index(desc v1.Descriptor, idx v1.ImageIndex) error {
	raw, err := idx.RawManifest()
	if err != nil {
		return err
	}
	if err := c.content(desc, raw, "index"); err != nil {
		return err
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return fmt.Errorf("parsing index %s: %w", desc.Digest, err)
	}
	for _, child := range im.Manifests {
		switch {
		case child.MediaType.IsImage():
			img, err := idx.Image(child.Digest)
			if err != nil {
				return err
			}
			if err := c.image(child, img); err != nil {
				return err
			}
		case child.MediaType.IsIndex():
			sub, err := idx.ImageIndex(child.Digest)
			if err != nil {
				return err
			}
			if err := c.index(child, sub); err != nil {
				return err
			}
		default:
			// go-containerregistry cannot push other children of a layout's index.
			return fmt.Errorf("index %s: child %s has media type %q, want an image or an image index", desc.Digest, child.Digest, child.MediaType)
		}
	}
	return nil
}

// content checks that b, read from the layout, is what desc describes.
func (c *checker) content(desc v1.Descriptor, b []byte, what string) error {
	h, n, err := v1.SHA256(bytes.NewReader(b))
	if err != nil {
		return err
	}
	if h != desc.Digest {
		return fmt.Errorf("%s %s: content hashes to %s", what, desc.Digest, h)
	}
	if n != desc.Size {
		return fmt.Errorf("%s %s: %d bytes, descriptor says %d", what, desc.Digest, n, desc.Size)
	}
	c.add(desc)
	return nil
}

// blob checks that the layout holds desc's blob with the declared size.
func (c *checker) blob(desc v1.Descriptor) error {
	if c.seen[desc.Digest] {
		return nil
	}
	fi, err := os.Stat(filepath.Join(string(c.lp), "blobs", desc.Digest.Algorithm, desc.Digest.Hex))
	if err != nil {
		return fmt.Errorf("blob %s: %w", desc.Digest, err)
	}
	if fi.Size() != desc.Size {
		return fmt.Errorf("blob %s: %d bytes, descriptor says %d", desc.Digest, fi.Size(), desc.Size)
	}
	c.add(desc)
	return nil
}

func (c *checker) add(desc v1.Descriptor) {
	if !c.seen[desc.Digest] {
		c.seen[desc.Digest] = true
		c.size += desc.Size
	}
}

// ImageConfig returns the config of the image in the OCI layout at dir (the one readLayout would
// push; of an index, its first image: the one BuildKit built, before any attestation manifests).
func ImageConfig(dir string) (*v1.ConfigFile, error) {
	a, err := readLayout(dir)
	if err != nil {
		return nil, err
	}
	img, ok := a.manifest.(v1.Image)
	if idx, isIndex := a.manifest.(v1.ImageIndex); isIndex {
		im, err := idx.IndexManifest()
		if err != nil {
			return nil, invalidLayout(dir, err)
		}
		for _, d := range im.Manifests {
			if d.MediaType.IsImage() {
				img, err = idx.Image(d.Digest)
				if err != nil {
					return nil, invalidLayout(dir, err)
				}
				ok = true
				break
			}
		}
	}
	if !ok {
		return nil, invalidLayout(dir, fmt.Errorf("no image in the layout"))
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return nil, invalidLayout(dir, fmt.Errorf("reading the image config: %w", err))
	}
	return cfg, nil
}
