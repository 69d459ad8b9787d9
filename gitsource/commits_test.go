package gitsource

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// merge adds a commit with the tree of parents[0] and these parents (the first is the first parent) and
// points branch at it.
func (h *history) merge(branch, msg string, parents ...plumbing.Hash) plumbing.Hash {
	h.t.Helper()
	tip, err := h.repo.CommitObject(parents[0])
	if err != nil {
		h.t.Fatal(err)
	}
	sig := h.signature()
	c := &object.Commit{Author: *sig, Committer: *sig, Message: msg, TreeHash: tip.TreeHash, ParentHashes: parents}
	o := h.repo.Storer.NewEncodedObject()
	if err := c.Encode(o); err != nil {
		h.t.Fatal(err)
	}
	id, err := h.repo.Storer.SetEncodedObject(o)
	if err != nil {
		h.t.Fatal(err)
	}
	h.branch(branch, id)
	return id
}

// shas returns the SHAs of cs, in order.
func shas(cs []Commit) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.SHA
	}
	return out
}

func hexes(hs ...plumbing.Hash) []string {
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = h.String()
	}
	return out
}

func TestRecentCommits(t *testing.T) {
	h := newHistory(t)
	merged := h.merge("merged", "Merge feature\n\nwith its one commit\n", h.c4, h.f1)
	ctx := context.Background()

	for _, srv := range []servedHistory{{"file URL", h, h.fileURL()}, {"path", h, h.dir}} {
		for _, tc := range []struct {
			name, branch string
			limit        int
			want         []string
		}{
			{"newest first", "main", 3, hexes(h.c4, h.c3, h.c2)},
			{"one", "main", 1, hexes(h.c4)},
			{"limit larger than the history", "main", 100, hexes(h.c4, h.c3, h.c2, h.c1)},
			{"exactly the history", "main", 4, hexes(h.c4, h.c3, h.c2, h.c1)},
			{"full ref name", "refs/heads/main", 2, hexes(h.c4, h.c3)},
			{"another branch", "feature", 20, hexes(h.f1, h.c1)},
			{"first parents only", "merged", 3, hexes(merged, h.c4, h.c3)},
		} {
			t.Run(srv.name+"/"+tc.name, func(t *testing.T) {
				got, err := RecentCommits(ctx, srv.repo, tc.branch, tc.limit, Auth{})
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(shas(got), tc.want) {
					t.Errorf("RecentCommits(%q, %d) = %v, want %v", tc.branch, tc.limit, shas(got), tc.want)
				}
			})
		}
	}

	got, err := RecentCommits(ctx, h.fileURL(), "merged", 2, Auth{})
	if err != nil {
		t.Fatal(err)
	}
	want := []Commit{
		{SHA: merged.String(), Message: "Merge feature\n\nwith its one commit\n", Author: "Test", Email: "test@example.com", At: epoch.Add(7 * time.Second)},
		{SHA: h.c4.String(), Message: "four", Author: "Test", Email: "test@example.com", At: epoch.Add(4 * time.Second)},
	}
	if !slices.EqualFunc(got, want, func(a, b Commit) bool { return a == b }) {
		t.Errorf("RecentCommits = %+v, want %+v", got, want)
	}
	if title := got[0].Title(); title != "Merge feature" {
		t.Errorf("Title() = %q, want the first line", title)
	}
}

func TestCommitTitle(t *testing.T) {
	for msg, want := range map[string]string{
		"":                          "",
		"four":                      "four",
		"fix: the thing\n":          "fix: the thing",
		"fix it  \r\n\r\nbecause\n": "fix it",
		"\n\nleading blank lines\n": "leading blank lines",
	} {
		if got := (Commit{Message: msg}).Title(); got != want {
			t.Errorf("Title of %q = %q, want %q", msg, got, want)
		}
	}
}

func TestRecentCommitsFetchesOnlyTheBranchShallowly(t *testing.T) {
	h := newHistory(t)
	r, err := newRemote(h.fileURL(), Auth{})
	if err != nil {
		t.Fatal(err)
	}
	st, tip, err := r.fetchBranch(context.Background(), plumbing.NewBranchReferenceName("main"), 2, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = st.discard() }()
	if tip != h.c4 {
		t.Errorf("tip = %s, want %s", tip, h.c4)
	}
	iter, err := st.IterEncodedObjects(plumbing.CommitObject)
	if err != nil {
		t.Fatal(err)
	}
	var fetched []string
	for o, err := iter.Next(); err == nil; o, err = iter.Next() {
		fetched = append(fetched, o.Hash().String())
	}
	slices.Sort(fetched)
	want := hexes(h.c4, h.c3)
	slices.Sort(want)
	if !slices.Equal(fetched, want) {
		t.Errorf("fetched commits %v, want only %v", fetched, want)
	}
	shallow, err := st.Shallow()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(shallow, []plumbing.Hash{h.c3}) {
		t.Errorf("shallow = %v, want [%s]", shallow, h.c3)
	}
}

func TestRecentCommitsErrors(t *testing.T) {
	h := newHistory(t)
	ctx := context.Background()

	for _, branch := range []string{"nope", "v2", "refs/heads/nope"} { // v2 is a tag, not a branch
		_, err := RecentCommits(ctx, h.fileURL(), branch, 5, Auth{})
		if !errors.Is(err, ErrUnknownRef) {
			t.Fatalf("branch %q: error = %v, want ErrUnknownRef", branch, err)
		}
		if name := strings.TrimPrefix(branch, "refs/heads/"); !strings.Contains(err.Error(), `no branch "`+name+`"`) || !strings.Contains(err.Error(), h.fileURL()) {
			t.Errorf("error %q does not name branch %q and the repository", err, name)
		}
	}
	if _, err := RecentCommits(ctx, h.fileURL(), "", 5, Auth{}); !errors.Is(err, ErrUnknownRef) {
		t.Errorf("no branch: error = %v, want ErrUnknownRef", err)
	}

	empty := newTestRepo(t)
	if _, err := RecentCommits(ctx, empty.fileURL(), "main", 5, Auth{}); !errors.Is(err, ErrUnknownRef) || !strings.Contains(err.Error(), "empty") {
		t.Errorf("empty repository: error = %v, want ErrUnknownRef saying it is empty", err)
	}

	missing := "file://" + filepath.Join(t.TempDir(), "missing")
	_, err := RecentCommits(ctx, missing, "main", 5, Auth{})
	if !errors.Is(err, ErrRepoNotFound) || !strings.Contains(err.Error(), missing) {
		t.Errorf("missing repository: error = %v, want ErrRepoNotFound naming %s", err, missing)
	}

	if _, err := RecentCommits(ctx, h.fileURL(), "main", 0, Auth{}); err == nil {
		t.Error("limit 0: no error")
	}

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := RecentCommits(cancelled, h.fileURL(), "main", 5, Auth{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: error = %v, want context.Canceled", err)
	}
}

func TestRecentCommitsHTTP(t *testing.T) {
	h := newHistory(t)
	var mu sync.Mutex
	var requests []string
	repo := serveHTTP(t, h, func(r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(strings.NewReader(string(body)))
		mu.Lock()
		defer mu.Unlock()
		requests = append(requests, string(body))
	})
	ctx := context.Background()

	got, err := RecentCommits(ctx, repo, "main", 2, Auth{Token: testToken})
	if err != nil {
		t.Fatal(err)
	}
	if want := hexes(h.c4, h.c3); !slices.Equal(shas(got), want) {
		t.Errorf("RecentCommits = %v, want %v", shas(got), want)
	}
	mu.Lock()
	if len(requests) != 1 || strings.Count(requests[0], "want ") != 1 || !strings.Contains(requests[0], "deepen 2") {
		t.Errorf("upload-pack requests %q, want one wanting one commit, deepen 2", requests)
	}
	mu.Unlock()

	for _, auth := range []Auth{{}, {Token: "wrong-token-1234"}} {
		_, err := RecentCommits(ctx, repo, "main", 2, auth)
		if !errors.Is(err, ErrAuth) {
			t.Errorf("auth %v: error = %v, want ErrAuth", auth, err)
		}
		if err != nil && (strings.Contains(err.Error(), "wrong-token-1234") || !strings.Contains(err.Error(), repo)) {
			t.Errorf("error %q holds the token or does not name %s", err, repo)
		}
	}

	// A server that is gone: transient, and named.
	gone := httptest.NewServer(http.NotFoundHandler())
	gone.Close()
	unreachable := gone.URL + "/acme/api.git"
	_, err = RecentCommits(ctx, unreachable, "main", 2, Auth{Token: testToken})
	if err == nil || classify(err) != nil || !strings.Contains(err.Error(), unreachable) || strings.Contains(err.Error(), testToken) {
		t.Errorf("unreachable server: error = %v, want a transient error naming %s without the token", err, unreachable)
	}
}
