package gitsource

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
)

func TestBetween(t *testing.T) {
	h := newHistory(t)
	merged := h.merge("merged", "Merge feature\n", h.c4, h.f1)
	ctx := context.Background()
	// What c1..c4 changes: c2 rewrites README.md, deletes old.txt and adds run.sh and link; c3 changes
	// app/main.go and adds docs/a.md; c4 rewrites README.md.
	allFiles := []string{"README.md", "app/main.go", "docs/a.md", "link", "old.txt", "run.sh"}

	for _, srv := range []servedHistory{{"file URL", h, h.fileURL()}, {"path", h, h.dir}} {
		for _, tc := range []struct {
			name, branch string
			from, to     plumbing.Hash
			limit        int
			want         Range
			commits      []string
		}{
			{name: "forward", branch: "main", from: h.c2, to: h.c4, limit: 10,
				commits: hexes(h.c4, h.c3), want: Range{Files: []string{"README.md", "app/main.go", "docs/a.md"}}},
			{name: "forward, all history", branch: "main", from: h.c1, to: h.c4, limit: 10,
				commits: hexes(h.c4, h.c3, h.c2), want: Range{Files: allFiles}},
			{name: "forward, truncated", branch: "main", from: h.c1, to: h.c4, limit: 2,
				commits: hexes(h.c4, h.c3), want: Range{Files: allFiles, Truncated: true}},
			{name: "rollback", branch: "main", from: h.c4, to: h.c2, limit: 10,
				commits: hexes(h.c4, h.c3), want: Range{Files: []string{"README.md", "app/main.go", "docs/a.md"}, Rollback: true}},
			{name: "rollback, truncated", branch: "main", from: h.c4, to: h.c1, limit: 1,
				commits: hexes(h.c4), want: Range{Files: allFiles, Rollback: true, Truncated: true}},
			{name: "same commit", branch: "main", from: h.c3, to: h.c3, limit: 10,
				commits: []string{}, want: Range{Files: []string{}}},
			{name: "nothing before", branch: "main", to: h.c3, limit: 2,
				commits: hexes(h.c3, h.c2), want: Range{Files: []string{}, Truncated: true}},
			{name: "nothing before, whole history", branch: "main", to: h.c3, limit: 3,
				commits: hexes(h.c3, h.c2, h.c1), want: Range{Files: []string{}}},
			// The merge keeps c4's tree (as `git merge -s ours` would): its commits change no file.
			{name: "a merge brings the merged branch's commits", branch: "merged", from: h.c4, to: merged, limit: 10,
				commits: hexes(merged, h.f1), want: Range{Files: []string{}}},
			{name: "rollback before a merge", branch: "merged", from: merged, to: h.c4, limit: 10,
				commits: hexes(merged, h.f1), want: Range{Files: []string{}, Rollback: true}},
			{name: "neither an ancestor of the other", branch: "merged", from: h.f1, to: h.c4, limit: 10,
				commits: hexes(h.c4, h.c3, h.c2), want: Range{Files: append([]string{"feature.txt"}, allFiles...)}},
		} {
			t.Run(srv.name+"/"+tc.name, func(t *testing.T) {
				from := ""
				if !tc.from.IsZero() {
					from = tc.from.String()
				}
				got, err := Between(ctx, srv.repo, tc.branch, from, tc.to.String(), tc.limit, Auth{})
				if err != nil {
					t.Fatal(err)
				}
				if got.Commits == nil || got.Files == nil {
					t.Errorf("Between = %+v, want empty lists rather than nil ones", got)
				}
				if !slices.Equal(shas(got.Commits), tc.commits) {
					t.Errorf("commits %v, want %v", shas(got.Commits), tc.commits)
				}
				slices.Sort(tc.want.Files)
				if !slices.Equal(got.Files, tc.want.Files) || got.Rollback != tc.want.Rollback || got.Truncated != tc.want.Truncated {
					t.Errorf("files %q, rollback %t, truncated %t; want %q, %t, %t",
						got.Files, got.Rollback, got.Truncated, tc.want.Files, tc.want.Rollback, tc.want.Truncated)
				}
			})
		}
	}

	got, err := Between(ctx, h.fileURL(), "main", h.c3.String(), strings.ToUpper(h.c4.String()), 5, Auth{})
	if err != nil {
		t.Fatal(err)
	}
	want := Commit{SHA: h.c4.String(), Message: "four", Author: "Test", Email: "test@example.com", At: epoch.Add(4 * time.Second)}
	if len(got.Commits) != 1 || got.Commits[0] != want {
		t.Errorf("commits %+v, want [%+v]", got.Commits, want)
	}
}

// TestBetweenDeepens reads ranges that the first, shallow fetch does not hold.
func TestBetweenDeepens(t *testing.T) {
	r := newTestRepo(t)
	var c []string // c[i] is the (i+1)th commit of twelve, on main
	for i := range 12 {
		c = append(c, r.commit("commit "+strconv.Itoa(i+1), map[string]string{"n.txt": strconv.Itoa(i + 1)}).String())
	}
	ctx := context.Background()

	// limit 1 fetches 4 commits deep first: c[0] is not among them.
	got, err := Between(ctx, r.fileURL(), "main", c[0], c[11], 1, Auth{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(shas(got.Commits), c[11:]) || !got.Truncated || !slices.Equal(got.Files, []string{"n.txt"}) {
		t.Errorf("Between(first, last, 1) = %v truncated %t files %q, want the last commit, truncated, n.txt", shas(got.Commits), got.Truncated, got.Files)
	}

	// c[8] is the oldest commit of the first fetch: its parent, which says there are more, is not fetched.
	got, err = Between(ctx, r.fileURL(), "main", "", c[8], 1, Auth{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(shas(got.Commits), c[8:9]) || !got.Truncated {
		t.Errorf("Between(nothing, c9, 1) = %v truncated %t, want c9, truncated", shas(got.Commits), got.Truncated)
	}
}

func TestChangedFilesTruncates(t *testing.T) {
	h := newHistory(t)
	r, err := newRemote(h.fileURL(), Auth{})
	if err != nil {
		t.Fatal(err)
	}
	st, _, err := r.fetchBranch(context.Background(), plumbing.NewBranchReferenceName("main"), 0, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = st.discard() }()
	files, more, err := changedFiles(context.Background(), st, h.c1, h.c4, 2)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(files, []string{"README.md", "app/main.go"}) || !more {
		t.Errorf("changedFiles(max 2) = %q, %t; want the first two, and more", files, more)
	}
}

func TestBetweenErrors(t *testing.T) {
	h := newHistory(t)
	ctx := context.Background()
	repo := h.fileURL()

	for _, tc := range []struct {
		name, branch, from, to, inMsg string
	}{
		{"to not on the branch", "main", h.c2.String(), h.f1.String(), "no commit " + h.f1.String() + ` on branch "main"`},
		{"from not on the branch", "main", h.f1.String(), h.c4.String(), "no commit " + h.f1.String() + ` on branch "main"`},
		{"no such commit", "main", "", strings.Repeat("1", 40), "no commit " + strings.Repeat("1", 40)},
		{"the zero SHA", "main", "", strings.Repeat("0", 40), "is not a full 40-hex commit SHA"},
		{"a short SHA", "main", h.c2.String()[:7], h.c4.String(), h.c2.String()[:7] + `" is not a full 40-hex commit SHA`},
		{"a branch name", "main", "", "main", `"main" is not a full 40-hex commit SHA`},
		{"no such branch", "nope", h.c2.String(), h.c4.String(), `no branch "nope"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Between(ctx, repo, tc.branch, tc.from, tc.to, 5, Auth{})
			if !errors.Is(err, ErrUnknownRef) {
				t.Fatalf("error = %v, want ErrUnknownRef", err)
			}
			if !strings.Contains(err.Error(), tc.inMsg) || !strings.Contains(err.Error(), repo) {
				t.Errorf("error %q does not say %q and name %s", err, tc.inMsg, repo)
			}
		})
	}

	if _, err := Between(ctx, repo, "main", h.c2.String(), h.c4.String(), 0, Auth{}); err == nil {
		t.Error("limit 0: no error")
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := Between(cancelled, repo, "main", h.c2.String(), h.c4.String(), 5, Auth{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: error = %v, want context.Canceled", err)
	}
}
