package gitsource

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
)

const testToken = "ghs_s3cretTokenValue"

// serveHTTP serves the repository h with git's own smart HTTP server, git http-backend, behind
// a check of HTTP basic auth: no credentials get 401, a wrong token 403. block, when not nil,
// is called for each git-upload-pack request before it is served.
func serveHTTP(t *testing.T, h *history, block func(*http.Request)) string {
	t.Helper()
	out, err := exec.Command("git", "--exec-path").Output()
	if err != nil {
		t.Skipf("git is not installed: %v", err)
	}
	backend := &cgi.Handler{
		Path:   filepath.Join(strings.TrimSpace(string(out)), "git-http-backend"),
		Env:    []string{"GIT_PROJECT_ROOT=" + filepath.Dir(h.dir), "GIT_HTTP_EXPORT_ALL=1"},
		Stderr: io.Discard, // git's own complaints, such as "not our ref"
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, ok := r.BasicAuth()
		switch {
		case !ok:
			w.Header().Set("WWW-Authenticate", `Basic realm="git"`)
			http.Error(w, "credentials required", http.StatusUnauthorized)
			return
		case user != DefaultTokenUser || pass != testToken:
			http.Error(w, "bad credentials", http.StatusForbidden)
			return
		}
		if block != nil && strings.HasSuffix(r.URL.Path, "/git-upload-pack") {
			block(r)
		}
		backend.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/" + filepath.Base(h.dir)
}

func TestHTTP(t *testing.T) {
	h := newHistory(t)
	repo := serveHTTP(t, h, nil)
	reachable := newHistory(t)
	reachable.allowReachableSHA1InWant()
	reachableRepo := serveHTTP(t, reachable, nil)
	auth := Auth{Token: testToken}
	ctx := context.Background()

	for _, tc := range []struct{ repo, ref, want string }{
		{repo, "", h.c4.String()},
		{repo, "v2", h.c2.String()},
		{repo, h.c3.String(), h.c3.String()},
		{repo, h.c3.String()[:8], h.c3.String()},
		{reachableRepo, h.c3.String(), h.c3.String()},
	} {
		got, err := Resolve(ctx, tc.repo, tc.ref, auth)
		if err != nil {
			t.Fatalf("Resolve(%s, %q): %v", tc.repo, tc.ref, err)
		}
		if got != tc.want {
			t.Errorf("Resolve(%s, %q) = %s, want %s", tc.repo, tc.ref, got, tc.want)
		}
	}
	for _, r := range []string{repo, reachableRepo} {
		_, err := Resolve(ctx, r, strings.Repeat("ab", 20), auth)
		if !errors.Is(err, ErrUnknownRef) {
			t.Errorf("unknown SHA from %s: error = %v, want ErrUnknownRef", r, err)
		}
	}

	for _, c := range []struct {
		name string
		repo string
		sha  plumbing.Hash
	}{
		{"tip", repo, h.c4},
		{"no tip", repo, h.c3},
		{"no tip, reachable SHA1 in want", reachableRepo, h.c3},
	} {
		t.Run("checkout/"+c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "src")
			if err := Checkout(ctx, c.repo, c.sha.String(), dir, auth); err != nil {
				t.Fatal(err)
			}
			assertTree(t, dir, h.files[c.sha])
		})
	}
}

func TestHTTPAuth(t *testing.T) {
	h := newHistory(t)
	repo := serveHTTP(t, h, nil)
	withUserinfo := func(userinfo string) string {
		return strings.Replace(repo, "http://", "http://"+userinfo+"@", 1)
	}
	ctx := context.Background()

	got, err := Resolve(ctx, withUserinfo(DefaultTokenUser+":"+testToken), "main", Auth{})
	if err != nil || got != h.c4.String() {
		t.Errorf("token in the URL: Resolve = %s, %v; want %s", got, err, h.c4)
	}

	for _, c := range []struct {
		name, repo string
		auth       Auth
		secret     string
	}{
		{"no credentials", repo, Auth{}, ""},
		{"wrong token", repo, Auth{Token: "wrong-token-1234"}, "wrong-token-1234"},
		{"wrong user", repo, Auth{Token: testToken, Username: "someone"}, testToken},
		{"wrong token in the URL", withUserinfo("x-access-token:wrong-token-5678"), Auth{}, "wrong-token-5678"},
		{"token as the URL's user", withUserinfo("wrong-token-9012"), Auth{}, "wrong-token-9012"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Resolve(ctx, c.repo, "main", c.auth)
			if !errors.Is(err, ErrAuth) {
				t.Errorf("Resolve: error = %v, want ErrAuth", err)
			}
			err2 := Checkout(ctx, c.repo, h.c4.String(), filepath.Join(t.TempDir(), "src"), c.auth)
			if !errors.Is(err2, ErrAuth) {
				t.Errorf("Checkout: error = %v, want ErrAuth", err2)
			}
			for _, err := range []error{err, err2} {
				if err == nil {
					continue
				}
				msg := err.Error()
				if c.secret != "" && strings.Contains(msg, c.secret) {
					t.Errorf("error %q holds the secret", msg)
				}
				if strings.Contains(msg, "@") || !strings.Contains(msg, repo) {
					t.Errorf("error %q does not name %s without user info", msg, repo)
				}
			}
		})
	}
}

func TestHTTPCancelDuringFetch(t *testing.T) {
	h := newHistory(t)
	reached := make(chan struct{}, 1)
	repo := serveHTTP(t, h, func(r *http.Request) {
		select {
		case reached <- struct{}{}:
		default:
		}
		// Hold the fetch until the client gives up. The server notices that only once it has
		// read the request body.
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		<-r.Context().Done()
	})

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir := filepath.Join(t.TempDir(), "src")
	done := make(chan error, 1)
	go func() { done <- Checkout(ctx, repo, h.c3.String(), dir, Auth{Token: testToken}) }()

	select {
	case <-reached:
	case err := <-done:
		t.Fatalf("Checkout ended before fetching: %v", err)
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("error = %v, want context.Canceled", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Checkout did not return after cancellation")
	}
	assertOnlyEntry(t, filepath.Dir(dir))
}
