package baseimages

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// BusyboxBinary is where Busybox reads the statically linked busybox from: Debian's
// busybox-static package installs it there.
const BusyboxBinary = "/bin/busybox"

// busyboxApplets are the applets linked into /bin next to busybox: a shell, the usual file and
// text tools, and httpd/wget so an example service can serve and probe HTTP.
var busyboxApplets = []string{
	"[", "ash", "awk", "basename", "cat", "chmod", "chown", "cp", "cut", "date", "dirname", "du",
	"echo", "env", "false", "find", "grep", "gunzip", "gzip", "head", "hostname", "httpd", "id",
	"kill", "ln", "ls", "mkdir", "mktemp", "mv", "nc", "printf", "ps", "pwd", "readlink", "rm",
	"rmdir", "sed", "seq", "sh", "sleep", "sort", "stat", "tail", "tar", "tee", "test", "timeout",
	"touch", "tr", "true", "uname", "uniq", "wc", "wget", "which", "whoami", "xargs",
}

// epoch is the time stamp of every file and of the image config, so the same busybox binary
// always gives the same digest.
var epoch = time.Unix(0, 0).UTC()

// Busybox builds a linux/amd64 OCI image holding /bin/busybox (copied from BusyboxBinary), its
// common applets as symlinks (/bin/sh among them), a minimal /etc/passwd and /etc/group and a
// world-writable /tmp, with Cmd ["/bin/sh"] and a PATH, pushes it to ref and returns its digest.
// The image is reproducible: the same binary gives the same digest. A registry on a loopback or
// private address is spoken to over plain HTTP, as is any registry that does not answer HTTPS.
// opts add to the push's options, such as its credentials.
func Busybox(ctx context.Context, ref string, opts ...remote.Option) (v1.Hash, error) {
	tag, err := name.ParseReference(ref, name.Insecure)
	if err != nil {
		return v1.Hash{}, fmt.Errorf("parsing image reference %q: %w", ref, err)
	}
	img, err := busyboxImage(BusyboxBinary)
	if err != nil {
		return v1.Hash{}, err
	}
	if err := remote.Write(tag, img, append(opts, remote.WithContext(ctx))...); err != nil {
		return v1.Hash{}, fmt.Errorf("pushing busybox image to %s: %w", ref, err)
	}
	digest, err := img.Digest()
	if err != nil {
		return v1.Hash{}, fmt.Errorf("computing busybox image digest: %w", err)
	}
	return digest, nil
}

// busyboxImage assembles the image in memory from the busybox binary at path.
func busyboxImage(path string) (v1.Image, error) {
	bin, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("reading %s: not found; install the Debian package busybox-static (apt-get install busybox-static)", path)
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	rootfs, err := busyboxRootfs(bin)
	if err != nil {
		return nil, fmt.Errorf("writing busybox layer: %w", err)
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(rootfs)), nil
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, fmt.Errorf("creating busybox layer: %w", err)
	}
	base := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	base = mutate.ConfigMediaType(base, types.OCIConfigJSON)
	img, err := mutate.Append(base, mutate.Addendum{
		Layer:     layer,
		History:   v1.History{Created: v1.Time{Time: epoch}, CreatedBy: "slipway baseimages: busybox from " + path},
		MediaType: types.OCILayer,
	})
	if err != nil {
		return nil, fmt.Errorf("appending busybox layer: %w", err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("reading busybox image config: %w", err)
	}
	cfg = cfg.DeepCopy()
	cfg.Architecture = "amd64"
	cfg.OS = "linux"
	cfg.Created = v1.Time{Time: epoch}
	cfg.Config.Cmd = []string{"/bin/sh"}
	cfg.Config.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
	img, err = mutate.ConfigFile(img, cfg)
	if err != nil {
		return nil, fmt.Errorf("setting busybox image config: %w", err)
	}
	return img, nil
}

// busyboxRootfs returns the uncompressed layer tar: directories, the binary, applet symlinks and
// the account files, all owned by root and stamped with epoch.
func busyboxRootfs(bin []byte) ([]byte, error) {
	r := newRootfs()
	for _, d := range []struct {
		name string
		mode int64
	}{{"bin", 0o755}, {"etc", 0o755}, {"root", 0o700}, {"tmp", 0o1777}, {"usr", 0o755}, {"usr/bin", 0o755}, {"var", 0o755}, {"var/www", 0o755}} {
		r.dir(d.name, d.mode, 0, 0)
	}
	r.file("bin/busybox", 0o755, bin)
	for _, applet := range busyboxApplets {
		r.symlink("bin/"+applet, "busybox")
	}
	r.file("etc/passwd", 0o644, []byte(passwd(nil)))
	r.file("etc/group", 0o644, []byte(group(nil)))
	var buf bytes.Buffer
	if err := r.writeTar(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// account is a user of an image's /etc/passwd with a group of the same name and ID.
type account struct {
	name     string
	id       int
	home     string
	shell    string
	comments string
}

// baseAccounts are the accounts of every image: root and nobody.
var baseAccounts = []account{
	{name: "root", id: 0, home: "/root", shell: "/bin/sh", comments: "root"},
	{name: "nobody", id: 65534, home: "/nonexistent", shell: "/bin/false", comments: "nobody"},
}

// passwd returns an /etc/passwd holding root, nobody and extra.
func passwd(extra []account) string {
	var b strings.Builder
	for _, a := range append(append([]account(nil), baseAccounts...), extra...) {
		fmt.Fprintf(&b, "%s:x:%d:%d:%s:%s:%s\n", a.name, a.id, a.id, a.comments, a.home, a.shell)
	}
	return b.String()
}

// group returns an /etc/group holding root's group, nogroup and one group for each of extra.
func group(extra []account) string {
	var b strings.Builder
	b.WriteString("root:x:0:\nnogroup:x:65534:\n")
	for _, a := range extra {
		fmt.Fprintf(&b, "%s:x:%d:\n", a.name, a.id)
	}
	return b.String()
}
