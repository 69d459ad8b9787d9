package buildkit

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// BuildKit's OCI exporter writes every blob of the image into the build's fresh layout directory,
// which for a no-change rebuild costs more than the build itself. With Request.BlobCache, the
// blobs of earlier builds on this machine are hard-linked into the new layout before the build, so
// the exporter finds them present and writes only what is new; after the build the new blobs are
// linked back. Blobs are immutable and named by digest, so sharing them is safe, also between
// builds running at once.

// blobDir is the layout's blob directory for sha256 digests.
func blobDir(layout string) string { return filepath.Join(layout, "blobs", "sha256") }

// linkBlobs hard-links every blob of the directory from into the directory to (both "blobs/sha256"
// directories), skipping blobs to has. A blob that cannot be linked (another file system) is
// skipped: the exporter then writes it, as without the cache.
func linkBlobs(from, to string) (int, error) {
	entries, err := os.ReadDir(from)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("reading blobs in %s: %w", from, err)
	}
	if err := os.MkdirAll(to, 0o755); err != nil {
		return 0, fmt.Errorf("creating %s: %w", to, err)
	}
	n := 0
	for _, e := range entries {
		if !e.Type().IsRegular() || len(e.Name()) != 64 {
			continue // only complete blobs named by their hex digest
		}
		err := os.Link(filepath.Join(from, e.Name()), filepath.Join(to, e.Name()))
		switch {
		case err == nil:
			n++
		case errors.Is(err, fs.ErrExist):
		case errors.Is(err, fs.ErrNotExist):
			// removed meanwhile by a cleanup: nothing to share
		default:
			var le *os.LinkError
			if errors.As(err, &le) {
				continue // e.g. EXDEV: not shareable by a link
			}
			return n, err
		}
	}
	return n, nil
}
