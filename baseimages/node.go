package baseimages

import (
	"context"
	"fmt"
	"os"
	"path"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// NodeBinary is where NodeRuntime reads node from: Debian's nodejs package installs it there.
const NodeBinary = "/usr/bin/node"

// NpmDirs are where NodeRuntime looks for npm, in order: where npm's own installer (and
// NodeSource's nodejs package) puts it, then Debian's npm package.
var NpmDirs = []string{"/usr/lib/node_modules/npm", "/usr/share/nodejs/npm"}

// nodeUser is the user of the official node images, who runs the app of a generated Node.js build.
var nodeUser = account{name: "node", id: 1000, home: "/home/node", shell: "/bin/sh"}

// NodeRuntime builds a linux/amd64 image standing in for node:<version>-slim where Docker Hub is out
// of reach, from this machine's Debian packages: the busybox image (a shell for RUN) with NodeBinary
// and the libraries it loads (read from its ELF headers), npm from the first of NpmDirs that exists
// (none: an image without npm) with npm and npx on PATH, the user node (1000:1000, home /home/node)
// as the official image has, and this machine's CA bundle. Its Cmd is ["node"]. It pushes the image
// to ref and returns its digest; the same files give the same digest. opts add to the push's
// options.
func NodeRuntime(ctx context.Context, ref string, opts ...remote.Option) (v1.Hash, error) {
	r, err := nodeRootfs(NodeBinary, NpmDirs)
	if err != nil {
		return v1.Hash{}, err
	}
	return pushOnBusybox(ctx, ref, "Node.js from "+NodeBinary, r, func(c *v1.Config) {
		c.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
		c.Cmd = []string{"node"}
	}, opts)
}

// nodeRootfs returns the Node.js layer made from the node binary at node and npm from the first of
// npmDirs that exists.
func nodeRootfs(node string, npmDirs []string) (*rootfs, error) {
	if _, err := os.Stat(node); err != nil {
		return nil, fmt.Errorf("reading %s: %w; install the Debian package nodejs (apt-get install nodejs)", node, err)
	}
	r := newRootfs()
	if err := r.copyFile("usr/bin/node", node); err != nil {
		return nil, err
	}
	libs := newSharedLibraries()
	if err := libs.add(node, true); err != nil {
		return nil, err
	}
	if err := libs.addTo(r); err != nil {
		return nil, err
	}
	for _, dir := range npmDirs {
		if info, err := os.Stat(dir); err != nil || !info.IsDir() {
			continue
		}
		if err := r.tree(dir, dir, nil); err != nil {
			return nil, fmt.Errorf("reading npm at %s: %w", dir, err)
		}
		for _, cmd := range []string{"npm", "npx"} {
			r.symlink("usr/bin/"+cmd, path.Join(dir, "bin", cmd+"-cli.js"))
		}
		break
	}
	if err := r.addRuntimeBasics(nodeUser); err != nil {
		return nil, err
	}
	r.dir(nodeUser.home, 0o755, nodeUser.id, nodeUser.id)
	return r, nil
}

// addRuntimeBasics adds what a language runtime image has beside its interpreter: /etc/passwd and
// /etc/group with root, nobody and user, /usr/bin/env (scripts start with #!/usr/bin/env; busybox's
// env is at /bin/env) and this machine's CA bundle.
func (r *rootfs) addRuntimeBasics(user account) error {
	r.file("etc/passwd", 0o644, []byte(passwd([]account{user})))
	r.file("etc/group", 0o644, []byte(group([]account{user})))
	r.symlink("usr/bin/env", "/bin/busybox")
	return r.addCABundle()
}
