package gitsource

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

func TestResolve(t *testing.T) {
	h := newHistory(t)
	ambiguous := h.commitWithColliding(h.c4, "amb-a", "amb-b")
	missing := absentPrefix(t, h)

	served := servedHistories(t, h)
	reachable := served[2].h
	for _, srv := range served {
		h := srv.h
		ok := []struct {
			ref  string
			want string
		}{
			{"", h.c4.String()},
			{"HEAD", h.c4.String()},
			{"main", h.c4.String()},
			{"refs/heads/main", h.c4.String()},
			{"heads/main", h.c4.String()},
			{"feature", h.f1.String()},
			{"v1", h.c1.String()}, // the tag, not the branch v1
			{"refs/heads/v1", h.c4.String()},
			{"v2", h.c2.String()}, // annotated: peeled
			{"refs/tags/v2", h.c2.String()},
			{h.c3.String(), h.c3.String()}, // no ref's tip
			{strings.ToUpper(h.c3.String()), h.c3.String()},
			{h.f1.String(), h.f1.String()},
			{h.v2Tag.String(), h.c2.String()},
			{h.c3.String()[:7], h.c3.String()},
			{h.c2.String()[:4], h.c2.String()},
			{strings.ToUpper(h.f1.String()[:10]), h.f1.String()},
		}
		for _, tc := range ok {
			t.Run(srv.name+"/"+tc.ref, func(t *testing.T) {
				got, err := Resolve(context.Background(), srv.repo, tc.ref, Auth{})
				if err != nil {
					t.Fatal(err)
				}
				if got != tc.want {
					t.Errorf("Resolve(%q) = %s, want %s", tc.ref, got, tc.want)
				}
			})
		}
	}

	both := []string{h.fileURL(), reachable.fileURL()}
	for _, tc := range []struct {
		name, ref, msg string
		repos          []string
	}{
		{"unknown branch", "nope", `no branch or tag named "nope"`, both},
		{"unknown full SHA", strings.Repeat("ab", 20), "no commit abab", both},
		{"unknown short SHA", missing, "no branch, tag or commit matches", both},
		{"ambiguous short SHA", ambiguous, "is ambiguous", []string{h.fileURL()}},
		{"too short", h.c3.String()[:3], "no branch or tag named", both},
		{"not hex", "zz" + h.c3.String()[2:], "no branch or tag named", both},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, repo := range tc.repos {
				_, err := Resolve(context.Background(), repo, tc.ref, Auth{})
				if !errors.Is(err, ErrUnknownRef) {
					t.Fatalf("Resolve(%q) error = %v, want ErrUnknownRef", tc.ref, err)
				}
				if !strings.Contains(err.Error(), tc.msg) || !strings.Contains(err.Error(), repo) {
					t.Errorf("error %q does not say %q and name %s", err, tc.msg, repo)
				}
			}
		})
	}
}

// absentPrefix returns a 4-hex prefix no object of h starts with.
func absentPrefix(t *testing.T, h *history) string {
	t.Helper()
	used := map[string]bool{}
	iter, err := h.repo.Storer.IterEncodedObjects(0)
	if err != nil {
		t.Fatal(err)
	}
	defer iter.Close()
	for o, err := iter.Next(); err == nil; o, err = iter.Next() {
		used[o.Hash().String()[:4]] = true
	}
	for _, p := range []string{"0000", "1111", "2222", "3333", "4444", "5555", "6666", "7777"} {
		if !used[p] {
			return p
		}
	}
	t.Fatal("all candidate prefixes are used")
	return ""
}

func TestResolveRepositoryProblems(t *testing.T) {
	empty := newTestRepo(t)
	_, err := Resolve(context.Background(), empty.fileURL(), "", Auth{})
	if !errors.Is(err, ErrUnknownRef) {
		t.Errorf("empty repository: error = %v, want ErrUnknownRef", err)
	}

	missing := filepath.Join(t.TempDir(), "missing")
	_, err = Resolve(context.Background(), "file://"+missing, "main", Auth{})
	if !errors.Is(err, ErrRepoNotFound) {
		t.Errorf("missing repository: error = %v, want ErrRepoNotFound", err)
	}

	for _, repo := range []string{"", "ftp://example.com/repo.git", "https://user:hunter2secret@exa mple.com/x"} {
		_, err = Resolve(context.Background(), repo, "main", Auth{})
		if !errors.Is(err, ErrRepoNotFound) {
			t.Errorf("Resolve(%q) error = %v, want ErrRepoNotFound", repo, err)
		}
		if err != nil && strings.Contains(err.Error(), "hunter2") {
			t.Errorf("error %q holds the password", err)
		}
	}

	h := newHistory(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = Resolve(ctx, h.fileURL(), "", Auth{})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: error = %v, want context.Canceled", err)
	}
}
