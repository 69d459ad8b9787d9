package buildkit

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/docker/cli/cli/config/types"
	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/exporter/containerimage/exptypes"
	"github.com/moby/buildkit/session"
	"github.com/moby/buildkit/session/auth/authprovider"
	"github.com/moby/buildkit/util/progress/progressui"
	"github.com/tonistiigi/fsutil"
)

// Names BuildKit's Dockerfile frontend gives its two local sources.
const (
	localContext    = "context"
	localDockerfile = "dockerfile"
)

// Builder runs Dockerfile builds on one buildkitd.
type Builder struct {
	// Address is buildkitd's gRPC address: "unix:///path/buildkitd.sock" (what Daemon.Address
	// returns) or "tcp://host:port" for an external buildkitd.
	Address string
	// Registries holds the credentials buildkitd is handed, by registry host ("host:port" as in
	// image references), when a build pulls from or pushes its cache to that registry. Nil means
	// anonymous everywhere.
	Registries map[string]RegistryAuth
}

// RegistryAuth is an HTTP Basic user name and password for one registry.
type RegistryAuth struct{ Username, Password string }

// authProvider answers buildkitd's credential requests from b.Registries: only the host asked about
// gets its own credentials.
func (b *Builder) authProvider() session.Attachable {
	return authprovider.NewDockerAuthProvider(authprovider.DockerAuthProviderConfig{
		AuthConfigProvider: func(_ context.Context, host string, _ []string, _ authprovider.ExpireCachedAuthCheck) (types.AuthConfig, error) {
			a, ok := b.Registries[host]
			if !ok {
				return types.AuthConfig{}, nil
			}
			return types.AuthConfig{ServerAddress: host, Username: a.Username, Password: a.Password}, nil
		},
	})
}

// Request is one Dockerfile build.
type Request struct {
	// ContextDir is the build context directory. Required.
	ContextDir string
	// Dockerfile is the Dockerfile's path, relative to ContextDir unless absolute. Empty means
	// "Dockerfile" in ContextDir.
	Dockerfile string
	// BuildArgs are the Dockerfile's ARG values. Nil means none.
	BuildArgs map[string]string
	// Target is the stage to build. Empty means the last stage.
	Target string
	// OutputDir is the directory the image is written to as an OCI image layout (oci-layout,
	// index.json, blobs/). Required; created if missing. A fresh directory per build keeps the
	// layout to the one image.
	OutputDir string
	// CacheRef is a registry reference ("host:port/repo:tag") that BuildKit imports cache from
	// before the build and, unless CacheDir is set, exports all intermediate layers to after it
	// (mode=max), so a fresh buildkitd reuses earlier builds. Empty means buildkitd's local cache
	// only. A missing cache image is not an error: when the registry says it has none, none is
	// imported.
	CacheRef string
	// CacheDir is a directory the cache is exported to instead, as an OCI image layout (mode=max),
	// for the caller to push to CacheRef once the image may leave the worker. Empty means the
	// export goes straight to CacheRef.
	CacheDir string
	// CacheInsecure says the CacheRef registry speaks plain HTTP, as slipway's embedded registry
	// does.
	CacheInsecure bool
	// BlobCache is a directory of image blobs shared by the builds of this machine, on the same
	// file system as OutputDir: its blobs are hard-linked into OutputDir before the build, so the
	// exporter writes only new ones, and those are linked back after. Empty means none.
	BlobCache string
}

// Result is what a successful build produced.
type Result struct {
	// Digest is the image manifest's digest, "sha256:…": the build's identity.
	Digest string
	// LayoutDir is the OCI image layout holding the image: Request.OutputDir.
	LayoutDir string
}

// Line is one line of build progress, as BuildKit's plain progress output prints it:
// "#5 [2/3] RUN echo hi", "#5 0.412 hi", "#5 DONE 0.5s", "#5 CACHED", "#5 ERROR: …".
type Line struct {
	// Time is when the line was printed.
	Time time.Time
	// Text is the line without its newline; BuildKit separates steps with empty lines.
	Text string
}

// Build runs req on buildkitd with the Dockerfile frontend and writes the image to
// req.OutputDir as an OCI layout. progress, if not nil, is called with each line of build
// output, in order, from one goroutine at a time. Cancelling ctx cancels the build on buildkitd.
// A failure the build inputs cause (bad Dockerfile, failing step, missing context) is a
// *BuildError; any other error, such as buildkitd being unreachable, is transient: see Classify.
func (b *Builder) Build(ctx context.Context, req Request, progress func(Line)) (Result, error) {
	opt, err := b.solveOpt(req, req.CacheRef != "" && cacheExists(ctx, req.CacheRef, req.CacheInsecure))
	if err != nil {
		return Result{}, err
	}
	c, err := client.New(ctx, b.Address)
	if err != nil {
		return Result{}, fmt.Errorf("connecting to buildkitd at %s: %w", b.Address, err)
	}
	defer c.Close()
	if req.BlobCache != "" {
		if _, err := linkBlobs(req.BlobCache, blobDir(req.OutputDir)); err != nil {
			return Result{}, fmt.Errorf("sharing cached blobs: %w", err)
		}
	}

	if progress == nil {
		progress = func(Line) {}
	}
	out := &lineWriter{emit: func(s string) { progress(Line{Time: time.Now(), Text: s}) }}
	display, err := progressui.NewDisplay(out, progressui.PlainMode)
	if err != nil {
		return Result{}, fmt.Errorf("creating progress display: %w", err)
	}
	status := make(chan *client.SolveStatus)
	displayed := make(chan error, 1)
	go func() {
		// The display reads until Solve closes the channel, even after ctx ends: Solve blocks
		// sending to it otherwise.
		_, err := display.UpdateFrom(context.WithoutCancel(ctx), status)
		displayed <- err
	}()
	resp, solveErr := c.Solve(ctx, nil, opt, status)
	displayErr := <-displayed
	out.flush()

	if solveErr != nil {
		if ctx.Err() != nil {
			return Result{}, fmt.Errorf("building %s: %w", req.ContextDir, context.Cause(ctx))
		}
		return Result{}, classified(solveErr, b.Address)
	}
	if displayErr != nil {
		return Result{}, fmt.Errorf("showing build progress: %w", displayErr)
	}
	digest := resp.ExporterResponse[exptypes.ExporterImageDigestKey]
	if digest == "" {
		return Result{}, fmt.Errorf("building %s: buildkitd reported no image digest", req.ContextDir)
	}
	if req.BlobCache != "" {
		if _, err := linkBlobs(blobDir(req.OutputDir), req.BlobCache); err != nil {
			return Result{}, fmt.Errorf("keeping the image's blobs: %w", err)
		}
	}
	return Result{Digest: digest, LayoutDir: req.OutputDir}, nil
}

// solveOpt checks req and turns it into BuildKit's solve options; importCache says req.CacheRef
// holds a cache to import.
func (b *Builder) solveOpt(req Request, importCache bool) (client.SolveOpt, error) {
	if req.OutputDir == "" {
		return client.SolveOpt{}, errors.New("building: Request.OutputDir is required")
	}
	if req.ContextDir == "" {
		return client.SolveOpt{}, errors.New("building: Request.ContextDir is required")
	}
	if fi, err := os.Stat(req.ContextDir); err != nil || !fi.IsDir() {
		return client.SolveOpt{}, &BuildError{Type: ErrTypeBuildContext, Msg: fmt.Sprintf("build context %s is not a directory", req.ContextDir), Err: err}
	}
	dockerfile := req.Dockerfile
	if dockerfile == "" {
		dockerfile = "Dockerfile"
	}
	if !filepath.IsAbs(dockerfile) {
		dockerfile = filepath.Join(req.ContextDir, dockerfile)
	}
	if fi, err := os.Stat(dockerfile); err != nil || !fi.Mode().IsRegular() {
		if err == nil {
			err = fs.ErrInvalid
		}
		return client.SolveOpt{}, &BuildError{Type: ErrTypeDockerfile, Msg: fmt.Sprintf("Dockerfile %s not found", dockerfile), Err: err}
	}
	contextFS, err := fsutil.NewFS(req.ContextDir)
	if err != nil {
		return client.SolveOpt{}, &BuildError{Type: ErrTypeBuildContext, Msg: fmt.Sprintf("opening build context %s", req.ContextDir), Err: err}
	}
	dockerfileFS, err := fsutil.NewFS(filepath.Dir(dockerfile))
	if err != nil {
		return client.SolveOpt{}, &BuildError{Type: ErrTypeDockerfile, Msg: fmt.Sprintf("opening Dockerfile directory %s", filepath.Dir(dockerfile)), Err: err}
	}

	attrs := map[string]string{"filename": filepath.Base(dockerfile)}
	if req.Target != "" {
		attrs["target"] = req.Target
	}
	for k, v := range req.BuildArgs {
		attrs["build-arg:"+k] = v
	}
	opt := client.SolveOpt{
		Frontend:      "dockerfile.v0",
		FrontendAttrs: attrs,
		LocalMounts:   map[string]fsutil.FS{localContext: contextFS, localDockerfile: dockerfileFS},
		Session:       []session.Attachable{b.authProvider()},
		Exports: []client.ExportEntry{{
			Type:      client.ExporterOCI,
			Attrs:     map[string]string{"tar": "false"},
			OutputDir: req.OutputDir,
		}},
	}
	if req.CacheRef != "" {
		cache := map[string]string{"ref": req.CacheRef}
		if req.CacheInsecure {
			cache["registry.insecure"] = strconv.FormatBool(true)
		}
		export := maps.Clone(cache)
		export["mode"] = "max"
		if importCache {
			opt.CacheImports = []client.CacheOptionsEntry{{Type: "registry", Attrs: cache}}
		}
		opt.CacheExports = []client.CacheOptionsEntry{{Type: "registry", Attrs: export}}
	}
	if req.CacheDir != "" {
		opt.CacheExports = []client.CacheOptionsEntry{{Type: "local", Attrs: map[string]string{
			"dest": req.CacheDir, "mode": "max", "image-manifest": "true", "oci-mediatypes": "true",
		}}}
	}
	return opt, nil
}
