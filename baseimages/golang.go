package baseimages

import (
	"archive/tar"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// goRootInImage is where GoToolchain puts the Go tree, as the official golang images do.
const goRootInImage = "usr/local/go"

// goSkipDirs are the parts of a Go tree a build never reads: the toolchain's own tests, docs and API
// lists. Every testdata directory and _test.go file is left out too.
var goSkipDirs = map[string]bool{"api": true, "doc": true, "misc": true, "test": true}

// GoToolchain builds a linux/amd64 image like the official golang image from goroot, a Go installation of this
// machine (`go env GOROOT`): the busybox image (a shell for RUN) with the Go tree at /usr/local/go — its tests
// and test data left out — on PATH, GOTOOLCHAIN=local, pushes it to ref and returns its digest. It stands in for
// golang:<version> where Docker Hub is out of reach; it carries this machine's CA bundle at /etc/ssl/certs, as
// golang does. The layer is written to a temporary file, not memory (the
// tree is ~150 MB); the same tree gives the same digest. opts add to the push's options.
func GoToolchain(ctx context.Context, ref, goroot string, opts ...remote.Option) (v1.Hash, error) {
	tag, err := name.ParseReference(ref, name.Insecure)
	if err != nil {
		return v1.Hash{}, fmt.Errorf("parsing image reference %q: %w", ref, err)
	}
	if _, err := os.Stat(filepath.Join(goroot, "bin", "go")); err != nil {
		return v1.Hash{}, fmt.Errorf("no Go installation at %s: %w", goroot, err)
	}
	base, err := busyboxImage(BusyboxBinary)
	if err != nil {
		return v1.Hash{}, err
	}
	tmp, err := os.CreateTemp("", "slipway-go-layer-*.tar")
	if err != nil {
		return v1.Hash{}, err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	if err := goTreeTar(tmp, goroot); err != nil {
		return v1.Hash{}, fmt.Errorf("writing the Go layer from %s: %w", goroot, err)
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return os.Open(tmp.Name()) }, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return v1.Hash{}, fmt.Errorf("creating the Go layer: %w", err)
	}
	img, err := mutate.Append(base, mutate.Addendum{
		Layer:     layer,
		History:   v1.History{Created: v1.Time{Time: epoch}, CreatedBy: "slipway baseimages: Go from " + goroot},
		MediaType: types.OCILayer,
	})
	if err != nil {
		return v1.Hash{}, fmt.Errorf("appending the Go layer: %w", err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return v1.Hash{}, err
	}
	cfg = cfg.DeepCopy()
	cfg.Config.Env = []string{"PATH=/go/bin:/" + goRootInImage + "/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"GOPATH=/go", "GOTOOLCHAIN=local"}
	cfg.Config.WorkingDir = "/go"
	if img, err = mutate.ConfigFile(img, cfg); err != nil {
		return v1.Hash{}, err
	}
	if err := remote.Write(tag, img, append(opts, remote.WithContext(ctx))...); err != nil {
		return v1.Hash{}, fmt.Errorf("pushing the Go image to %s: %w", ref, err)
	}
	return img.Digest()
}

// caBundle is where Debian (and the official golang image) keep the CA certificates: GoToolchain copies this
// machine's into the image, as a build copies them into its runtime image.
const caBundle = "/etc/ssl/certs/ca-certificates.crt"

// goTreeTar writes the Go tree at goroot as a layer tar under goRootInImage, and this machine's CA bundle when
// it has one, owned by root, stamped with epoch.
func goTreeTar(w io.Writer, goroot string) error {
	tw := tar.NewWriter(w)
	for _, d := range []string{"etc/ssl", "etc/ssl/certs", "usr/local", goRootInImage, "go"} {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d + "/", Mode: 0o755, ModTime: epoch, Format: tar.FormatPAX}); err != nil {
			return err
		}
	}
	if ca, err := os.ReadFile(caBundle); err == nil {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: strings.TrimPrefix(caBundle, "/"), Mode: 0o644, Size: int64(len(ca)), ModTime: epoch, Format: tar.FormatPAX}); err != nil {
			return err
		}
		if _, err := tw.Write(ca); err != nil {
			return err
		}
	}
	err := filepath.WalkDir(goroot, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(goroot, p)
		if err != nil || rel == "." {
			return err
		}
		rel = filepath.ToSlash(rel)
		if d.IsDir() && (goSkipDirs[rel] || d.Name() == "testdata") {
			return fs.SkipDir
		}
		if strings.HasSuffix(rel, "_test.go") {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		h := &tar.Header{Name: path.Join(goRootInImage, rel), Mode: int64(info.Mode().Perm()), ModTime: epoch, Format: tar.FormatPAX}
		switch {
		case d.IsDir():
			h.Typeflag, h.Name = tar.TypeDir, h.Name+"/"
			return tw.WriteHeader(h)
		case info.Mode()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			h.Typeflag, h.Linkname = tar.TypeSymlink, target
			return tw.WriteHeader(h)
		case info.Mode().IsRegular():
			h.Typeflag, h.Size = tar.TypeReg, info.Size()
			if err := tw.WriteHeader(h); err != nil {
				return err
			}
			f, err := os.Open(p)
			if err != nil {
				return err
			}
			defer f.Close()
			_, err = io.Copy(tw, f)
			return err
		}
		return nil // sockets and devices: none in a Go tree
	})
	if err != nil {
		return err
	}
	return tw.Close()
}
