package baseimages

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// rootfs is one layer being assembled: its entries by path in the image (relative, no leading
// slash). Every entry is owned by root unless it says otherwise and stamped with epoch, and the
// tar lists them sorted by path, so the same entries always give the same bytes. A regular file
// copied from this machine is read only when the tar is written.
type rootfs struct {
	entries map[string]*entry
}

// entry is one file, directory or symlink of a rootfs.
type entry struct {
	typeflag byte // tar.TypeDir, tar.TypeReg or tar.TypeSymlink
	mode     int64
	uid, gid int
	src      string // a regular file: the file of this machine to read, when data is nil
	data     []byte // a regular file: its content, when src is ""
	linkname string // a symlink: its target
}

func newRootfs() *rootfs { return &rootfs{entries: map[string]*entry{}} }

// put adds e at name, first adding the directories above it that are missing (mode 0755).
func (r *rootfs) put(name string, e *entry) {
	name = strings.Trim(path.Clean("/"+name), "/")
	for d := path.Dir(name); d != "."; d = path.Dir(d) {
		if _, ok := r.entries[d]; ok {
			break
		}
		r.entries[d] = &entry{typeflag: tar.TypeDir, mode: 0o755}
	}
	r.entries[name] = e
}

// dir adds the directory name with mode, owned by uid:gid.
func (r *rootfs) dir(name string, mode int64, uid, gid int) {
	r.put(name, &entry{typeflag: tar.TypeDir, mode: mode, uid: uid, gid: gid})
}

// file adds the regular file name holding data.
func (r *rootfs) file(name string, mode int64, data []byte) {
	r.put(name, &entry{typeflag: tar.TypeReg, mode: mode, data: data})
}

// symlink adds name as a symlink to target.
func (r *rootfs) symlink(name, target string) {
	r.put(name, &entry{typeflag: tar.TypeSymlink, mode: 0o777, linkname: target})
}

// copyFile adds name as a regular file with the content and permissions of src, a file of this
// machine; a symlink there is followed.
func (r *rootfs) copyFile(name, src string) error {
	info, err := os.Stat(src)
	if err != nil {
		return err
	}
	if !info.Mode().IsRegular() {
		return fmt.Errorf("%s is not a regular file", src)
	}
	r.put(name, &entry{typeflag: tar.TypeReg, mode: int64(info.Mode().Perm()), src: src})
	return nil
}

// tree adds the directory src of this machine under dst: its directories, regular files and
// symlinks, with their permissions. A symlink is kept when it points into src; one pointing
// elsewhere would dangle in the image, so the image holds the regular file it points to instead,
// or nothing. skip, when not nil, is asked about every entry by its slash-separated path below
// src; a skipped directory is left out with all it holds. Sockets, pipes and devices are left out.
func (r *rootfs) tree(dst, src string, skip func(rel string, d fs.DirEntry) bool) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if rel != "." && skip != nil && skip(rel, d) {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		name := path.Join(dst, rel)
		switch mode := info.Mode(); {
		case mode.IsDir():
			r.dir(name, int64(mode.Perm()), 0, 0)
		case mode&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			resolved := target
			if !filepath.IsAbs(target) {
				resolved = filepath.Join(filepath.Dir(p), target)
			}
			if within(src, resolved) {
				r.symlink(name, target)
				return nil
			}
			if info, err := os.Stat(p); err == nil && info.Mode().IsRegular() {
				r.put(name, &entry{typeflag: tar.TypeReg, mode: int64(info.Mode().Perm()), src: p})
			}
		case mode.IsRegular():
			r.put(name, &entry{typeflag: tar.TypeReg, mode: int64(mode.Perm()), src: p})
		}
		return nil
	})
}

// within reports whether the path p lies in the directory src, comparing the paths as text:
// symlinks are not resolved.
func within(src, p string) bool {
	rel, err := filepath.Rel(src, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// writeTar writes the entries as a tar, sorted by path (a directory before what it holds).
func (r *rootfs) writeTar(w io.Writer) error {
	names := make([]string, 0, len(r.entries))
	for n := range r.entries {
		names = append(names, n)
	}
	sort.Strings(names)
	tw := tar.NewWriter(w)
	for _, n := range names {
		e := r.entries[n]
		h := &tar.Header{Typeflag: e.typeflag, Name: n, Mode: e.mode, Uid: e.uid, Gid: e.gid, ModTime: epoch, Format: tar.FormatPAX}
		switch e.typeflag {
		case tar.TypeDir:
			h.Name += "/"
			if err := tw.WriteHeader(h); err != nil {
				return err
			}
		case tar.TypeSymlink:
			h.Linkname = e.linkname
			if err := tw.WriteHeader(h); err != nil {
				return err
			}
		case tar.TypeReg:
			if err := writeRegular(tw, h, e); err != nil {
				return fmt.Errorf("writing /%s: %w", n, err)
			}
		}
	}
	return tw.Close()
}

// writeRegular writes the regular file e with header h: its data, or the file it copies, whose
// size is taken when it is opened.
func writeRegular(tw *tar.Writer, h *tar.Header, e *entry) error {
	if e.src == "" {
		h.Size = int64(len(e.data))
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		_, err := tw.Write(e.data)
		return err
	}
	f, err := os.Open(e.src)
	if err != nil {
		return err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return err
	}
	h.Size = info.Size()
	if err := tw.WriteHeader(h); err != nil {
		return err
	}
	_, err = io.Copy(tw, f)
	return err
}

// pushOnBusybox pushes to ref the busybox image (a shell for RUN) with r as a second layer, its
// config changed by configure, and returns the image's digest. The layer is written to a temporary
// file, not memory, as it can be hundreds of megabytes. what names the image in errors and in its
// history ("Go from /usr/local/go"). opts add to the push's options.
func pushOnBusybox(ctx context.Context, ref, what string, r *rootfs, configure func(*v1.Config), opts []remote.Option) (v1.Hash, error) {
	tag, err := name.ParseReference(ref, name.Insecure)
	if err != nil {
		return v1.Hash{}, fmt.Errorf("parsing image reference %q: %w", ref, err)
	}
	base, err := busyboxImage(BusyboxBinary)
	if err != nil {
		return v1.Hash{}, err
	}
	tmp, err := os.CreateTemp("", "slipway-layer-*.tar")
	if err != nil {
		return v1.Hash{}, fmt.Errorf("creating the layer file for %s: %w", what, err)
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	if err := r.writeTar(tmp); err != nil {
		return v1.Hash{}, fmt.Errorf("writing the layer of %s: %w", what, err)
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return os.Open(tmp.Name()) }, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return v1.Hash{}, fmt.Errorf("creating the layer of %s: %w", what, err)
	}
	img, err := mutate.Append(base, mutate.Addendum{
		Layer:     layer,
		History:   v1.History{Created: v1.Time{Time: epoch}, CreatedBy: "slipway baseimages: " + what},
		MediaType: types.OCILayer,
	})
	if err != nil {
		return v1.Hash{}, fmt.Errorf("appending the layer of %s: %w", what, err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return v1.Hash{}, fmt.Errorf("reading the config of %s: %w", what, err)
	}
	cfg = cfg.DeepCopy()
	configure(&cfg.Config)
	if img, err = mutate.ConfigFile(img, cfg); err != nil {
		return v1.Hash{}, fmt.Errorf("setting the config of %s: %w", what, err)
	}
	if err := remote.Write(tag, img, append(opts, remote.WithContext(ctx))...); err != nil {
		return v1.Hash{}, fmt.Errorf("pushing %s to %s: %w", what, ref, err)
	}
	digest, err := img.Digest()
	if err != nil {
		return v1.Hash{}, fmt.Errorf("computing the digest of %s: %w", what, err)
	}
	return digest, nil
}

// caBundle is where Debian (and the official images) keep the CA certificates: the images copy
// this machine's, as a build copies them into its runtime image.
const caBundle = "/etc/ssl/certs/ca-certificates.crt"

// addCABundle adds this machine's CA bundle at the same path, when it has one.
func (r *rootfs) addCABundle() error {
	if _, err := os.Stat(caBundle); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return r.copyFile(caBundle, caBundle)
}
