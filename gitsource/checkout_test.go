package gitsource

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
)

func TestCheckout(t *testing.T) {
	for _, srv := range servedHistories(t, newHistory(t)) {
		h := srv.h
		for _, c := range []struct {
			name string
			sha  plumbing.Hash
		}{
			{"branch tip", h.c4},
			{"annotated tag", h.c2},
			{"lightweight tag", h.c1},
			{"no tip", h.c3},
			{"other branch", h.f1},
		} {
			t.Run(srv.name+"/"+c.name, func(t *testing.T) {
				dir := filepath.Join(t.TempDir(), "work", "src")
				if err := Checkout(context.Background(), srv.repo, c.sha.String(), dir, Auth{}); err != nil {
					t.Fatal(err)
				}
				assertTree(t, dir, h.files[c.sha])
				assertOnlyEntry(t, filepath.Dir(dir), "src")
			})
		}
	}
}

// TestCheckoutIsShallow checks that only the commit itself is fetched when it is a ref's tip or
// the server lets clients want any reachable commit.
func TestCheckoutIsShallow(t *testing.T) {
	h := newHistory(t)
	reachable := newHistory(t)
	reachable.allowReachableSHA1InWant()
	for _, c := range []struct {
		name string
		repo string
		sha  plumbing.Hash
	}{
		{"branch tip", h.fileURL(), h.c4},
		{"annotated tag", h.fileURL(), h.c2},
		{"reachable SHA1 in want", reachable.fileURL(), reachable.c3},
	} {
		t.Run(c.name, func(t *testing.T) {
			r, err := newRemote(c.repo, Auth{})
			if err != nil {
				t.Fatal(err)
			}
			adv, err := r.advertise(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			st, err := r.fetchCommit(context.Background(), adv, c.sha, t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = st.discard() }()
			commit, err := st.EncodedObject(plumbing.CommitObject, c.sha)
			if err != nil {
				t.Fatalf("commit %s not fetched: %v", c.sha, err)
			}
			iter, err := st.IterEncodedObjects(plumbing.CommitObject)
			if err != nil {
				t.Fatal(err)
			}
			var commits []plumbing.Hash
			for o, err := iter.Next(); err == nil; o, err = iter.Next() {
				commits = append(commits, o.Hash())
			}
			if len(commits) != 1 {
				t.Errorf("fetched commits %v, want only %s", commits, commit.Hash())
			}
			shallow, err := st.Shallow()
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(shallow, []plumbing.Hash{c.sha}) {
				t.Errorf("shallow = %v, want [%s]", shallow, c.sha)
			}
		})
	}
}

func TestCheckoutReplacesWhatDirHolds(t *testing.T) {
	h := newHistory(t)
	dir := filepath.Join(t.TempDir(), "src")

	// A partial checkout of another commit, with a stray file and a .git.
	if err := os.MkdirAll(filepath.Join(dir, ".git", "objects"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "stray.txt"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, sha := range []plumbing.Hash{h.c3, h.c3, h.f1, h.c2} {
		if err := Checkout(context.Background(), h.fileURL(), sha.String(), dir, Auth{}); err != nil {
			t.Fatal(err)
		}
		assertTree(t, dir, h.files[sha])
		assertOnlyEntry(t, filepath.Dir(dir), "src")
	}
}

func TestCheckoutErrors(t *testing.T) {
	h := newHistory(t)
	reachable := newHistory(t)
	reachable.allowReachableSHA1InWant()

	for _, c := range []struct {
		name, repo, sha string
		want            error
	}{
		{"unknown SHA", h.fileURL(), "abababababababababababababababababababab", ErrUnknownRef},
		{"unknown SHA, reachable SHA1 in want", reachable.fileURL(), "abababababababababababababababababababab", ErrUnknownRef},
		{"tree, not a commit", h.fileURL(), treeOf(t, h, h.c2).String(), ErrUnknownRef},
		{"short SHA", h.fileURL(), h.c2.String()[:12], ErrUnknownRef},
		{"branch name", h.fileURL(), "main", ErrUnknownRef},
		{"missing repository", "file://" + filepath.Join(t.TempDir(), "nope"), h.c2.String(), ErrRepoNotFound},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "src")
			err := Checkout(context.Background(), c.repo, c.sha, dir, Auth{})
			if !errors.Is(err, c.want) {
				t.Fatalf("error = %v, want %v", err, c.want)
			}
			assertOnlyEntry(t, filepath.Dir(dir))
		})
	}

	t.Run("cancelled", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "src")
		if err := Checkout(context.Background(), h.fileURL(), h.c1.String(), dir, Auth{}); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		err := Checkout(ctx, h.fileURL(), h.c4.String(), dir, Auth{})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("error = %v, want context.Canceled", err)
		}
		assertTree(t, dir, h.files[h.c1]) // the earlier checkout is left as it was
		assertOnlyEntry(t, filepath.Dir(dir), "src")
	})

	t.Run("cancelled while writing files", func(t *testing.T) {
		r, err := newRemote(h.fileURL(), Auth{})
		if err != nil {
			t.Fatal(err)
		}
		adv, err := r.advertise(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		st, err := r.fetchCommit(context.Background(), adv, h.c4, t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = st.discard() }()
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		dir := filepath.Join(t.TempDir(), "tree")
		if err := writeTree(ctx, st, h.c4, dir); !errors.Is(err, context.Canceled) {
			t.Fatalf("error = %v, want context.Canceled", err)
		}
		if files := readTree(t, dir); len(files) != 0 {
			t.Errorf("files written after cancellation: %v", sortedKeys(files))
		}
	})
}

func treeOf(t *testing.T, h *history, c plumbing.Hash) plumbing.Hash {
	t.Helper()
	commit, err := h.repo.CommitObject(c)
	if err != nil {
		t.Fatal(err)
	}
	return commit.TreeHash
}

func assertTree(t *testing.T, dir string, want map[string]string) {
	t.Helper()
	if want == nil {
		t.Fatal("no expected files")
	}
	if got := readTree(t, dir); !reflect.DeepEqual(got, want) {
		t.Errorf("files in %s:\n got %v\nwant %v", dir, got, want)
	}
}

// assertOnlyEntry checks that dir holds exactly the named entries: no scratch directory is left.
func assertOnlyEntry(t *testing.T, dir string, names ...string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	if len(got) != len(names) || (len(got) > 0 && !reflect.DeepEqual(got, names)) {
		t.Errorf("%s holds %v, want %v", dir, got, names)
	}
}
