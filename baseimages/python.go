package baseimages

import (
	"archive/tar"
	"archive/zip"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// PythonBinary is the python3 PythonRuntime starts from: Debian's python3 package makes it a
// symlink to the versioned interpreter (python3.11 on Debian 12), which the image holds. It is not
// whatever python3 comes first on PATH, which may be a pyenv shim.
const PythonBinary = "/usr/bin/python3"

// PipWheels matches the pip wheel PythonRuntime installs into the image when this machine has one:
// Debian's python3-pip-whl package puts it there, with pip's own dependencies inside.
const PipWheels = "/usr/share/python-wheels/pip-*.whl"

// pythonVersioned matches the name of a versioned interpreter, python3.11, and captures its version.
var pythonVersioned = regexp.MustCompile(`^python(3\.[0-9]+)$`)

// pythonSkip are the parts of the standard library a program does not need: the test suite, the
// compiled caches (the interpreter writes them again where it may), the static library and
// Makefile for building extensions (tens of megabytes), and Debian's PEP 668 marker, which would
// make pip refuse to install a requirements.txt: the image is a container, not Debian's system.
var pythonSkip = map[string]bool{"test": true, "__pycache__": true, "EXTERNALLY-MANAGED": true}

// nonrootUser is the user a generated Python build runs as (USER 65532:65532), named so that
// tools asking for the current user's name and home find one.
var nonrootUser = account{name: "nonroot", id: 65532, home: "/home/nonroot", shell: "/bin/false"}

// PythonRuntime builds a linux/amd64 image standing in for python:<version>-slim where Docker Hub is
// out of reach, from this machine's Debian packages: the busybox image (a shell for RUN) with the
// interpreter PythonBinary resolves to, as python3 and python on PATH, the libraries it and the
// standard library's extension modules load (read from their ELF headers; an extension whose
// library is missing here is kept and fails on import, as it does here), the standard library
// without its tests, pip (pip and pip3 on PATH) when PipWheels matches a wheel, the user nonroot
// (65532:65532), this machine's CA bundle and LANG=C.UTF-8. Its Cmd is ["python3"]. It pushes the
// image to ref and returns its digest; the same files give the same digest. opts add to the push's
// options.
func PythonRuntime(ctx context.Context, ref string, opts ...remote.Option) (v1.Hash, error) {
	wheels, err := filepath.Glob(PipWheels)
	if err != nil {
		return v1.Hash{}, err
	}
	pip := ""
	if len(wheels) > 0 {
		pip = wheels[len(wheels)-1] // the newest, as Glob sorts
	}
	r, interp, err := pythonRootfs(PythonBinary, pip)
	if err != nil {
		return v1.Hash{}, err
	}
	return pushOnBusybox(ctx, ref, "Python from "+interp, r, func(c *v1.Config) {
		c.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8"}
		c.Cmd = []string{"python3"}
	}, opts)
}

// pythonRootfs returns the Python layer made from the interpreter python resolves to, with pip
// unpacked from the wheel at pip unless it is "", and the interpreter's path.
func pythonRootfs(python, pip string) (*rootfs, string, error) {
	interp, err := filepath.EvalSymlinks(python)
	if err != nil {
		return nil, "", fmt.Errorf("reading %s: %w; install the Debian package python3 (apt-get install python3)", python, err)
	}
	m := pythonVersioned.FindStringSubmatch(filepath.Base(interp))
	if m == nil {
		return nil, "", fmt.Errorf("%s resolves to %s, not a versioned interpreter such as python3.11", python, interp)
	}
	version := m[1]
	stdlib := filepath.Join(filepath.Dir(filepath.Dir(interp)), "lib", "python"+version)
	if _, err := os.Stat(filepath.Join(stdlib, "os.py")); err != nil {
		return nil, "", fmt.Errorf("no standard library for %s at %s: %w", interp, stdlib, err)
	}
	r := newRootfs()
	bin := "usr/bin/python" + version
	if err := r.copyFile(bin, interp); err != nil {
		return nil, "", err
	}
	r.symlink("usr/bin/python3", path.Base(bin))
	r.symlink("usr/bin/python", path.Base(bin))
	libs := newSharedLibraries()
	if err := libs.add(interp, true); err != nil {
		return nil, "", err
	}
	err = r.tree(stdlib, stdlib, func(rel string, d fs.DirEntry) bool {
		return pythonSkip[d.Name()] || d.IsDir() && rel == "config-"+version+"-x86_64-linux-gnu"
	})
	if err != nil {
		return nil, "", fmt.Errorf("reading the standard library at %s: %w", stdlib, err)
	}
	// The extension modules: a library one needs that is missing here is left out.
	for name, e := range r.entries {
		if e.typeflag == tar.TypeReg && strings.HasSuffix(name, ".so") {
			if err := libs.add(e.src, false); err != nil {
				return nil, "", err
			}
		}
	}
	if err := libs.addTo(r); err != nil {
		return nil, "", err
	}
	if pip != "" {
		if err := r.wheel("usr/local/lib/python"+version+"/dist-packages", pip); err != nil {
			return nil, "", fmt.Errorf("unpacking pip from %s: %w", pip, err)
		}
		script := "#!/usr/bin/python" + version + "\nimport sys\nfrom pip._internal.cli.main import main\nsys.exit(main())\n"
		for _, cmd := range []string{"pip", "pip3"} {
			r.file("usr/local/bin/"+cmd, 0o755, []byte(script))
		}
	}
	if err := r.addRuntimeBasics(nonrootUser); err != nil {
		return nil, "", err
	}
	r.dir(nonrootUser.home, 0o755, nonrootUser.id, nonrootUser.id)
	return r, interp, nil
}

// wheel unpacks the wheel (a zip) at src under dst, as pip installs one: its files with mode 0644,
// in memory (pip's is a few megabytes).
func (r *rootfs) wheel(dst, src string) error {
	z, err := zip.OpenReader(src)
	if err != nil {
		return err
	}
	defer z.Close()
	for _, f := range z.File {
		name := path.Clean(f.Name)
		if f.FileInfo().IsDir() {
			continue
		}
		if path.IsAbs(name) || name == ".." || strings.HasPrefix(name, "../") {
			return fmt.Errorf("the wheel holds %q, outside its directory", f.Name)
		}
		rc, err := f.Open()
		if err != nil {
			return err
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			return fmt.Errorf("reading %s: %w", f.Name, err)
		}
		r.file(path.Join(dst, name), 0o644, data)
	}
	return nil
}
