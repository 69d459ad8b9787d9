package sourcebuild

import (
	"strings"
)

// The default base images: the official images a user with internet access would pull, all of them
// on Docker Hub, so that one docker.io mirror serves every generated build offline.
const (
	// DefaultGoImage builds Go sources.
	DefaultGoImage = "golang:1.26"
	// DefaultGoRuntimeImage runs a Go binary. It is busybox rather than distroless (which needs
	// gcr.io): small, with a shell for a Start command, on Docker Hub. It has no CA certificates of
	// its own; the generated build copies the Go image's. Untagged, as `slipway dev` seeds its registry
	// (the offline docker.io mirror) with busybox:latest.
	DefaultGoRuntimeImage = "busybox"
	// DefaultNodeImage builds and runs Node.js sources; its user "node" runs the app.
	DefaultNodeImage = "node:22-slim"
	// DefaultPythonImage builds and runs Python sources.
	DefaultPythonImage = "python:3.12-slim"
	// DefaultStaticImage serves a static site with busybox's httpd; untagged, like DefaultGoRuntimeImage.
	DefaultStaticImage = "busybox"
)

// Images are the base images of generated builds, as references FROM accepts ("node:22-slim",
// "registry.example.com/library/node:22-slim"). A zero field is the field's default, Default*Image.
type Images struct {
	// Go is the image Go sources are built in: it needs the go command (it runs as root, with
	// GOCACHE=/root/.cache/go-build). "" is DefaultGoImage.
	Go string
	// GoRuntime is the image the Go binary runs in, as user 65532: it needs nothing but a file
	// system (a Start command needs /bin/sh). "" is DefaultGoRuntimeImage.
	GoRuntime string
	// Node is the image Node.js sources are built and run in: it needs node, a user named node,
	// and npm, unless package.json declares no dependencies, there is no lockfile and neither a
	// build nor a start script runs (npm run build, npm start). "" is DefaultNodeImage.
	Node string
	// Python is the image Python sources are installed and run in: it needs python and pip. ""
	// is DefaultPythonImage.
	Python string
	// Static is the image a static site is served from: it needs busybox's sh and httpd. "" is
	// DefaultStaticImage.
	Static string
}

// withDefaults returns i with its zero fields set to their defaults.
func (i Images) withDefaults() Images {
	def := func(s, d string) string {
		if s == "" {
			return d
		}
		return s
	}
	return Images{
		Go:        def(i.Go, DefaultGoImage),
		GoRuntime: def(i.GoRuntime, DefaultGoRuntimeImage),
		Node:      def(i.Node, DefaultNodeImage),
		Python:    def(i.Python, DefaultPythonImage),
		Static:    def(i.Static, DefaultStaticImage),
	}
}

// validate returns an *Error (Field "images.<field>") for the first image that is not a plain
// reference: one FROM would read as something else (a flag, a variable, several words).
func (i Images) validate() error {
	for _, f := range []struct{ field, ref string }{
		{"images.go", i.Go}, {"images.goRuntime", i.GoRuntime}, {"images.node", i.Node},
		{"images.python", i.Python}, {"images.static", i.Static},
	} {
		if f.ref == "" {
			continue
		}
		if f.ref[0] == '-' || strings.IndexFunc(f.ref, func(r rune) bool { return !isRefChar(r) }) >= 0 {
			return invalid(f.field, "image "+quote(f.ref)+" is not an image reference: it may hold only letters, digits and . _ - / : @")
		}
	}
	return nil
}

func isRefChar(r rune) bool {
	return isTagChar(r) || r == '/' || r == ':' || r == '@'
}

func isTagChar(r rune) bool {
	return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '.' || r == '_' || r == '-'
}

// validVersion reports whether v can be (the start of) an image tag: a letter, digit or underscore,
// then at most 63 letters, digits, '.', '_' or '-'.
func validVersion(v string) bool {
	if v == "" || len(v) > 64 || v[0] == '.' || v[0] == '-' {
		return false
	}
	return strings.IndexFunc(v, func(r rune) bool { return !isTagChar(r) }) < 0
}

// withVersion returns image with the version in its tag replaced by version: the tag's part before
// its first '-' is replaced, what follows is kept (node:22-slim → node:20-slim, golang:1.26 →
// golang:1.25, python → python:3.13). A version holding a '-' is the whole tag. An image pinned
// by digest is an *Error (Field "version"), as a tag would not change what it names.
func withVersion(image, version string) (string, error) {
	if strings.Contains(image, "@") {
		return "", invalid("version", "the image "+quote(image)+" is pinned by digest, so a version cannot choose its tag; set the image instead")
	}
	name, tag := image, ""
	if i := strings.LastIndexByte(image, ':'); i > strings.LastIndexByte(image, '/') {
		name, tag = image[:i], image[i+1:]
	}
	suffix := ""
	if i := strings.IndexByte(tag, '-'); i >= 0 && !strings.Contains(version, "-") {
		suffix = tag[i:]
	}
	return name + ":" + version + suffix, nil
}
