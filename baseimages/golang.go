package baseimages

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
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
	if _, err := os.Stat(filepath.Join(goroot, "bin", "go")); err != nil {
		return v1.Hash{}, fmt.Errorf("no Go installation at %s: %w", goroot, err)
	}
	r, err := goRootfs(goroot)
	if err != nil {
		return v1.Hash{}, fmt.Errorf("reading the Go tree at %s: %w", goroot, err)
	}
	return pushOnBusybox(ctx, ref, "Go from "+goroot, r, func(c *v1.Config) {
		c.Env = []string{"PATH=/go/bin:/" + goRootInImage + "/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
			"GOPATH=/go", "GOTOOLCHAIN=local"}
		c.WorkingDir = "/go"
	}, opts)
}

// goRootfs returns the Go layer: the tree at goroot under goRootInImage, an empty /go, and this machine's CA
// bundle when it has one.
func goRootfs(goroot string) (*rootfs, error) {
	r := newRootfs()
	r.dir("go", 0o755, 0, 0)
	r.dir("etc/ssl/certs", 0o755, 0, 0)
	if err := r.addCABundle(); err != nil {
		return nil, err
	}
	err := r.tree(goRootInImage, goroot, func(rel string, d fs.DirEntry) bool {
		if d.IsDir() {
			return goSkipDirs[rel] || d.Name() == "testdata"
		}
		return strings.HasSuffix(rel, "_test.go")
	})
	return r, err
}
