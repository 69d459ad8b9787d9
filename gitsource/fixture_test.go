package gitsource

import (
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// testRepo is a repository on disk built with go-git, served to gitsource by path or file:// URL.
type testRepo struct {
	t    *testing.T
	dir  string
	repo *git.Repository
	tick int // seconds after epoch of the next commit, so that hashes do not depend on the clock
}

var epoch = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func newTestRepo(t *testing.T) *testRepo {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "repo")
	repo, err := git.PlainInitWithOptions(dir, &git.PlainInitOptions{
		InitOptions: git.InitOptions{DefaultBranch: plumbing.NewBranchReferenceName("main")},
	})
	if err != nil {
		t.Fatal(err)
	}
	return &testRepo{t: t, dir: dir, repo: repo}
}

func (r *testRepo) fileURL() string { return (&url.URL{Scheme: "file", Path: r.dir}).String() }

func (r *testRepo) signature() *object.Signature {
	r.tick++
	return &object.Signature{Name: "Test", Email: "test@example.com", When: epoch.Add(time.Duration(r.tick) * time.Second)}
}

// commit applies changes to the worktree on the current branch and commits them. A value is
// the file's content; "" deletes the file; "->target" makes a symlink; a "#!" first line makes
// the file executable.
func (r *testRepo) commit(msg string, changes map[string]string) plumbing.Hash {
	r.t.Helper()
	wt, err := r.repo.Worktree()
	if err != nil {
		r.t.Fatal(err)
	}
	for name, content := range changes {
		path := filepath.Join(r.dir, name)
		if err := os.RemoveAll(path); err != nil {
			r.t.Fatal(err)
		}
		if content == "" {
			if _, err := wt.Remove(name); err != nil {
				r.t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			r.t.Fatal(err)
		}
		switch {
		case strings.HasPrefix(content, "->"):
			err = os.Symlink(content[2:], path)
		case strings.HasPrefix(content, "#!"):
			err = os.WriteFile(path, []byte(content), 0o755)
		default:
			err = os.WriteFile(path, []byte(content), 0o644)
		}
		if err != nil {
			r.t.Fatal(err)
		}
		if _, err := wt.Add(name); err != nil {
			r.t.Fatal(err)
		}
	}
	sig := r.signature()
	h, err := wt.Commit(msg, &git.CommitOptions{Author: sig, Committer: sig})
	if err != nil {
		r.t.Fatal(err)
	}
	return h
}

// switchTo checks out branch, creating it at from when from is not zero.
func (r *testRepo) switchTo(branch string, from plumbing.Hash) {
	r.t.Helper()
	wt, err := r.repo.Worktree()
	if err != nil {
		r.t.Fatal(err)
	}
	opts := &git.CheckoutOptions{Branch: plumbing.NewBranchReferenceName(branch), Force: true}
	if !from.IsZero() {
		opts.Hash, opts.Create = from, true
	}
	if err := wt.Checkout(opts); err != nil {
		r.t.Fatal(err)
	}
}

func (r *testRepo) branch(name string, h plumbing.Hash) {
	r.t.Helper()
	if err := r.repo.Storer.SetReference(plumbing.NewHashReference(plumbing.NewBranchReferenceName(name), h)); err != nil {
		r.t.Fatal(err)
	}
}

// tag makes a lightweight tag, or an annotated one when message is not empty; it returns the
// hash the tag ref points at (the tag object for an annotated tag).
func (r *testRepo) tag(name string, h plumbing.Hash, message string) plumbing.Hash {
	r.t.Helper()
	var opts *git.CreateTagOptions
	if message != "" {
		opts = &git.CreateTagOptions{Tagger: r.signature(), Message: message}
	}
	ref, err := r.repo.CreateTag(name, h, opts)
	if err != nil {
		r.t.Fatal(err)
	}
	return ref.Hash()
}

// allowReachableSHA1InWant lets clients fetch any reachable commit by SHA, as GitHub does.
func (r *testRepo) allowReachableSHA1InWant() {
	r.t.Helper()
	cfg, err := r.repo.Config()
	if err != nil {
		r.t.Fatal(err)
	}
	cfg.Raw.Section("uploadpack").SetOption("allowReachableSHA1InWant", "true")
	if err := r.repo.SetConfig(cfg); err != nil {
		r.t.Fatal(err)
	}
}

// commitWithColliding adds two commits on top of parent whose SHAs share their first four hex
// digits, on branches a and b, and returns the shared prefix. It hashes candidate commits
// without storing them until it finds a pair (a few hundred tries, by the birthday bound).
func (r *testRepo) commitWithColliding(parent plumbing.Hash, a, b string) string {
	r.t.Helper()
	pc, err := r.repo.CommitObject(parent)
	if err != nil {
		r.t.Fatal(err)
	}
	seen := map[string]*object.Commit{}
	sig := object.Signature{Name: "Test", Email: "test@example.com", When: epoch}
	for i := 0; i < 1<<16; i++ {
		c := &object.Commit{Author: sig, Committer: sig, Message: "try " + strconv.Itoa(i), TreeHash: pc.TreeHash, ParentHashes: []plumbing.Hash{parent}}
		obj := r.repo.Storer.NewEncodedObject()
		if err := c.Encode(obj); err != nil {
			r.t.Fatal(err)
		}
		prefix := obj.Hash().String()[:4]
		if other, ok := seen[prefix]; ok {
			for _, pair := range []struct {
				branch string
				c      *object.Commit
			}{{a, other}, {b, c}} {
				o := r.repo.Storer.NewEncodedObject()
				if err := pair.c.Encode(o); err != nil {
					r.t.Fatal(err)
				}
				h, err := r.repo.Storer.SetEncodedObject(o)
				if err != nil {
					r.t.Fatal(err)
				}
				r.branch(pair.branch, h)
			}
			return prefix
		}
		seen[prefix] = c
	}
	r.t.Fatal("no colliding pair found")
	return ""
}

// readTree returns the files under dir as path → content, with the same conventions as commit:
// symlinks as "->target"; it fails the test on executable bits that do not match a "#!" start.
func readTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		rel = filepath.ToSlash(rel)
		if d.Type()&os.ModeSymlink != 0 {
			target, err := os.Readlink(path)
			files[rel] = "->" + target
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if exec := info.Mode().Perm()&0o100 != 0; exec != strings.HasPrefix(string(b), "#!") {
			t.Errorf("%s: mode %v", rel, info.Mode())
		}
		files[rel] = string(b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// history is the repository most tests read:
//
//	main:     c1 ── c2 ── c3 ── c4   (HEAD)
//	            \
//	feature:     f1
//
// Tags: v1 → c1 (lightweight), v2 → c2 (annotated). A branch also named v1 points at c4, to
// check that a tag wins over a branch, as in git. c3 is no ref's tip.
type history struct {
	*testRepo
	c1, c2, c3, c4, f1 plumbing.Hash
	v2Tag              plumbing.Hash // the annotated tag object
	files              map[plumbing.Hash]map[string]string
}

func newHistory(t *testing.T) *history {
	t.Helper()
	h := &history{testRepo: newTestRepo(t), files: map[plumbing.Hash]map[string]string{}}
	tree := map[string]string{}
	step := func(msg string, changes map[string]string) plumbing.Hash {
		id := h.commit(msg, changes)
		for k, v := range changes {
			if v == "" {
				delete(tree, k)
			} else {
				tree[k] = v
			}
		}
		snapshot := make(map[string]string, len(tree))
		for k, v := range tree {
			snapshot[k] = v
		}
		h.files[id] = snapshot
		return id
	}
	h.c1 = step("one", map[string]string{"README.md": "one\n", "app/main.go": "package main\n", "old.txt": "old\n"})
	h.c2 = step("two", map[string]string{"README.md": "two\n", "old.txt": "", "run.sh": "#!/bin/sh\necho hi\n", "link": "->README.md"})
	h.c3 = step("three", map[string]string{"app/main.go": "package main // three\n", "docs/a.md": "a\n"})
	h.c4 = step("four", map[string]string{"README.md": "four\n"})
	c4tree := h.files[h.c4]

	h.switchTo("feature", h.c1)
	tree = map[string]string{}
	for k, v := range h.files[h.c1] {
		tree[k] = v
	}
	h.f1 = step("feature", map[string]string{"feature.txt": "feature\n"})
	h.switchTo("main", plumbing.ZeroHash)
	h.files[h.c4] = c4tree

	h.tag("v1", h.c1, "")
	h.v2Tag = h.tag("v2", h.c2, "release two\n")
	h.branch("v1", h.c4)
	return h
}

// servedHistory is a test history and how a test reaches it.
type servedHistory struct {
	name string
	h    *history
	repo string
}

// servedHistories returns h as a file:// URL and as a plain path, and a second history whose
// server allows fetching any reachable commit by SHA.
func servedHistories(t *testing.T, h *history) []servedHistory {
	reachable := newHistory(t)
	reachable.allowReachableSHA1InWant()
	return []servedHistory{
		{"file URL", h, h.fileURL()},
		{"path", h, h.dir},
		{"reachable SHA1 in want", reachable, reachable.fileURL()},
	}
}
