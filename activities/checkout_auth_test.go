package activities

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slipway-dev/slipway/gitcred"
	"github.com/slipway-dev/slipway/secretbox"
	"github.com/slipway-dev/slipway/store"
	"github.com/slipway-dev/slipway/workflows"
)

const (
	gitUser   = "ci-bot"
	gitCanary = "CANARY-checkout-token-3c9d71e2"
)

// serveGitHTTP serves the repository at the file:// URL repo with git http-backend behind HTTP basic auth that
// wants gitUser and gitCanary (401 without credentials, 403 with wrong ones), and returns its http:// URL.
func serveGitHTTP(t *testing.T, repo string) string {
	t.Helper()
	out, err := exec.Command("git", "--exec-path").Output()
	if err != nil {
		t.Skipf("git is not installed: %v", err)
	}
	u, err := url.Parse(repo)
	if err != nil {
		t.Fatal(err)
	}
	backend := &cgi.Handler{
		Path:   filepath.Join(strings.TrimSpace(string(out)), "git-http-backend"),
		Env:    []string{"GIT_PROJECT_ROOT=" + filepath.Dir(u.Path), "GIT_HTTP_EXPORT_ALL=1"},
		Stderr: io.Discard,
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, ok := r.BasicAuth()
		switch {
		case !ok:
			w.Header().Set("WWW-Authenticate", `Basic realm="git"`)
			http.Error(w, "credentials required", http.StatusUnauthorized)
		case user != gitUser || pass != gitCanary:
			http.Error(w, "bad credentials", http.StatusForbidden)
		default:
			backend.ServeHTTP(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/" + filepath.Base(u.Path)
}

// TestCheckoutUsesTheRepoCredential checks out over HTTP with the component's stored token, which the activity
// opens itself: the workflow input names only the component. The token shows nowhere else: not in the input, the
// build log, the error of a refused checkout, nor the database file.
func TestCheckoutUsesTheRepoCredential(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "slipway.db")
	st, err := store.Open(ctx, "sqlite://"+dbPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	keys, err := secretbox.LoadOrCreateKeyring(filepath.Join(dir, "keyring.json"))
	if err != nil {
		t.Fatal(err)
	}
	fileRepo, sha := commitRepo(t, map[string]string{"Dockerfile": "FROM scratch\n", "index.html": "<h1>private</h1>\n"})
	repo := serveGitHTTP(t, fileRepo)
	if _, err := st.CreateProject(ctx, store.Project{Name: "shop"}, []store.Environment{{Name: "development"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateComponent(ctx, store.Component{Project: "shop", Name: "api", Repo: repo, Branch: "main"}); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"b1", "b2", "b3"} {
		if _, err := st.CreateBuild(ctx, store.Build{ID: id, Project: "shop", Component: "api", Commit: sha}); err != nil {
			t.Fatal(err)
		}
	}
	b := &Builds{Store: st, Keyring: keys, WorkDir: t.TempDir()}
	input := func(id string) workflows.CheckoutInput {
		return workflows.CheckoutInput{BuildID: id, Project: "shop", Component: "api", Repo: repo, Commit: sha}
	}

	// No credential: the server refuses, which no retry fixes.
	err = run(t, b, b.Checkout, input("b1"), nil)
	wantNonRetryable(t, err, ErrTypeGitAuth)

	sealed, err := gitcred.Seal(keys, "shop", "api", gitcred.Credential{Token: gitCanary, Username: gitUser})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.PutRepoCredential(ctx, "shop", "api", sealed); err != nil {
		t.Fatal(err)
	}
	var res workflows.CheckoutResult
	if err := run(t, b, b.Checkout, input("b2"), &res); err != nil {
		t.Fatalf("Checkout with the stored token: %v", err)
	}
	if got, err := os.ReadFile(filepath.Join(res.Workspace, "src", "index.html")); err != nil || string(got) != "<h1>private</h1>\n" {
		t.Fatalf("index.html in the workspace = %q, %v", got, err)
	}
	// The checkout records the commit's committer time on the build (commitRepo commits at this time).
	if built, err := st.GetBuild(ctx, "b2"); err != nil || built.CommittedAt == nil ||
		!built.CommittedAt.Equal(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)) {
		t.Fatalf("b2's CommittedAt = %v, %v; want the commit's time", built.CommittedAt, err)
	}

	// A wrong token is refused, and the error does not carry it.
	sealed, err = gitcred.Seal(keys, "shop", "api", gitcred.Credential{Token: gitCanary + "-old", Username: gitUser})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.PutRepoCredential(ctx, "shop", "api", sealed); err != nil {
		t.Fatal(err)
	}
	err = run(t, b, b.Checkout, input("b3"), nil)
	wantNonRetryable(t, err, ErrTypeGitAuth)
	if strings.Contains(err.Error(), gitCanary) {
		t.Errorf("the refused checkout's error shows the token: %v", err)
	}

	payload, err := json.Marshal(input("b2"))
	if err != nil {
		t.Fatal(err)
	}
	seen := []string{string(payload)}
	for _, id := range []string{"b1", "b2", "b3"} {
		lines, err := st.BuildLog(ctx, id, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range lines {
			seen = append(seen, l.Text)
		}
	}
	for _, s := range seen {
		if strings.Contains(s, gitCanary) {
			t.Errorf("the token shows in %q", s)
		}
	}

	files, err := filepath.Glob(dbPath + "*")
	if err != nil {
		t.Fatal(err)
	}
	var all []byte
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, data...)
	}
	if !bytes.Contains(all, []byte(repo)) {
		t.Fatalf("the repository URL is not in %v: the scan cannot see stored data", files)
	}
	if bytes.Contains(all, []byte(gitCanary)) {
		t.Error("the token is in the database files")
	}
}
