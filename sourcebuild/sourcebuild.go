package sourcebuild

import (
	"fmt"
	"os"
	"strings"
)

// Language names, as a descriptor or Options spell them.
const (
	Go     = "go"
	Node   = "node"
	Python = "python"
	Static = "static"
)

// Options override what Generate detects; the zero Options detects everything and uses the default
// images.
type Options struct {
	// Language is the language to build, one of Go, Node, Python and Static. "" detects it (Detect).
	Language string
	// Version is the language's version, the tag of the image the source is built in: Go "1.25"
	// builds in golang:1.25, Node "20" in node:20-slim, Python "3.13" in python:3.13-slim (the
	// part of the image's tag before its first '-' is replaced; a Version holding a '-' replaces
	// the whole tag). "" keeps the image's tag. A static site has no version.
	Version string
	// Build is a shell command run once the dependencies are installed and the source copied, in
	// the source's directory. "" is the language's usual: go build -o /out/app . for Go; npm run
	// build when package.json has a build script for Node; nothing for Python and a static site.
	// A Go build must leave the binary to run at /out/app. A Node build runs with the development
	// dependencies installed; they are pruned after it.
	Build string
	// Start is the shell command the image runs (with /bin/sh -c, so $PORT expands). "" is the
	// language's usual: the binary for Go; npm start, package.json's main or server.js, index.js
	// or app.js for Node; a Procfile's web process or app.py, main.py or server.py for Python;
	// busybox's httpd for a static site.
	Start string
	// Images are the base images; zero fields are the defaults.
	Images Images
}

// Plan is a generated build.
type Plan struct {
	// Language is the language built, one of Go, Node, Python and Static.
	Language string
	// Reason says why that language, e.g. "go.mod at the context's root".
	Reason string
	// Dockerfile is the generated Dockerfile's text, for BuildKit's Dockerfile frontend with dir as
	// the build context.
	Dockerfile string
}

// source is what a generator reads: the build context and the options, checked, with the images'
// defaults and the version applied.
type source struct {
	root   *os.Root
	opts   Options
	reason string
	images Images
}

// generator returns the function writing the Dockerfile of language, nil for an unknown one.
func generator(language string) func(s *source) (string, error) {
	switch language {
	case Go:
		return generateGo
	case Node:
		return generateNode
	case Python:
		return generatePython
	case Static:
		return generateStatic
	}
	return nil
}

// Generate writes the Dockerfile that builds the source in dir, the build context (a checked-out
// repository), detecting its language unless opts.Language names it. It only reads files under
// dir; a symbolic link leading out of it is not followed. A source or options it cannot build are
// an *Error; a dir that cannot be read is another error.
func Generate(dir string, opts Options) (Plan, error) {
	if err := opts.validate(); err != nil {
		return Plan{}, err
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return Plan{}, fmt.Errorf("opening the build context: %w", err)
	}
	defer root.Close()

	s := &source{root: root, opts: opts, images: opts.Images.withDefaults(), reason: "language set, not detected"}
	language := opts.Language
	if language == "" {
		if language, s.reason, err = detect(root); err != nil {
			return Plan{}, err
		}
	}
	if err := s.applyVersion(language); err != nil {
		return Plan{}, err
	}
	df, err := generator(language)(s)
	if err != nil {
		return Plan{}, err
	}
	return Plan{Language: language, Reason: s.reason, Dockerfile: df}, nil
}

// validate checks what can be checked without the source.
func (o Options) validate() error {
	if o.Language != "" && generator(o.Language) == nil {
		return invalid("language", fmt.Sprintf("unknown language %s: slipway builds %s, %s, %s and %s sources", quote(o.Language), Go, Node, Python, Static))
	}
	if o.Version != "" && !validVersion(o.Version) {
		return invalid("version", fmt.Sprintf("version %s is not an image tag: it may hold only letters, digits and . _ - (not first)", quote(o.Version)))
	}
	for _, f := range []struct{ field, command string }{{"build", o.Build}, {"start", o.Start}} {
		if strings.ContainsAny(f.command, "\r\n\x00") {
			return invalid(f.field, "the command is on more than one line: join its lines with && or ; or put it in a script")
		}
	}
	return o.Images.validate()
}

// applyVersion sets the tag of the language's build image to opts.Version.
func (s *source) applyVersion(language string) error {
	if s.opts.Version == "" {
		return nil
	}
	var image *string
	switch language {
	case Go:
		image = &s.images.Go
	case Node:
		image = &s.images.Node
	case Python:
		image = &s.images.Python
	default:
		return invalid("version", "a static site has no language version; set the static image to choose its server")
	}
	tagged, err := withVersion(*image, s.opts.Version)
	if err != nil {
		return err
	}
	*image = tagged
	return nil
}

// exists reports whether name is a file (or, with dirOK, a directory) at the context's root.
func (s *source) exists(name string, dirOK bool) bool {
	return exists(s.root, name, dirOK)
}

func exists(root *os.Root, name string, dirOK bool) bool {
	fi, err := root.Stat(name)
	return err == nil && (fi.Mode().IsRegular() || dirOK && fi.IsDir())
}

// firstExisting returns the first of names that is a file at the context's root, or "".
func (s *source) firstExisting(names ...string) string {
	for _, n := range names {
		if s.exists(n, false) {
			return n
		}
	}
	return ""
}
