package activities

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-git/go-git/v5/config"
	"github.com/google/go-containerregistry/pkg/name"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/slipway-dev/slipway/api"
	"github.com/slipway-dev/slipway/buildkit"
	"github.com/slipway-dev/slipway/descriptor"
	"github.com/slipway-dev/slipway/gitcred"
	"github.com/slipway-dev/slipway/gitsource"
	"github.com/slipway-dev/slipway/imagepush"
	"github.com/slipway-dev/slipway/scan"
	"github.com/slipway-dev/slipway/secretbox"
	"github.com/slipway-dev/slipway/sourcebuild"
	"github.com/slipway-dev/slipway/store"
	"github.com/slipway-dev/slipway/workflows"
)

// Stable types of the build activities' non-retryable errors, beside those of the adapters
// (buildkit.ErrTypeDockerfile, buildkit.ErrTypeBuildStep, imagepush.ErrTypeInvalidLayout, …).
const (
	// ErrTypeUnknownCommit means the commit is not in the repository (any more).
	ErrTypeUnknownCommit = "UnknownCommit"
	// ErrTypeGitAuth means the Git server refused slipway's credentials.
	ErrTypeGitAuth = "GitAuthRefused"
	// ErrTypeBadPath means the component's Dockerfile or context path leaves the repository, or a
	// workspace to remove is not one of the worker's.
	ErrTypeBadPath = "InvalidBuildPath"
	// ErrTypeUnfetched means the build context holds what a checkout does not fetch: a Git
	// submodule, or files kept in Git LFS (the context would hold their pointers).
	ErrTypeUnfetched = "UnfetchedRepositoryContent"
	// ErrTypeBuildNotStartable means the build to start is not in the store or has already ended.
	ErrTypeBuildNotStartable = "BuildNotStartable"
	// ErrTypeBuildNotFound means the build to finish is not in the store.
	ErrTypeBuildNotFound = "BuildNotFound"
)

// BuildStore is the part of the metadata store the build activities use.
type BuildStore interface {
	// UpdateBuild changes a build in one transaction.
	UpdateBuild(ctx context.Context, id string, update func(*store.Build) error) (store.Build, error)
	// AppendBuildLog adds lines to a build's log.
	AppendBuildLog(ctx context.Context, id string, lines ...string) error
	// GetRepoCredential returns a component's sealed Git credential; ErrNotFound when it has none.
	GetRepoCredential(ctx context.Context, project, component string) (secretbox.Sealed, time.Time, error)
	// PutBuildScan keeps a build's scan report and summary.
	PutBuildScan(ctx context.Context, id string, r scan.Report, sum scan.Summary) error
	// PutBuildSpec keeps a build's component descriptor and API specs.
	PutBuildSpec(ctx context.Context, id string, d descriptor.Descriptor, specs []descriptor.Spec) error
	// PutBuildSource keeps how a build from source was built.
	PutBuildSource(ctx context.Context, id string, src api.SourceBuild) error
	// PutBuildCommitTime keeps when a build's commit was committed.
	PutBuildCommitTime(ctx context.Context, id string, at time.Time) error
	// GetPromotion returns a promotion request; ErrNotFound when there is none.
	GetPromotion(ctx context.Context, id string) (store.Promotion, error)
	// GetProject returns a project, with its scan policy; ErrNotFound when there is none.
	GetProject(ctx context.Context, name string) (store.Project, error)
	// PutPromotionScan keeps the re-scan report of a promotion request's digest and its summary on the request.
	PutPromotionScan(ctx context.Context, id string, r scan.Report, sum scan.Summary) error
}

var _ BuildStore = (*store.Store)(nil)

// Builds holds the build pipeline's activities. Checkout, BuildImage, PushImage and RemoveWorkspace
// run in one worker session: the workspace and the image live on that worker's disk. RescanPromotion
// runs outside any session: it fetches the image from the registry.
type Builds struct {
	Store BuildStore
	// Keyring opens the components' repo credentials (see gitcred). Nil means every repository is read
	// anonymously.
	Keyring gitcred.Opener
	// WorkDir holds one workspace per build, WorkDir/<build ID>.
	WorkDir  string
	BuildKit *buildkit.Builder
	// Pusher pushes the builds' images, and fetches one back for a re-scan at promotion.
	Pusher *imagepush.Pusher
	// Registry is the host[:port] the builds' images are pushed to, as Registry/<project>/<component>
	// (delivery.Builds.Registry); a re-scan at promotion fetches the image from there. "" fails every re-scan.
	Registry string
	// Scanner scans images before they are pushed; nil fails every scan (a worker cannot skip it).
	Scanner ImageScanner
	// CacheInsecure says the registry BuildKit's cache goes to speaks plain HTTP.
	CacheInsecure bool
	// LocalCacheOnly leaves BuildKit's cache to buildkitd alone (one buildkitd whose state persists, as
	// `slipway dev`'s): builds neither import nor export a registry cache. Zero means the cache is imported
	// from each build's CacheRef and exported beside the image, to be pushed there after the scan.
	LocalCacheOnly bool
	// SourceImages are the base images of builds from source (components without a Dockerfile); a zero field
	// is sourcebuild's default, the official image.
	SourceImages sourcebuild.Images
	// Logger receives what goes wrong around a build (not its log); nil means slog.Default().
	Logger *slog.Logger
}

func (b *Builds) log() *slog.Logger {
	if b.Logger == nil {
		return slog.Default()
	}
	return b.Logger
}

// StartBuild marks the build running under the given run. Repeating it is harmless.
func (b *Builds) StartBuild(ctx context.Context, in workflows.StartBuildInput) error {
	_, err := b.Store.UpdateBuild(ctx, in.BuildID, func(bd *store.Build) error {
		if bd.StartedAt == nil {
			now := time.Now().UTC()
			bd.StartedAt = &now
		}
		bd.Status, bd.RunID = api.BuildRunning, in.RunID
		return nil
	})
	if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrInvalid) {
		return temporal.NewNonRetryableApplicationError("starting build "+in.BuildID, ErrTypeBuildNotStartable, err)
	}
	return err
}

// blobCacheDir is the directory in WorkDir holding the image blobs this worker's builds share
// (build IDs, the workspaces' names, start with "b-").
const blobCacheDir = "blobs"

// workspace returns the build's workspace directory.
func (b *Builds) workspace(buildID string) string { return filepath.Join(b.WorkDir, buildID) }

// Checkout fetches exactly the commit into a fresh workspace.
func (b *Builds) Checkout(ctx context.Context, in workflows.CheckoutInput) (workflows.CheckoutResult, error) {
	ws := b.workspace(in.BuildID)
	if err := os.RemoveAll(ws); err != nil {
		return workflows.CheckoutResult{}, fmt.Errorf("clearing workspace: %w", err)
	}
	src := filepath.Join(ws, "src")
	auth, err := b.repoAuth(ctx, in.Project, in.Component)
	if err != nil {
		return workflows.CheckoutResult{}, err
	}
	b.appendLog(ctx, in.BuildID, fmt.Sprintf("checking out %s", in.Commit))
	stop := heartbeatEvery(heartbeatInterval, func() { activity.RecordHeartbeat(ctx, "fetching "+in.Commit) })
	committedAt, err := gitsource.CheckoutCommit(ctx, in.Repo, in.Commit, src, auth)
	stop()
	switch {
	case errors.Is(err, gitsource.ErrUnknownRef):
		return workflows.CheckoutResult{}, temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeUnknownCommit, err)
	case errors.Is(err, gitsource.ErrAuth), errors.Is(err, gitsource.ErrRepoNotFound):
		return workflows.CheckoutResult{}, temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeGitAuth, err)
	case err != nil:
		return workflows.CheckoutResult{}, err
	}
	if err := b.Store.PutBuildCommitTime(ctx, in.BuildID, committedAt); err != nil {
		return workflows.CheckoutResult{}, fmt.Errorf("storing the commit time: %w", err)
	}
	b.appendLog(ctx, in.BuildID, fmt.Sprintf("checked out %s", in.Commit))
	return workflows.CheckoutResult{Workspace: ws}, nil
}

// repoAuth opens the component's repo credential for a checkout: anonymous access when it has none (or the input
// names no component, or the worker has no keyring). The credential stays in this activity: it is never logged,
// returned or part of an error.
func (b *Builds) repoAuth(ctx context.Context, project, component string) (gitsource.Auth, error) {
	if project == "" || component == "" || b.Keyring == nil {
		return gitsource.Auth{}, nil
	}
	sealed, _, err := b.Store.GetRepoCredential(ctx, project, component)
	if errors.Is(err, store.ErrNotFound) {
		return gitsource.Auth{}, nil
	}
	if err != nil {
		return gitsource.Auth{}, fmt.Errorf("reading the repo credential: %w", err)
	}
	cred, err := gitcred.Open(b.Keyring, project, component, sealed)
	if errors.Is(err, secretbox.ErrDecrypt) {
		return gitsource.Auth{}, temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeUndecryptable, err)
	}
	if err != nil {
		return gitsource.Auth{}, err // an unknown KEK may arrive with the next key file reload
	}
	return cred.Auth(), nil
}

// BuildImage builds the workspace's Dockerfile with BuildKit into an OCI layout in the workspace,
// streaming BuildKit's progress into the build log. It heartbeats every heartbeatInterval, with the
// last progress line, also through a long silent step (a RUN that prints nothing), so Temporal can
// deliver a cancellation, which cancels the solve.
func (b *Builds) BuildImage(ctx context.Context, in workflows.BuildImageInput) (workflows.BuildImageResult, error) {
	src := filepath.Join(in.Workspace, "src")
	contextDir, err := inside(src, in.Context, ".")
	if err != nil {
		return workflows.BuildImageResult{}, err
	}
	dockerfile, err := inside(src, in.Dockerfile, "Dockerfile")
	if err != nil {
		return workflows.BuildImageResult{}, err
	}
	if err := unfetched(src, contextDir); err != nil {
		return workflows.BuildImageResult{}, err
	}
	named := in.Dockerfile != "" && filepath.Clean(in.Dockerfile) != "Dockerfile"
	dockerfile, plan, err := b.sourceDockerfile(ctx, in.BuildID, in.Workspace, src, contextDir, dockerfile, named)
	if err != nil {
		return workflows.BuildImageResult{}, err
	}
	out := filepath.Join(in.Workspace, "image")
	if b.LocalCacheOnly {
		in.CacheRef = ""
	}
	var cacheDir string
	if in.CacheRef != "" {
		// The cache holds every layer: it stays here until the scan lets the image out (PushImage).
		cacheDir = filepath.Join(in.Workspace, "cache")
	}
	for _, dir := range []string{out, filepath.Join(in.Workspace, "cache")} {
		if err := os.RemoveAll(dir); err != nil {
			return workflows.BuildImageResult{}, fmt.Errorf("clearing %s: %w", dir, err)
		}
	}
	logs := b.newLogSink(ctx, in.BuildID)
	var last atomic.Pointer[string]
	last.Store(new("starting the build"))
	stop := heartbeatEvery(heartbeatInterval, func() { activity.RecordHeartbeat(ctx, *last.Load()) })
	res, err := b.BuildKit.Build(ctx, buildkit.Request{
		ContextDir:    contextDir,
		Dockerfile:    dockerfile,
		OutputDir:     out,
		CacheRef:      in.CacheRef,
		CacheDir:      cacheDir,
		CacheInsecure: b.CacheInsecure,
		BlobCache:     filepath.Join(b.WorkDir, blobCacheDir),
	}, func(l buildkit.Line) {
		logs.add(l.Text)
		last.Store(&l.Text)
	})
	stop()
	if err != nil {
		logs.add("ERROR: " + err.Error())
	}
	logs.close()
	if err != nil {
		if typ, permanent := buildkit.Classify(err); permanent {
			return workflows.BuildImageResult{}, temporal.NewNonRetryableApplicationError(err.Error(), typ, err)
		}
		return workflows.BuildImageResult{}, fmt.Errorf("building: %w", err)
	}
	result := workflows.BuildImageResult{Layout: res.LayoutDir, Digest: res.Digest, CacheLayout: cacheDir}
	if plan != nil {
		result.Language = plan.Language
	}
	return result, nil
}

// PushImage pushes the layout by digest and tags it; pushing what the registry has is a no-op.
func (b *Builds) PushImage(ctx context.Context, in workflows.PushImageInput) (workflows.PushImageResult, error) {
	res, err := b.Pusher.Push(ctx, in.Layout, in.Repository, in.Tags)
	if err != nil {
		if typ, permanent := imagepush.Classify(err); permanent {
			return workflows.PushImageResult{}, temporal.NewNonRetryableApplicationError(err.Error(), typ, err)
		}
		return workflows.PushImageResult{}, err
	}
	b.appendLog(ctx, in.BuildID, fmt.Sprintf("pushed %s (%d bytes)", res.Reference, res.Size))
	if in.CacheLayout != "" {
		// The cache only speeds up later builds: failing to push it does not fail this one.
		cres, err := b.pushCache(ctx, in.CacheLayout, in.CacheRef)
		if err != nil {
			b.appendLog(ctx, in.BuildID, "WARNING: pushing the build cache to "+in.CacheRef+": "+err.Error())
		} else {
			b.appendLog(ctx, in.BuildID, fmt.Sprintf("pushed the build cache to %s (%d bytes)", in.CacheRef, cres.Size))
		}
	}
	return workflows.PushImageResult{Digest: res.Digest, Size: res.Size}, nil
}

// pushCache pushes the cache layout to ref, a tag.
func (b *Builds) pushCache(ctx context.Context, layout, ref string) (imagepush.Result, error) {
	tag, err := name.NewTag(ref, name.WeakValidation)
	if err != nil {
		return imagepush.Result{}, err
	}
	return b.Pusher.Push(ctx, layout, tag.Context().String(), []string{tag.TagStr()})
}

// RemoveWorkspace deletes a workspace of this worker, a directory inside WorkDir (never WorkDir
// itself); a missing one is fine, "" means none.
func (b *Builds) RemoveWorkspace(ctx context.Context, in workflows.RemoveWorkspaceInput) error {
	if in.Workspace == "" {
		return nil
	}
	rel, err := filepath.Rel(b.WorkDir, in.Workspace)
	if err != nil || !filepath.IsLocal(rel) || rel == "." {
		return temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("workspace %q is not under the work dir", in.Workspace), ErrTypeBadPath, err)
	}
	if err := os.RemoveAll(in.Workspace); err != nil {
		return fmt.Errorf("removing workspace: %w", err)
	}
	return nil
}

// FinishBuild records how the build ended. A build already finished stays as it was.
func (b *Builds) FinishBuild(ctx context.Context, in workflows.FinishBuildInput) error {
	_, err := b.Store.UpdateBuild(ctx, in.BuildID, func(bd *store.Build) error {
		now := time.Now().UTC()
		bd.Status, bd.Digest, bd.ImageSize, bd.Error, bd.EndedAt = in.Status, in.Digest, in.Size, in.Error, &now
		bd.Steps = make([]store.Step, len(in.Steps))
		for i, s := range in.Steps {
			bd.Steps[i] = store.Step(s)
		}
		return nil
	})
	if errors.Is(err, store.ErrInvalid) {
		return nil // finished by an earlier attempt of this activity
	}
	if errors.Is(err, store.ErrNotFound) {
		return temporal.NewNonRetryableApplicationError("finishing build "+in.BuildID, ErrTypeBuildNotFound, err)
	}
	if err == nil && in.Error != "" {
		b.appendLog(ctx, in.BuildID, "build "+in.Status+": "+in.Error)
	}
	return err
}

// unfetched refuses a build whose context holds what the checkout does not fetch, rather than build
// an image with empty submodule directories or LFS pointer files: a submodule of .gitmodules under
// the context, or a .gitattributes of the repository's root or the context that sends files to LFS.
// The files are read through an os.Root of the checkout, so a link leading out reads nothing.
func unfetched(src, contextDir string) error {
	root, err := os.OpenRoot(src)
	if err != nil {
		return fmt.Errorf("opening the checkout: %w", err)
	}
	defer root.Close()
	rel, err := filepath.Rel(src, contextDir)
	if err != nil {
		return err
	}
	refuse := func(msg string) error {
		return temporal.NewNonRetryableApplicationError(msg, ErrTypeUnfetched, nil)
	}
	if data, err := root.ReadFile(".gitmodules"); err == nil {
		modules := config.NewModules()
		if err := modules.Unmarshal(data); err != nil {
			return refuse(fmt.Sprintf(".gitmodules cannot be read (%v): slipway does not fetch submodules", err))
		}
		for _, m := range modules.Submodules {
			p := filepath.Clean(filepath.FromSlash(m.Path))
			if r, err := filepath.Rel(rel, p); rel == "." || err == nil && filepath.IsLocal(r) {
				return refuse(fmt.Sprintf("submodule %q is in the build context, and slipway does not fetch submodules: vendor it, or build from a context without it", m.Path))
			}
		}
	}
	for _, attrs := range []string{".gitattributes", filepath.Join(rel, ".gitattributes")} {
		data, err := root.ReadFile(attrs)
		if err != nil {
			continue
		}
		for line := range strings.Lines(string(data)) {
			if f := strings.Fields(line); len(f) > 1 && !strings.HasPrefix(f[0], "#") && slices.Contains(f[1:], "filter=lfs") {
				return refuse(fmt.Sprintf("%s sends %s to Git LFS, and slipway does not fetch LFS files (the build would hold their pointers)", filepath.ToSlash(attrs), f[0]))
			}
		}
	}
	return nil
}

// inside joins a path of the repository to its root, refusing one that leaves it; "" means def.
func inside(root, rel, def string) (string, error) {
	if rel == "" {
		rel = def
	}
	clean := filepath.Clean(rel)
	if !filepath.IsLocal(clean) && clean != "." {
		return "", temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("path %q leaves the repository", rel), ErrTypeBadPath, nil)
	}
	// Symbolic links are followed only while they stay in the checkout: a context or Dockerfile that
	// leads out of it (ctx -> /, datadir -> the data dir) would hand the build the host's files.
	realRoot, err := filepath.EvalSymlinks(root)
	if err != nil {
		return "", fmt.Errorf("resolving the checkout %s: %w", root, err)
	}
	realPath, err := filepath.EvalSymlinks(filepath.Join(realRoot, clean))
	if errors.Is(err, fs.ErrNotExist) {
		if target, lerr := os.Readlink(filepath.Join(realRoot, clean)); lerr == nil {
			realPath = target // a dangling link: where it points decides
			if !filepath.IsAbs(realPath) {
				realPath = filepath.Join(realRoot, filepath.Dir(clean), realPath)
			}
		} else {
			return filepath.Join(realRoot, clean), nil // missing: the build says so
		}
	} else if err != nil {
		return "", temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("path %q cannot be resolved in the repository", rel), ErrTypeBadPath, nil)
	}
	if r, err := filepath.Rel(realRoot, realPath); err != nil || (!filepath.IsLocal(r) && r != ".") {
		return "", temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("path %q leaves the repository through a symbolic link", rel), ErrTypeBadPath, nil)
	}
	return realPath, nil
}

// heartbeatInterval is how often a running step heartbeats whatever it is doing: well under the
// pipeline's heartbeat timeout, so a step that is busy but silent (a RUN that sleeps, a big fetch) is
// not taken for a lost worker, and often enough that a cancellation, which Temporal delivers in the
// answer to a heartbeat, reaches the step soon. (The SDK sends heartbeats at most every 80% of the
// heartbeat timeout, capped by the worker's MaxHeartbeatThrottleInterval.)
const heartbeatInterval = 5 * time.Second

// heartbeatEvery calls beat at once and then every interval, from another goroutine, until the
// returned stop is called; stop waits for a beat in progress, so none happens after it returns.
func heartbeatEvery(interval time.Duration, beat func()) (stop func()) {
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			beat()
			select {
			case <-t.C:
			case <-quit:
				return
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() { close(quit) })
		<-done
	}
}

// appendLog adds lines to the build log; a failure to log does not fail the build.
func (b *Builds) appendLog(ctx context.Context, buildID string, lines ...string) {
	if err := b.Store.AppendBuildLog(ctx, buildID, lines...); err != nil {
		b.log().Warn("appending to the build log", "build", buildID, "err", err)
	}
}

// logFlushInterval is how long a build's log lines may wait before they are written, in batches.
const logFlushInterval = 200 * time.Millisecond

// logSink batches a build's log lines into the store, so a chatty build costs one write per interval.
type logSink struct {
	b       *Builds
	ctx     context.Context
	buildID string
	mu      sync.Mutex
	pending []string
	stop    chan struct{}
	done    chan struct{}
}

func (b *Builds) newLogSink(ctx context.Context, buildID string) *logSink {
	s := &logSink{b: b, ctx: context.WithoutCancel(ctx), buildID: buildID, stop: make(chan struct{}), done: make(chan struct{})}
	go s.run()
	return s
}

func (s *logSink) add(line string) {
	s.mu.Lock()
	s.pending = append(s.pending, line)
	s.mu.Unlock()
}

func (s *logSink) run() {
	defer close(s.done)
	t := time.NewTicker(logFlushInterval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			s.flush()
		case <-s.stop:
			s.flush()
			return
		}
	}
}

func (s *logSink) flush() {
	s.mu.Lock()
	lines := s.pending
	s.pending = nil
	s.mu.Unlock()
	if len(lines) > 0 {
		s.b.appendLog(s.ctx, s.buildID, lines...)
	}
}

// close writes what is left and stops the sink.
func (s *logSink) close() {
	close(s.stop)
	<-s.done
}
