package gitsource

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/go-git/go-billy/v5"
	"github.com/go-git/go-billy/v5/osfs"
	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/storage"
)

// Checkout writes the files of commit sha (a full 40-hex SHA) of repo into dir, and nothing else:
// no .git, so dir can be a build context whose content depends on the commit's files only.
//
// It fetches that one commit (depth 1) when sha is a ref's tip or the server allows fetching any
// reachable commit (GitHub, GitLab and Gitea do; plain git servers only with
// uploadpack.allowReachableSHA1InWant); otherwise it fetches branch history until sha turns up.
// Objects go to a scratch directory next to dir that is removed before returning.
//
// dir belongs to Checkout: whatever it holds (an earlier or partial checkout, of this or another
// commit) is replaced, and only once the new checkout is complete, by renaming it into place, so
// calling Checkout again after any failure is safe and gives the same result. dir's parent is
// created if needed. Cancelling ctx stops the fetch and the file writing and leaves dir as it was.
//
// A sha the repository does not hold gives an error wrapping ErrUnknownRef; refused credentials
// ErrAuth; a missing repository ErrRepoNotFound; other errors are transient.
func Checkout(ctx context.Context, repo, sha, dir string, auth Auth) error {
	_, err := CheckoutCommit(ctx, repo, sha, dir, auth)
	return err
}

// CheckoutCommit is Checkout that also returns when the commit was committed: its committer time (not the
// author's, which a rebase or cherry-pick keeps), in UTC, as the commit object holds it.
func CheckoutCommit(ctx context.Context, repo, sha, dir string, auth Auth) (time.Time, error) {
	s := newScrubber(repo, auth)
	op := "checking out " + sha
	sha = strings.ToLower(sha)
	if len(sha) != 40 || !isHex(sha) {
		return time.Time{}, s.fail(ctx, op, fmt.Errorf("%w: %q is not a full commit SHA", ErrUnknownRef, sha))
	}
	r, err := newRemote(repo, auth)
	if err != nil {
		return time.Time{}, s.fail(ctx, op, err)
	}
	at, err := r.checkout(ctx, plumbing.NewHash(sha), dir)
	if err != nil {
		return time.Time{}, s.fail(ctx, op, err)
	}
	return at, nil
}

// checkout writes commit h's files into dir and returns the commit's committer time.
func (r *remote) checkout(ctx context.Context, h plumbing.Hash, dir string) (_ time.Time, err error) {
	dir = filepath.Clean(dir)
	parent := filepath.Dir(dir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return time.Time{}, err
	}
	// The scratch directory sits next to dir so that the finished tree can be renamed into place.
	scratch, err := os.MkdirTemp(parent, "."+filepath.Base(dir)+".checkout-")
	if err != nil {
		return time.Time{}, err
	}
	defer removeAll(scratch, &err)

	adv, err := r.advertise(ctx)
	if err != nil {
		return time.Time{}, err
	}
	st, err := r.fetchCommit(ctx, adv, h, scratch)
	if err != nil {
		return time.Time{}, err
	}
	defer func() { err = errors.Join(err, st.Close()) }()

	commit, err := object.GetCommit(st, h)
	if err != nil {
		return time.Time{}, fmt.Errorf("reading commit %s: %w", h, err)
	}
	tree := filepath.Join(scratch, "tree")
	if err := writeTree(ctx, st, h, tree); err != nil {
		return time.Time{}, err
	}
	if err := os.RemoveAll(dir); err != nil {
		return time.Time{}, fmt.Errorf("removing the previous checkout: %w", err)
	}
	return commit.Committer.When.UTC(), os.Rename(tree, dir)
}

// writeTree writes the files of commit h, which st holds, into a new directory dir.
func writeTree(ctx context.Context, st storage.Storer, h plumbing.Hash, dir string) error {
	if err := os.Mkdir(dir, 0o755); err != nil {
		return err
	}
	// The worktree is separate from the object store, so go-git writes no .git into it; the
	// bound filesystem refuses writes that escape dir through symlinks.
	repo, err := git.Open(st, ctxFS{ctx: ctx, Filesystem: osfs.New(dir, osfs.WithBoundOS())})
	if err != nil {
		return err
	}
	wt, err := repo.Worktree()
	if err != nil {
		return err
	}
	if err := wt.Checkout(&git.CheckoutOptions{Hash: h, Force: true}); err != nil {
		return fmt.Errorf("writing files: %w", err)
	}
	return ctx.Err()
}

// ctxFS is a filesystem that stops creating files and links once ctx is done, so that a
// cancelled checkout of a large tree ends promptly.
type ctxFS struct {
	billy.Filesystem
	ctx context.Context
}

func (f ctxFS) Create(name string) (billy.File, error) {
	return f.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o666)
}

func (f ctxFS) OpenFile(name string, flag int, perm os.FileMode) (billy.File, error) {
	if err := f.ctx.Err(); err != nil {
		return nil, err
	}
	return f.Filesystem.OpenFile(name, flag, perm)
}

func (f ctxFS) Symlink(target, link string) error {
	if err := f.ctx.Err(); err != nil {
		return err
	}
	return f.Filesystem.Symlink(target, link)
}

func (f ctxFS) MkdirAll(name string, perm os.FileMode) error {
	if err := f.ctx.Err(); err != nil {
		return err
	}
	return f.Filesystem.MkdirAll(name, perm)
}
