package sourcebuild

import (
	"fmt"
	"strings"
)

// generateGo writes a two-stage build: the module's requirements are downloaded in the Go image
// before the source is copied, the binary built to /out/app (statically, CGO off) with Go's build
// cache kept between builds, then copied alone into the runtime image.
func generateGo(s *source) (string, error) {
	if !s.exists("go.mod", false) {
		return "", invalid("go.mod", "a Go source needs a go.mod at the context's root (go mod init <module path>)")
	}
	build := s.opts.Build
	if build == "" {
		ok, err := s.hasGoFiles()
		if err != nil {
			return "", err
		}
		if !ok {
			return "", invalid("build", "no .go file at the context's root to build: set the build command, e.g. go build -o /out/app ./cmd/server")
		}
	}

	var d dockerfile
	d.header(Go, s.reason)
	d.line("FROM %s AS build", s.images.Go)
	d.line("WORKDIR /src")
	d.line("ENV CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS=-trimpath GOCACHE=/root/.cache/go-build")
	d.comment("The requirements first: a commit that changes neither go.mod nor go.sum reuses this layer.")
	d.line("COPY go.mod go.sum* ./")
	d.line("RUN go mod download")
	d.line("COPY . .")
	const cache = "--mount=type=cache,target=/root/.cache/go-build"
	if build == "" {
		d.line("RUN %s go build -o /out/app .", cache)
	} else {
		d.comment("The build command must leave the binary to run at /out/app.")
		d.run(cache, build)
	}
	d.blank()
	d.line("FROM %s", s.images.GoRuntime)
	d.comment("The build image's CA certificates, when it has them, so that the app can call HTTPS services.")
	d.line("COPY --from=build /etc/ssl/certs/ca-certificates.crt* /etc/ssl/certs/")
	d.line("COPY --from=build /out/app /app")
	command := `ENTRYPOINT ["/app"]`
	if s.opts.Start != "" {
		command = shellCommand(s.opts.Start)
	}
	d.listen("65532:65532", command)
	return d.String(), nil
}

// hasGoFiles reports whether the context's root holds a .go file other than a test.
func (s *source) hasGoFiles() (bool, error) {
	f, err := s.root.Open(".")
	if err != nil {
		return false, fmt.Errorf("reading the build context's root: %w", err)
	}
	defer f.Close()
	names, err := f.Readdirnames(-1)
	if err != nil {
		return false, fmt.Errorf("reading the build context's root: %w", err)
	}
	for _, n := range names {
		if strings.HasSuffix(n, ".go") && !strings.HasSuffix(n, "_test.go") && s.exists(n, false) {
			return true, nil
		}
	}
	return false, nil
}
