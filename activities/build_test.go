package activities

import (
	"context"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/slipway-dev/slipway/api"
	"github.com/slipway-dev/slipway/store"
	"github.com/slipway-dev/slipway/store/storetest"
	"github.com/slipway-dev/slipway/workflows"
)

// buildsWithStore returns build activities on a real SQLite store holding one queued build, b1,
// and a fresh work dir. BuildKit and the pusher are nil: these tests do not reach them.
func buildsWithStore(t *testing.T) (*Builds, *store.Store) {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, storetest.SQLiteDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.CreateProject(ctx, store.Project{Name: "shop"}, []store.Environment{{Name: "development"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateComponent(ctx, store.Component{Project: "shop", Name: "api", Repo: "file:///r"}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateBuild(ctx, store.Build{ID: "b1", Project: "shop", Component: "api", Commit: strings.Repeat("a", 40)}); err != nil {
		t.Fatal(err)
	}
	return &Builds{Store: st, WorkDir: t.TempDir()}, st
}

// run executes one of b's activities in a test activity environment and decodes its result into
// out when out is not nil.
func run(t *testing.T, b *Builds, fn any, in any, out any) error {
	t.Helper()
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	env.RegisterActivity(b)
	val, err := env.ExecuteActivity(fn, in)
	if err != nil {
		return err
	}
	if out != nil {
		if err := val.Get(out); err != nil {
			t.Fatal(err)
		}
	}
	return nil
}

// wantNonRetryable fails unless err is a non-retryable application error of type typ.
func wantNonRetryable(t *testing.T, err error, typ string) {
	t.Helper()
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) || appErr.Type() != typ || !appErr.NonRetryable() {
		t.Fatalf("error = %v, want a non-retryable %s", err, typ)
	}
}

func getBuild(t *testing.T, st *store.Store, id string) store.Build {
	t.Helper()
	bd, err := st.GetBuild(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return bd
}

func TestStartBuildIsIdempotent(t *testing.T) {
	b, st := buildsWithStore(t)
	if err := run(t, b, b.StartBuild, workflows.StartBuildInput{BuildID: "b1", RunID: "run-1"}, nil); err != nil {
		t.Fatalf("StartBuild: %v", err)
	}
	first := getBuild(t, st, "b1")
	if first.Status != api.BuildRunning || first.RunID != "run-1" || first.StartedAt == nil {
		t.Fatalf("after StartBuild: status %s, run %q, started %v", first.Status, first.RunID, first.StartedAt)
	}
	if err := run(t, b, b.StartBuild, workflows.StartBuildInput{BuildID: "b1", RunID: "run-1"}, nil); err != nil {
		t.Fatalf("repeated StartBuild: %v", err)
	}
	again := getBuild(t, st, "b1")
	if again.Status != api.BuildRunning || again.RunID != "run-1" || !again.StartedAt.Equal(*first.StartedAt) {
		t.Fatalf("repeated StartBuild changed the build: status %s, run %q, started %v (was %v)",
			again.Status, again.RunID, again.StartedAt, first.StartedAt)
	}
}

func TestStartBuildOfMissingBuildIsNotRetried(t *testing.T) {
	b, _ := buildsWithStore(t)
	err := run(t, b, b.StartBuild, workflows.StartBuildInput{BuildID: "nope", RunID: "run-1"}, nil)
	wantNonRetryable(t, err, ErrTypeBuildNotStartable)
}

func TestFinishBuildRecordsOutcomeOnce(t *testing.T) {
	b, st := buildsWithStore(t)
	if err := run(t, b, b.StartBuild, workflows.StartBuildInput{BuildID: "b1", RunID: "run-1"}, nil); err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	t1 := t0.Add(time.Second)
	fin := workflows.FinishBuildInput{
		BuildID: "b1", Status: api.BuildFailed, Error: "BuildStepFailed: RUN false exited 1",
		Steps: []workflows.Step{
			{Name: workflows.StepCheckout, Status: api.StepSucceeded, StartedAt: &t0, EndedAt: &t1},
			{Name: workflows.StepBuild, Status: api.StepFailed, StartedAt: &t1, EndedAt: &t1},
			{Name: workflows.StepPush, Status: api.StepPending},
		},
	}
	if err := run(t, b, b.FinishBuild, fin, nil); err != nil {
		t.Fatalf("FinishBuild: %v", err)
	}
	bd := getBuild(t, st, "b1")
	if bd.Status != api.BuildFailed || bd.Error != fin.Error || bd.EndedAt == nil {
		t.Fatalf("after FinishBuild: status %s, error %q, ended %v", bd.Status, bd.Error, bd.EndedAt)
	}
	if len(bd.Steps) != 3 || bd.Steps[0].Name != workflows.StepCheckout || !bd.Steps[0].StartedAt.Equal(t0) ||
		bd.Steps[1].Status != api.StepFailed || bd.Steps[2].Status != api.StepPending || bd.Steps[2].StartedAt != nil {
		t.Fatalf("steps recorded = %+v", bd.Steps)
	}
	lines, err := st.BuildLog(context.Background(), "b1", 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != 1 || lines[0].Text != "build failed: "+fin.Error {
		t.Fatalf("log = %+v, want the failure as its last line", lines)
	}

	// A retry of the activity after it succeeded (or a late second finish) leaves the build as it is.
	late := workflows.FinishBuildInput{BuildID: "b1", Status: api.BuildSucceeded, Digest: "sha256:" + strings.Repeat("b", 64), Size: 42}
	if err := run(t, b, b.FinishBuild, late, nil); err != nil {
		t.Fatalf("FinishBuild of a finished build: %v, want nil", err)
	}
	if after := getBuild(t, st, "b1"); after.Status != api.BuildFailed || after.Digest != "" || after.Error != fin.Error ||
		!after.EndedAt.Equal(*bd.EndedAt) || len(after.Steps) != 3 {
		t.Fatalf("finished build changed to %+v", after)
	}
}

func TestFinishBuildRecordsDigest(t *testing.T) {
	b, st := buildsWithStore(t)
	digest := "sha256:" + strings.Repeat("c", 64)
	fin := workflows.FinishBuildInput{BuildID: "b1", Status: api.BuildSucceeded, Digest: digest, Size: 1234,
		Steps: []workflows.Step{{Name: workflows.StepPush, Status: api.StepSucceeded}}}
	if err := run(t, b, b.FinishBuild, fin, nil); err != nil {
		t.Fatalf("FinishBuild: %v", err)
	}
	bd := getBuild(t, st, "b1")
	if bd.Status != api.BuildSucceeded || bd.Digest != digest || bd.ImageSize != 1234 || bd.Error != "" || len(bd.Steps) != 1 {
		t.Fatalf("after FinishBuild: %+v", bd)
	}
	err := run(t, b, b.FinishBuild, workflows.FinishBuildInput{BuildID: "nope", Status: api.BuildSucceeded}, nil)
	wantNonRetryable(t, err, ErrTypeBuildNotFound)
}

func TestRemoveWorkspace(t *testing.T) {
	b, _ := buildsWithStore(t)
	ws := filepath.Join(b.WorkDir, "b1")
	if err := os.MkdirAll(filepath.Join(ws, "src"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(ws, "src", "Dockerfile"), []byte("FROM scratch\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := run(t, b, b.RemoveWorkspace, workflows.RemoveWorkspaceInput{Workspace: ws}, nil); err != nil {
		t.Fatalf("RemoveWorkspace: %v", err)
	}
	if _, err := os.Stat(ws); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("workspace still there: %v", err)
	}
	for _, missing := range []string{ws, ""} {
		if err := run(t, b, b.RemoveWorkspace, workflows.RemoveWorkspaceInput{Workspace: missing}, nil); err != nil {
			t.Fatalf("RemoveWorkspace(%q) of nothing: %v, want nil", missing, err)
		}
	}
}

func TestRemoveWorkspaceRefusesPathsOutsideWorkDir(t *testing.T) {
	b, _ := buildsWithStore(t)
	outside := t.TempDir()
	keep := filepath.Join(outside, "keep")
	if err := os.WriteFile(keep, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, ws := range []string{outside, b.WorkDir, filepath.Join(b.WorkDir, "..", filepath.Base(outside)), "relative/b1"} {
		err := run(t, b, b.RemoveWorkspace, workflows.RemoveWorkspaceInput{Workspace: ws}, nil)
		wantNonRetryable(t, err, ErrTypeBadPath)
	}
	if _, err := os.Stat(keep); err != nil {
		t.Fatalf("a refused removal removed something: %v", err)
	}
	if _, err := os.Stat(b.WorkDir); err != nil {
		t.Fatalf("the work dir is gone: %v", err)
	}
}

// commitRepo makes a Git repository holding files in a temp dir, commits them and returns the
// repository's file:// URL and the commit's SHA.
func commitRepo(t *testing.T, files map[string]string) (string, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "repo")
	repo, err := git.PlainInitWithOptions(dir, &git.PlainInitOptions{
		InitOptions: git.InitOptions{DefaultBranch: plumbing.NewBranchReferenceName("main")},
	})
	if err != nil {
		t.Fatal(err)
	}
	wt, err := repo.Worktree()
	if err != nil {
		t.Fatal(err)
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := wt.Add(name); err != nil {
			t.Fatal(err)
		}
	}
	sha, err := wt.Commit("first", &git.CommitOptions{Author: &object.Signature{
		Name: "Test", Email: "test@example.com", When: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
	}})
	if err != nil {
		t.Fatal(err)
	}
	return (&url.URL{Scheme: "file", Path: dir}).String(), sha.String()
}

func TestCheckoutWritesCommitIntoWorkspace(t *testing.T) {
	b, st := buildsWithStore(t)
	repo, sha := commitRepo(t, map[string]string{"Dockerfile": "FROM scratch\n", "index.html": "<h1>hi</h1>\n"})
	// A leftover of an earlier attempt is replaced.
	stale := filepath.Join(b.WorkDir, "b1", "src", "stale.txt")
	if err := os.MkdirAll(filepath.Dir(stale), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(stale, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}

	var res workflows.CheckoutResult
	if err := run(t, b, b.Checkout, workflows.CheckoutInput{BuildID: "b1", Repo: repo, Commit: sha}, &res); err != nil {
		t.Fatalf("Checkout: %v", err)
	}
	if res.Workspace != filepath.Join(b.WorkDir, "b1") {
		t.Fatalf("workspace %s, want %s", res.Workspace, filepath.Join(b.WorkDir, "b1"))
	}
	if got, err := os.ReadFile(filepath.Join(res.Workspace, "src", "index.html")); err != nil || string(got) != "<h1>hi</h1>\n" {
		t.Fatalf("index.html in the workspace = %q, %v", got, err)
	}
	if _, err := os.Stat(stale); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a file of an earlier checkout survived: %v", err)
	}
	lines, err := st.BuildLog(context.Background(), "b1", 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != 2 || lines[1].Text != "checked out "+sha {
		t.Fatalf("log = %+v", lines)
	}
}

func TestCheckoutOfUnknownCommitIsNotRetried(t *testing.T) {
	b, _ := buildsWithStore(t)
	repo, _ := commitRepo(t, map[string]string{"Dockerfile": "FROM scratch\n"})
	err := run(t, b, b.Checkout, workflows.CheckoutInput{BuildID: "b1", Repo: repo, Commit: strings.Repeat("0", 40)}, nil)
	wantNonRetryable(t, err, ErrTypeUnknownCommit)
}

func TestBuildImageRefusesPathsLeavingTheRepository(t *testing.T) {
	b, _ := buildsWithStore(t)
	ws := filepath.Join(b.WorkDir, "b1")
	if err := os.MkdirAll(filepath.Join(ws, "src"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, in := range []workflows.BuildImageInput{
		{Dockerfile: "../x"},
		{Dockerfile: "docker/../../Dockerfile"},
		{Dockerfile: "/etc/passwd"},
		{Context: ".."},
		{Context: "/"},
	} {
		in.BuildID, in.Workspace = "b1", ws
		err := run(t, b, b.BuildImage, in, nil)
		wantNonRetryable(t, err, ErrTypeBadPath)
	}
}

func TestInsideKeepsPathsInTheRepository(t *testing.T) {
	root := filepath.Join(t.TempDir(), "src")
	outside := filepath.Join(filepath.Dir(root), "data")
	for _, dir := range []string{filepath.Join(root, "docker"), filepath.Join(root, "b"), outside} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.WriteFile(filepath.Join(root, "docker", "Dockerfile"), []byte("FROM busybox\n"), 0o644))
	must(os.WriteFile(filepath.Join(outside, "admin-token"), []byte("slw_secret\n"), 0o600))
	must(os.Symlink("/", filepath.Join(root, "ctx")))                          // the host's root
	must(os.Symlink(outside, filepath.Join(root, "datadir")))                  // slipway's data dir
	must(os.Symlink("/etc/passwd", filepath.Join(root, "Dockerfile.evil")))    // a Dockerfile that is a host file
	must(os.Symlink("../data/gone", filepath.Join(root, "dangling")))          // leads out, to nothing
	must(os.Symlink("docker", filepath.Join(root, "d")))                       // stays inside
	must(os.Symlink("d/Dockerfile", filepath.Join(root, "Dockerfile.linked"))) // a chain, inside
	for _, tc := range []struct{ rel, def, want string }{
		{"", "Dockerfile", "Dockerfile"}, // missing: the build says so
		{"", ".", ""},
		{".", ".", ""},
		{"docker/Dockerfile", "Dockerfile", "docker/Dockerfile"},
		{"a/../b", ".", "b"},
		{"d", ".", "docker"},
		{"Dockerfile.linked", "Dockerfile", "docker/Dockerfile"},
	} {
		got, err := inside(root, tc.rel, tc.def)
		if want := filepath.Join(root, tc.want); err != nil || got != want {
			t.Errorf("inside(%q, default %q) = %q, %v; want %q", tc.rel, tc.def, got, err, want)
		}
	}
	for _, rel := range []string{"ctx", "ctx/etc", "datadir", "datadir/admin-token", "Dockerfile.evil", "dangling", "../x", "/etc"} {
		_, err := inside(root, rel, ".")
		wantNonRetryable(t, err, ErrTypeBadPath)
		if err != nil && strings.Contains(err.Error(), "slw_") {
			t.Errorf("inside(%q): the error %q shows what the link leads to", rel, err)
		}
	}
}

// TestHeartbeatEveryBeatsUntilStopped runs on synctest's fake clock: a silent step still beats
// every interval, and no beat comes after stop.
func TestHeartbeatEveryBeatsUntilStopped(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var beats atomic.Int32
		stop := heartbeatEvery(10*time.Second, func() { beats.Add(1) })
		synctest.Wait()
		if n := beats.Load(); n != 1 {
			t.Fatalf("%d beats at start, want 1", n)
		}
		time.Sleep(95 * time.Second)
		synctest.Wait()
		if n := beats.Load(); n != 10 {
			t.Fatalf("%d beats after 95s, want 10", n)
		}
		stop()
		stop() // harmless
		time.Sleep(time.Minute)
		synctest.Wait()
		if n := beats.Load(); n != 10 {
			t.Fatalf("%d beats after stop, want still 10", n)
		}
	})
}

func TestUnfetchedContentIsRefused(t *testing.T) {
	write := func(t *testing.T, files map[string]string) string {
		t.Helper()
		dir := t.TempDir()
		for name, body := range files {
			p := filepath.Join(dir, filepath.FromSlash(name))
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return dir
	}
	modules := "[submodule \"lib\"]\n\tpath = app/lib\n\turl = https://example.com/lib.git\n"
	for _, tc := range []struct {
		name    string
		files   map[string]string
		context string
		want    string // "" means accepted
	}{
		{"plain", map[string]string{"Dockerfile": "FROM busybox\n"}, ".", ""},
		{"submodule in context", map[string]string{".gitmodules": modules}, ".", `submodule "app/lib"`},
		{"submodule under the context dir", map[string]string{".gitmodules": modules}, "app", `submodule "app/lib"`},
		{"submodule outside the context", map[string]string{".gitmodules": modules}, "web", ""},
		{"LFS at the root", map[string]string{".gitattributes": "# big files\n*.bin filter=lfs diff=lfs merge=lfs -text\n"}, ".", "*.bin to Git LFS"},
		{"LFS in the context", map[string]string{"app/.gitattributes": "*.png filter=lfs\n"}, "app", "app/.gitattributes sends *.png"},
		{"attributes without LFS", map[string]string{".gitattributes": "*.sh text eol=lf\n#x filter=lfs\n"}, ".", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := write(t, tc.files)
			err := unfetched(src, filepath.Join(src, tc.context))
			if tc.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var app *temporal.ApplicationError
			if !errors.As(err, &app) || app.Type() != ErrTypeUnfetched || !app.NonRetryable() || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want non-retryable %s naming %q", err, ErrTypeUnfetched, tc.want)
			}
		})
	}
	// A .gitmodules that is a link out of the checkout is not read.
	src := write(t, map[string]string{})
	outside := write(t, map[string]string{"m": modules})
	if err := os.Symlink(filepath.Join(outside, "m"), filepath.Join(src, ".gitmodules")); err != nil {
		t.Fatal(err)
	}
	if err := unfetched(src, src); err != nil {
		t.Errorf("a .gitmodules linking out was read: %v", err)
	}
}
