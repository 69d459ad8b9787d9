package delivery

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/slipway-dev/slipway/api"
	"github.com/slipway-dev/slipway/gitcred"
	"github.com/slipway-dev/slipway/gitsource"
	"github.com/slipway-dev/slipway/secretbox"
	"github.com/slipway-dev/slipway/store"
	"github.com/slipway-dev/slipway/workflows"
)

// Time limits of the calls Builds makes to Git and Temporal.
const (
	// ResolveTimeout bounds resolving the requested commit in the component's repository.
	ResolveTimeout = 30 * time.Second
	// CommitsTimeout bounds reading the recent commits of the component's branch, or those a promotion brings.
	CommitsTimeout = 30 * time.Second
	// TemporalTimeout bounds one call to Temporal (starting a workflow, signalling one) and recording
	// its outcome.
	TemporalTimeout = 10 * time.Second
)

// startAttempts is how many build IDs a start tries before giving up (IDs of builds that never started are
// skipped).
const startAttempts = 3

// BuildStore is the part of the metadata store starting builds uses.
type BuildStore interface {
	GetProject(ctx context.Context, name string) (store.Project, error)
	GetRepoCredential(ctx context.Context, project, component string) (secretbox.Sealed, time.Time, error)
	BuildsOfCommits(ctx context.Context, project, component string, commits ...string) ([]store.Build, error)
	ListConfigs(ctx context.Context, project, component, environment string) ([]store.ConfigValue, error)
	CreateBuild(ctx context.Context, b store.Build) (store.Build, error)
	GetBuild(ctx context.Context, id string) (store.Build, error)
	UpdateBuild(ctx context.Context, id string, update func(*store.Build) error) (store.Build, error)
}

// WorkflowStarter starts workflows (client.Client).
type WorkflowStarter interface {
	ExecuteWorkflow(ctx context.Context, options client.StartWorkflowOptions, workflow any, args ...any) (client.WorkflowRun, error)
}

// Resolver returns the full SHA of the commit ref names in the Git repository repo (a full or short SHA, a
// branch or a tag), read with auth, with an error wrapping gitsource.ErrUnknownRef when it names none.
type Resolver func(ctx context.Context, repo, ref string, auth gitsource.Auth) (string, error)

// CommitReader returns the newest limit commits of branch in the Git repository repo, newest first along first
// parents, read with auth, with an error wrapping gitsource.ErrUnknownRef when the repository has no such
// branch (gitsource.RecentCommits).
type CommitReader func(ctx context.Context, repo, branch string, limit int, auth gitsource.Auth) ([]gitsource.Commit, error)

// RangeReader returns the commits on branch of the Git repository repo between commit from ("" for none) and
// commit to, at most limit of them, and the files that differ, read with auth, with an error wrapping
// gitsource.ErrUnknownRef when either commit is not on the branch (gitsource.Between).
type RangeReader func(ctx context.Context, repo, branch, from, to string, limit int, auth gitsource.Auth) (gitsource.Range, error)

// Builds starts builds of commits: once per commit, whoever asks (the API, a webhook), under an ID derived
// from the workflow's so a repeated or concurrent start finds the build it made; it lists the recent commits
// of a component's branch with their builds (Commits), and what a promotion changes (PromotionDiff). The zero
// Builds is not usable: Store and Keys are required.
type Builds struct {
	Store BuildStore
	// Keys opens the components' repo credentials, and their config values to compare them (PromotionDiff).
	Keys gitcred.Opener
	// Temporal starts the build workflows; nil refuses every start as Unavailable.
	Temporal WorkflowStarter
	// Registry is the host:port builds are pushed to (Registry/<project>/<component>); "" refuses every start
	// as Unavailable.
	Registry string
	// Resolve turns a requested commit into a SHA; nil means gitsource.Resolve.
	Resolve Resolver
	// RecentCommits reads the newest commits of a branch (Commits); nil means gitsource.RecentCommits.
	RecentCommits CommitReader
	// Between reads the commits and files between two commits of a branch (PromotionDiff); nil means
	// gitsource.Between.
	Between RangeReader
	// QueuedGrace is how long a build may stay queued without a run before another start of its commit
	// starts its workflow (its own start may still be under way); zero means at once.
	QueuedGrace time.Duration
	// Log receives what a start does not return (a run ID that could not be recorded); nil means slog.Default().
	Log *slog.Logger
}

// Started is the answer to a start: the build, and whether it is one the commit had already.
type Started struct {
	Build    store.Build
	Existing bool
}

// BuildID is the ID of the build run by the workflow with this ID: "b-" and 16 hex digits of its SHA-256.
// Deterministic, so that a repeated start finds the build it already made.
func BuildID(workflowID string) string {
	sum := sha256.Sum256([]byte(workflowID))
	return "b-" + hex.EncodeToString(sum[:8])
}

// NeverStarted reports whether b is a build whose workflow could not be started: only then is a build failed
// without a run. Such a build does not count as the commit's build, so the next start makes a new one.
func NeverStarted(b store.Build) bool { return b.Status == api.BuildFailed && b.RunID == "" }

func (s *Builds) log() *slog.Logger {
	if s.Log == nil {
		return slog.Default()
	}
	return s.Log
}

// Ready refuses (Unavailable) when this process cannot start builds: no Temporal or no registry.
func (s *Builds) Ready() error {
	if s.Temporal == nil {
		return errTemporalUnavailable("Temporal is not configured on this server, so builds cannot run")
	}
	if s.Registry == "" {
		return refuse(Unavailable, "registry_not_configured", "",
			"no image registry is configured on this server, so builds cannot be pushed")
	}
	return nil
}

// ResolveCommit returns the SHA of ref (a SHA, branch or tag; "" is the component's branch) in the
// component's repository, read with its repo credential when it has one. Its refusals name the commit or
// the repository and never the credential.
func (s *Builds) ResolveCommit(ctx context.Context, comp store.Component, ref string) (string, error) {
	if ref == "" {
		ref = comp.Branch
	}
	cred, withCredential, err := s.credential(ctx, comp.Project, comp.Name)
	if err != nil {
		return "", err
	}
	resolve := s.Resolve
	if resolve == nil {
		resolve = gitsource.Resolve
	}
	rctx, cancel := context.WithTimeout(ctx, ResolveTimeout)
	defer cancel()
	sha, err := resolve(rctx, comp.Repo, ref, cred.Auth())
	if err != nil {
		return "", resolveError(ref, withCredential, err)
	}
	return sha, nil
}

// credential returns the component's Git credential, opened, and whether it has one.
func (s *Builds) credential(ctx context.Context, project, component string) (gitcred.Credential, bool, error) {
	sealed, _, err := s.Store.GetRepoCredential(ctx, project, component)
	if errors.Is(err, store.ErrNotFound) {
		return gitcred.Credential{}, false, nil
	}
	if err != nil {
		return gitcred.Credential{}, false, err
	}
	cred, err := gitcred.Open(s.Keys, project, component, sealed)
	if err != nil {
		return gitcred.Credential{}, false, fmt.Errorf("reading the repository credential: %w", err)
	}
	return cred, true, nil
}

// resolveError explains why the commit could not be resolved; gitsource's messages carry no credentials.
// withCredential says whether the component's stored credential was used.
func resolveError(ref string, withCredential bool, err error) error {
	return repoError(withCredential, err, &Error{Kind: Invalid, Code: "unknown_commit", Field: "commit", Err: err,
		Message: fmt.Sprintf("commit %q names no commit of the component's repository: %s", ref, err)})
}

// repoError explains why the component's repository could not be read: unknown when err wraps
// gitsource.ErrUnknownRef (what was asked for names nothing in it), else refused credentials, a missing
// repository, or a transient failure worth retrying. gitsource's messages carry no credentials.
// withCredential says whether the component's stored credential was used.
func repoError(withCredential bool, err error, unknown *Error) error {
	access := "anonymous access"
	if withCredential {
		access = "the component's repo credential"
	}
	switch {
	case errors.Is(err, gitsource.ErrUnknownRef):
		return unknown
	case errors.Is(err, gitsource.ErrAuth):
		return &Error{Kind: Invalid, Code: "repo_auth_failed", Field: "repo", Err: err,
			Message: fmt.Sprintf("the component's repository refused %s: %s", access, err)}
	case errors.Is(err, gitsource.ErrRepoNotFound):
		return &Error{Kind: Invalid, Code: "repo_not_found", Field: "repo", Err: err,
			Message: fmt.Sprintf("the component's repository was not found: %s", err)}
	}
	return &Error{Kind: Upstream, Code: "git_unavailable", Err: err,
		Message: fmt.Sprintf("the component's repository could not be read; try again: %s", err)}
}

// Start builds commit sha of the component once: it answers with the commit's newest build when it has one
// (Existing, unless rebuild asks for a new one), else stores a build and starts its workflow. A rebuild is the
// commit's next attempt; builds whose workflow never started do not count as the commit's build.
//
// The build row is created before the workflow is started, under an ID derived from the workflow ID, so a
// repeated or concurrent start finds it; the workflow is started with USE_EXISTING, so it never runs twice.
// When Temporal cannot start it, the row is marked failed (never left queued) and the next start of the commit
// makes a new build.
func (s *Builds) Start(ctx context.Context, comp store.Component, sha string, trigger store.Trigger, rebuild bool) (Started, error) {
	if err := s.Ready(); err != nil {
		return Started{}, err
	}
	for range startAttempts {
		// Most starts of a commit that has a build (redeliveries, a second webhook) end here, on a read.
		builds, err := s.Store.BuildsOfCommits(ctx, comp.Project, comp.Name, sha)
		if err != nil {
			return Started{}, err
		}
		if newest, ok := newestRun(builds); ok && !rebuild {
			return s.existing(ctx, comp, newest), nil
		}
		wid := workflows.BuildWorkflowID(comp.Project, comp.Name, sha, len(builds)+1)
		b, err := s.Store.CreateBuild(ctx, store.Build{
			ID: BuildID(wid), Project: comp.Project, Component: comp.Name, Commit: sha, Trigger: trigger, WorkflowID: wid,
		})
		if err == nil {
			return s.startNew(ctx, comp, b)
		}
		if !errors.Is(err, store.ErrExists) {
			return Started{}, err
		}
		// A concurrent start stored this attempt first: it is the answer, unless its workflow never started.
		existing, err := s.Store.GetBuild(ctx, BuildID(wid))
		if err != nil {
			return Started{}, err
		}
		if !NeverStarted(existing) {
			return s.existing(ctx, comp, existing), nil
		}
	}
	return Started{}, fmt.Errorf("no free build ID for commit %s of %s/%s after %d attempts", sha, comp.Project, comp.Name, startAttempts)
}

// newestRun returns the newest of a commit's builds (given newest first) that is not one whose workflow never
// started: the commit's current build.
func newestRun(builds []store.Build) (store.Build, bool) {
	i := slices.IndexFunc(builds, func(b store.Build) bool { return !NeverStarted(b) })
	if i < 0 {
		return store.Build{}, false
	}
	return builds[i], true
}

// existing answers a start with the build the commit already has. A build still queued without a run long
// after it was stored may be one whose start died between storing it and starting its workflow: its workflow
// is started (USE_EXISTING makes that a no-op when it runs already), so it cannot stay queued for ever.
func (s *Builds) existing(ctx context.Context, comp store.Component, b store.Build) Started {
	// A build queued moments ago is its own start's to start (which is under way): only one left queued
	// longer than a start can take is started here.
	if b.Status == api.BuildQueued && b.RunID == "" && time.Since(b.CreatedAt) >= s.QueuedGrace {
		if runID, err := s.execute(ctx, comp, b); err == nil {
			s.recordRun(ctx, b.ID, runID)
		} else {
			s.log().WarnContext(ctx, "starting the workflow of a queued build failed",
				"build", b.ID, "workflow", b.WorkflowID, "error", err)
		}
	}
	return Started{Build: b, Existing: true}
}

// startNew starts the workflow of the build just stored. When Temporal cannot start it, the build is marked
// failed with the reason and the start fails.
func (s *Builds) startNew(ctx context.Context, comp store.Component, b store.Build) (Started, error) {
	runID, err := s.execute(ctx, comp, b)
	if err != nil {
		s.failUnstarted(ctx, b.ID, err)
		var started *serviceerror.WorkflowExecutionAlreadyStarted
		switch {
		case errors.As(err, &started):
			return Started{}, &Error{Kind: Conflict, Code: "workflow_exists", Err: err, Message: fmt.Sprintf(
				"workflow %s has already run (Temporal keeps closed workflows until their retention ends); trigger again to build under a new ID", b.WorkflowID)}
		case Unreachable(err):
			e := errTemporalUnavailable("Temporal is unavailable, so the build could not start; try again: %s", err)
			e.Err = err
			return Started{}, e
		}
		return Started{}, err
	}
	s.recordRun(ctx, b.ID, runID)
	return Started{Build: b}, nil
}

// execute starts (or, with USE_EXISTING, finds) the build's workflow and returns its run ID. The input holds
// the component's settings as they are now and no secret.
func (s *Builds) execute(ctx context.Context, comp store.Component, b store.Build) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, TemporalTimeout)
	defer cancel()
	project, err := s.Store.GetProject(ctx, b.Project)
	if err != nil {
		return "", fmt.Errorf("reading the scan policy: %w", err)
	}
	in := workflows.BuildPipelineInput{
		BuildID: b.ID, Project: b.Project, Component: b.Component, Repo: comp.Repo, Commit: b.Commit,
		Dockerfile: comp.Dockerfile, Context: comp.Context, Repository: s.Registry + "/" + b.Project + "/" + b.Component,
		ScanPolicy: project.ScanPolicy, AutoDeploy: comp.AutoDeploy, Type: comp.Type,
	}
	run, err := s.Temporal.ExecuteWorkflow(ctx, workflows.BuildStart(b.WorkflowID, b.Trigger.Kind, in), workflows.BuildPipeline, in)
	if err != nil {
		return "", fmt.Errorf("starting workflow %s: %w", b.WorkflowID, err)
	}
	return run.GetRunID(), nil
}

// recordRun stores the run ID of the build's workflow unless the worker has already (it records it too, when
// the run starts). A failure is logged, not returned: the workflow runs whatever the row says.
func (s *Builds) recordRun(ctx context.Context, id, runID string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), TemporalTimeout)
	defer cancel()
	_, err := s.Store.UpdateBuild(ctx, id, func(b *store.Build) error {
		if b.RunID == "" {
			b.RunID = runID
		}
		return nil
	})
	if err != nil && !errors.Is(err, store.ErrInvalid) { // ErrInvalid: the build has finished already.
		s.log().WarnContext(ctx, "recording the run of a build failed", "build", id, "run", runID, "error", err)
	}
}

// failUnstarted marks a build whose workflow could not be started as failed, so it is not left queued. It runs
// even when the caller has gone away.
func (s *Builds) failUnstarted(ctx context.Context, id string, cause error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), TemporalTimeout)
	defer cancel()
	_, err := s.Store.UpdateBuild(ctx, id, func(b *store.Build) error {
		now := time.Now().UTC()
		b.Status, b.Error, b.EndedAt = api.BuildFailed, "the build could not start: "+cause.Error(), &now
		return nil
	})
	if err != nil {
		s.log().ErrorContext(ctx, "marking a build that could not start as failed failed", "build", id, "cause", cause, "error", err)
	}
}
