package server

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slipway-dev/slipway/api"
	"github.com/slipway-dev/slipway/gitsource"
	"github.com/slipway-dev/slipway/store"
)

const commitsPath = "/api/v1/projects/shop/components/api/commits"

// fakeHistory is the fake repository's branch main, newest first: shaMain, then shaTag, then a root.
var fakeHistory = []gitsource.Commit{
	{SHA: shaMain, Message: "Fix the thing\n\nat last\n", Author: "Ann", Email: "ann@example.com", At: time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)},
	{SHA: shaTag, Message: "Tag me", Author: "Bob", Email: "bob@example.com", At: time.Date(2026, 3, 3, 5, 6, 7, 0, time.UTC)},
	{SHA: "3333333333333333333333333333333333333333", Message: "Initial commit\n", Author: "Cy", Email: "cy@example.com", At: time.Date(2026, 3, 2, 5, 6, 7, 0, time.UTC)},
}

// commitsCall is one read of the fake repository.
type commitsCall struct {
	repo, branch, token string
	limit               int
}

// fakeCommits is a repository whose branch main is fakeHistory; branch private refuses the credentials,
// branch flaky cannot be reached, branch moved has no repository behind it; every other branch is unknown.
type fakeCommits struct {
	mu    sync.Mutex
	calls []commitsCall
}

func (f *fakeCommits) read(_ context.Context, repo, branch string, limit int, auth gitsource.Auth) ([]gitsource.Commit, error) {
	f.mu.Lock()
	f.calls = append(f.calls, commitsCall{repo: repo, branch: branch, token: auth.Token, limit: limit})
	f.mu.Unlock()
	op := fmt.Sprintf("reading the commits of branch %q in %s", branch, repo)
	switch branch {
	case "main":
		return fakeHistory[:min(limit, len(fakeHistory))], nil
	case "private":
		return nil, fmt.Errorf("%s: %w", op, gitsource.ErrAuth)
	case "flaky":
		return nil, fmt.Errorf("%s: dial tcp 192.0.2.1:443: connect: connection refused", op)
	case "moved":
		return nil, fmt.Errorf("%s: %w", op, gitsource.ErrRepoNotFound)
	}
	return nil, fmt.Errorf("%s: %w: no branch %q", op, gitsource.ErrUnknownRef, branch)
}

func (f *fakeCommits) reads() []commitsCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

// newCommitsEnv is newBuildEnv reading commits from a fakeCommits.
func newCommitsEnv(t *testing.T) (*testEnv, *fakeCommits) {
	t.Helper()
	fake := &fakeCommits{}
	e, _ := newBuildEnv(t, func(d *Deps) { d.RecentCommits = fake.read })
	return e, fake
}

func TestListCommits(t *testing.T) {
	e, fake := newCommitsEnv(t)
	ctx := context.Background()
	e.must(http.StatusOK, http.MethodPut, credPath, e.developer, map[string]any{"token": "ghs_commitsToken"}, nil)
	// shaTag has a build and a rebuild; another component's build of shaMain is not api's.
	for _, b := range []store.Build{
		{ID: "b-tag1", Project: "shop", Component: "api", Commit: shaTag, Trigger: store.Trigger{Kind: "manual"}, RunID: "r1"},
		{ID: "b-tag2", Project: "shop", Component: "api", Commit: shaTag, Trigger: store.Trigger{Kind: "manual"}, RunID: "r2"},
	} {
		if _, err := e.st.CreateBuild(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.st.UpdateBuild(ctx, "b-tag2", func(b *store.Build) error { b.Status = api.BuildSucceeded; return nil }); err != nil {
		t.Fatal(err)
	}
	e.createComponent("shop", "web")
	if _, err := e.st.CreateBuild(ctx, store.Build{ID: "b-web", Project: "shop", Component: "web", Commit: shaMain, RunID: "rw"}); err != nil {
		t.Fatal(err)
	}

	var got api.Commits
	rec := e.must(http.StatusOK, http.MethodGet, commitsPath, e.viewer, nil, &got)
	if want := (commitsCall{repo: apiRepo, branch: "main", token: "ghs_commitsToken", limit: 20}); !slices.Equal(fake.reads(), []commitsCall{want}) {
		t.Errorf("reads %+v, want [%+v]: the component's repo and branch, the default limit, its credential", fake.reads(), want)
	}
	if len(got.Items) != 3 {
		t.Fatalf("items %+v, want the 3 commits of the branch", got.Items)
	}
	first := got.Items[0]
	if first.SHA != shaMain || first.Short != "1111111" || first.Title != "Fix the thing" || first.Message != fakeHistory[0].Message ||
		first.Author != "Ann" || first.Email != "ann@example.com" || !first.At.Equal(fakeHistory[0].At) || first.Build != nil {
		t.Errorf("first commit %+v", first)
	}
	if b := got.Items[1].Build; b == nil || b.ID != "b-tag2" || b.Status != api.BuildSucceeded || b.Commit != shaTag {
		t.Errorf("build of %s = %+v, want its newest run b-tag2, succeeded", shaTag, b)
	}
	if got.Items[2].Build != nil {
		t.Errorf("unbuilt commit has build %+v", got.Items[2].Build)
	}
	body := rec.Body.String()
	if !strings.HasPrefix(body, `{"items":[{"sha":"`+shaMain+`"`) || strings.Count(body, `"build":`) != 1 {
		t.Errorf("body %s: want {\"items\":[…]} with one build, none for unbuilt commits", body)
	}

	for query, limit := range map[string]int{"?limit=1": 1, "?limit=100": 100, "?limit=": 20} {
		before := len(fake.reads())
		e.must(http.StatusOK, http.MethodGet, commitsPath+query, e.viewer, nil, &got)
		reads := fake.reads()
		if len(reads) != before+1 || reads[before].limit != limit {
			t.Errorf("GET commits%s read %+v, want limit %d", query, reads[before:], limit)
		}
		if len(got.Items) != min(limit, 3) {
			t.Errorf("GET commits%s: %d items", query, len(got.Items))
		}
	}
}

func TestListCommitsRefusals(t *testing.T) {
	e, fake := newCommitsEnv(t)
	for _, q := range []string{"0", "101", "abc", "-1", "1.5", "20x"} {
		apiErr := wantError(t, e.do(http.MethodGet, commitsPath+"?limit="+q, e.viewer, nil), http.StatusBadRequest, "invalid_query", "limit")
		if !strings.Contains(apiErr.Message, "1 to 100") {
			t.Errorf("limit %s: message %q does not say what is allowed", q, apiErr.Message)
		}
	}
	wantError(t, e.do(http.MethodGet, "/api/v1/projects/shop/components/nope/commits", e.viewer, nil), http.StatusNotFound, "not_found", "")
	wantError(t, e.do(http.MethodGet, "/api/v1/projects/nope/components/api/commits", e.viewer, nil), http.StatusNotFound, "not_found", "")
	wantError(t, e.do(http.MethodGet, commitsPath, "", nil), http.StatusUnauthorized, "unauthorized", "")
	if n := len(fake.reads()); n != 0 {
		t.Errorf("the repository was read %d times for refused requests", n)
	}

	for _, tc := range []struct {
		branch      string
		status      int
		code, field string
		inMsg       []string
	}{
		{"gone", http.StatusUnprocessableEntity, "unknown_branch", "branch", []string{`branch "gone" is not a branch`, apiRepo}},
		{"private", http.StatusUnprocessableEntity, "repo_auth_failed", "repo", []string{"refused anonymous access", apiRepo}},
		{"moved", http.StatusUnprocessableEntity, "repo_not_found", "repo", []string{"was not found", apiRepo}},
		{"flaky", http.StatusBadGateway, "git_unavailable", "", []string{"the component's repository could not be read; try again", "error ID e-"}},
	} {
		t.Run(tc.branch, func(t *testing.T) {
			e.must(http.StatusOK, http.MethodPatch, "/api/v1/projects/shop/components/api", e.developer, map[string]any{"branch": tc.branch}, nil)
			apiErr := wantError(t, e.do(http.MethodGet, commitsPath, e.viewer, nil), tc.status, tc.code, tc.field)
			for _, want := range tc.inMsg {
				if !strings.Contains(apiErr.Message, want) {
					t.Errorf("message %q lacks %q", apiErr.Message, want)
				}
			}
			if tc.status >= http.StatusInternalServerError { // an admin reads which repository could not be read
				adminErr := wantError(t, e.do(http.MethodGet, commitsPath, e.admin, nil), tc.status, tc.code, tc.field)
				if !strings.Contains(adminErr.Message, apiRepo) {
					t.Errorf("admin's message %q does not name %s", adminErr.Message, apiRepo)
				}
			}
		})
	}
}
