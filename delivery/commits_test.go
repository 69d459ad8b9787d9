package delivery

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/slipway-dev/slipway/api"
	"github.com/slipway-dev/slipway/gitsource"
	"github.com/slipway-dev/slipway/secretbox"
	"github.com/slipway-dev/slipway/store"
)

// commitsStore is the BuildStore Commits reads: the builds it holds and, when credential is set, a repo
// credential of every component. Commits needs no other method.
type commitsStore struct {
	BuildStore
	builds     []store.Build // newest first
	credential bool
	asked      [][]string
}

func (f *commitsStore) GetRepoCredential(context.Context, string, string) (secretbox.Sealed, time.Time, error) {
	if !f.credential {
		return secretbox.Sealed{}, time.Time{}, store.ErrNotFound
	}
	return secretbox.Sealed{}, time.Time{}, nil
}

func (f *commitsStore) BuildsOfCommits(_ context.Context, project, component string, commits ...string) ([]store.Build, error) {
	f.asked = append(f.asked, commits)
	out := []store.Build{}
	for _, b := range f.builds {
		if b.Project == project && b.Component == component && slices.Contains(commits, b.Commit) {
			out = append(out, b)
		}
	}
	return out, nil
}

// tokenKeys opens every sealed credential as a token.
type tokenKeys struct{}

const testRepoToken = "ghs_commitsTestToken"

func (tokenKeys) Open([]byte, secretbox.Sealed) ([]byte, error) {
	return []byte(`{"token":"` + testRepoToken + `"}`), nil
}

func sha(c byte) string { return strings.Repeat(string(c), 40) }

func TestCommits(t *testing.T) {
	comp := store.Component{Project: "shop", Name: "api", Repo: "https://git.example.com/acme/api.git", Branch: "release/1.x"}
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	st := &commitsStore{credential: true, builds: []store.Build{
		{ID: "b-a2", Project: "shop", Component: "api", Commit: sha('a'), Status: api.BuildRunning, RunID: "r2"},
		{ID: "b-b2", Project: "shop", Component: "api", Commit: sha('b'), Status: api.BuildFailed}, // never started
		{ID: "b-web", Project: "shop", Component: "web", Commit: sha('c'), Status: api.BuildSucceeded, RunID: "rw"},
		{ID: "b-a1", Project: "shop", Component: "api", Commit: sha('a'), Status: api.BuildSucceeded, RunID: "r1"},
		{ID: "b-b1", Project: "shop", Component: "api", Commit: sha('b'), Status: api.BuildSucceeded, RunID: "r0"},
	}}
	var gotRepo, gotBranch string
	var gotLimit int
	var gotAuth gitsource.Auth
	var deadline time.Duration
	s := &Builds{Store: st, Keys: tokenKeys{}, RecentCommits: func(ctx context.Context, repo, branch string, limit int, auth gitsource.Auth) ([]gitsource.Commit, error) {
		gotRepo, gotBranch, gotLimit, gotAuth = repo, branch, limit, auth
		if d, ok := ctx.Deadline(); ok {
			deadline = time.Until(d)
		}
		return []gitsource.Commit{
			{SHA: sha('a'), Message: "fix: the thing\n\nbecause\n", Author: "Ann", Email: "ann@example.com", At: at},
			{SHA: sha('b'), Message: "two", Author: "Bob", Email: "bob@example.com", At: at.Add(-time.Hour)},
			{SHA: sha('c'), Message: "one", Author: "Cy", Email: "cy@example.com", At: at.Add(-2 * time.Hour)},
		}, nil
	}}

	got, err := s.Commits(context.Background(), comp, 3)
	if err != nil {
		t.Fatal(err)
	}
	if gotRepo != comp.Repo || gotBranch != comp.Branch || gotLimit != 3 || gotAuth.Token != testRepoToken {
		t.Errorf("read %s %q limit %d with %v, want the component's repo, branch, limit 3 and its credential", gotRepo, gotBranch, gotLimit, gotAuth)
	}
	if deadline <= 0 || deadline > CommitsTimeout {
		t.Errorf("read with %v left, want a deadline within CommitsTimeout", deadline)
	}
	if want := [][]string{{sha('a'), sha('b'), sha('c')}}; !slices.EqualFunc(st.asked, want, slices.Equal) {
		t.Errorf("builds asked for commits %v, want %v (one read)", st.asked, want)
	}
	if len(got) != 3 {
		t.Fatalf("got %d commits, want 3: %+v", len(got), got)
	}
	first := got[0]
	if first.SHA != sha('a') || first.Short != "aaaaaaa" || first.Title != "fix: the thing" || first.Message != "fix: the thing\n\nbecause\n" ||
		first.Author != "Ann" || first.Email != "ann@example.com" || !first.At.Equal(at) {
		t.Errorf("first commit %+v", first)
	}
	var builds []string
	for _, c := range got {
		id := ""
		if c.Build != nil {
			id = c.Build.ID
		}
		builds = append(builds, id)
	}
	// a: its newest run, the rebuild; b: the newest run that started; c: only another component's build.
	if want := []string{"b-a2", "b-b1", ""}; !slices.Equal(builds, want) {
		t.Errorf("builds %q, want %q", builds, want)
	}
	if b := got[0].Build; b.Status != api.BuildRunning || b.Steps == nil || b.Required == nil {
		t.Errorf("build %+v is not shown as the API shows builds", b)
	}
}

func TestCommitsRefusals(t *testing.T) {
	comp := store.Component{Project: "shop", Name: "api", Repo: "https://git.example.com/acme/api.git", Branch: "trunk"}
	for _, limit := range []int{0, -1, MaxCommits + 1} {
		s := &Builds{Store: &commitsStore{}, RecentCommits: func(context.Context, string, string, int, gitsource.Auth) ([]gitsource.Commit, error) {
			t.Fatal("the repository was read")
			return nil, nil
		}}
		_, err := s.Commits(context.Background(), comp, limit)
		var refused *Error
		if !errors.As(err, &refused) || refused.Kind != Invalid || refused.Field != "limit" {
			t.Errorf("limit %d: error %#v, want Invalid naming limit", limit, err)
		}
	}

	for _, tc := range []struct {
		name       string
		credential bool
		err        error
		kind       Kind
		code       string
		inMsg      []string
	}{
		{"unknown branch", false, fmt.Errorf("reading the commits of branch \"trunk\" in %s: %w: no branch \"trunk\"", comp.Repo, gitsource.ErrUnknownRef),
			Invalid, "unknown_branch", []string{`branch "trunk"`, comp.Repo}},
		{"refused, anonymous", false, fmt.Errorf("reading in %s: %w", comp.Repo, gitsource.ErrAuth),
			Invalid, "repo_auth_failed", []string{"refused anonymous access", comp.Repo}},
		{"refused, with credential", true, fmt.Errorf("reading in %s: %w", comp.Repo, gitsource.ErrAuth),
			Invalid, "repo_auth_failed", []string{"refused the component's repo credential", comp.Repo}},
		{"no repository", false, fmt.Errorf("reading in %s: %w", comp.Repo, gitsource.ErrRepoNotFound),
			Invalid, "repo_not_found", []string{"was not found", comp.Repo}},
		{"unreachable", true, fmt.Errorf("reading in %s: dial tcp: connection refused", comp.Repo),
			Upstream, "git_unavailable", []string{"could not be read; try again", comp.Repo}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &Builds{Store: &commitsStore{credential: tc.credential}, Keys: tokenKeys{},
				RecentCommits: func(context.Context, string, string, int, gitsource.Auth) ([]gitsource.Commit, error) {
					return nil, tc.err
				}}
			_, err := s.Commits(context.Background(), comp, 10)
			var refused *Error
			if !errors.As(err, &refused) || refused.Kind != tc.kind || refused.Code != tc.code {
				t.Fatalf("error %#v, want kind %d code %s", err, tc.kind, tc.code)
			}
			for _, want := range tc.inMsg {
				if !strings.Contains(refused.Message, want) {
					t.Errorf("message %q lacks %q", refused.Message, want)
				}
			}
			if strings.Contains(refused.Message, testRepoToken) {
				t.Errorf("message %q holds the token", refused.Message)
			}
			if !errors.Is(err, tc.err) {
				t.Errorf("error does not wrap its cause %v", tc.err)
			}
		})
	}
}
