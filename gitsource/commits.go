package gitsource

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/transport"
)

// Commit is one commit of a branch's history, as RecentCommits and Between read it.
type Commit struct {
	// SHA is the commit's full 40-hex SHA.
	SHA string
	// Message is the whole commit message, as the commit holds it (usually ending in a newline).
	Message string
	// Author and Email are the author's name and e-mail address, as the commit holds them.
	Author, Email string
	// At is when the commit was authored (the date `git log` shows), in UTC.
	At time.Time
}

// Title returns the first line of the message, without surrounding spaces: "" for an empty message.
func (c Commit) Title() string {
	title, _, _ := strings.Cut(strings.TrimLeft(c.Message, "\r\n"), "\n")
	return strings.TrimSpace(title)
}

// recentTip is the ref RecentCommits fetches the branch into.
const recentTip = plumbing.ReferenceName("refs/slipway/recent")

// RecentCommits returns the newest limit commits of branch in repo, newest first, following first
// parents from the branch's tip (so a merged branch's own commits are not listed). A history shorter
// than limit gives all of it. branch is a branch name ("main", "release/1.x") or a full ref name
// under refs/heads/. limit must be at least 1.
//
// Only the branch is fetched, limit commits deep (shallow), into a scratch directory that is removed
// before returning. Cancelling ctx stops the fetch and the walk.
//
// A branch the repository does not have (or an empty repository) gives an error wrapping
// ErrUnknownRef that names the branch; refused credentials ErrAuth; a missing repository
// ErrRepoNotFound; other errors are transient. Every error names the repository, never credentials.
func RecentCommits(ctx context.Context, repo, branch string, limit int, auth Auth) ([]Commit, error) {
	s := newScrubber(repo, auth)
	op := fmt.Sprintf("reading the commits of branch %q", branch)
	if limit < 1 {
		return nil, s.fail(ctx, op, fmt.Errorf("limit %d: want at least 1", limit))
	}
	name, err := branchRef(branch)
	if err != nil {
		return nil, s.fail(ctx, op, err)
	}
	r, err := newRemote(repo, auth)
	if err != nil {
		return nil, s.fail(ctx, op, err)
	}
	commits, err := r.recentCommits(ctx, name, limit)
	if err != nil {
		return nil, s.fail(ctx, op, err)
	}
	return commits, nil
}

// branchRef is the full ref name of branch.
func branchRef(branch string) (plumbing.ReferenceName, error) {
	short := strings.TrimPrefix(branch, "refs/heads/")
	if short == "" {
		return "", fmt.Errorf("%w: no branch given", ErrUnknownRef)
	}
	return plumbing.NewBranchReferenceName(short), nil
}

func (r *remote) recentCommits(ctx context.Context, branch plumbing.ReferenceName, limit int) (_ []Commit, err error) {
	base, err := os.MkdirTemp("", "slipway-commits-")
	if err != nil {
		return nil, err
	}
	defer removeAll(base, &err)
	st, tip, err := r.fetchBranch(ctx, branch, limit, base)
	if err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, st.Close()) }()
	return firstParents(ctx, st, tip, limit)
}

// fetchBranch fetches branch, depth commits deep, and nothing else, into a new store under base, and
// returns the store and the branch's tip as fetched. The caller discards the store.
func (r *remote) fetchBranch(ctx context.Context, branch plumbing.ReferenceName, depth int, base string) (*store, plumbing.Hash, error) {
	st, err := newStore(base)
	if err != nil {
		return nil, plumbing.ZeroHash, err
	}
	err = r.fetch(ctx, st, depth, config.RefSpec("+"+string(branch)+":"+string(recentTip)))
	switch {
	case errors.Is(err, git.NoMatchingRefSpecError{}):
		err = fmt.Errorf("%w: no branch %q", ErrUnknownRef, branch.Short())
	case errors.Is(err, transport.ErrEmptyRemoteRepository):
		err = fmt.Errorf("%w: the repository is empty: no branch %q", ErrUnknownRef, branch.Short())
	}
	if err != nil {
		return nil, plumbing.ZeroHash, errors.Join(err, st.discard())
	}
	tip, err := st.Reference(recentTip)
	if err != nil {
		return nil, plumbing.ZeroHash, errors.Join(fmt.Errorf("reading the fetched tip of %s: %w", branch.Short(), err), st.discard())
	}
	return st, tip.Hash(), nil
}

// firstParents returns up to limit commits of st from tip, following first parents. The walk ends early at
// a root commit, or at the boundary of a shallow history.
func firstParents(ctx context.Context, st *store, tip plumbing.Hash, limit int) ([]Commit, error) {
	out := make([]Commit, 0, limit)
	for h := tip; len(out) < limit; {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		c, err := object.GetCommit(st, h)
		if errors.Is(err, plumbing.ErrObjectNotFound) && len(out) > 0 {
			break // the shallow history ends before limit: the server cut it shorter than asked
		}
		if err != nil {
			return nil, fmt.Errorf("reading commit %s: %w", h, err)
		}
		out = append(out, commitOf(c))
		if len(c.ParentHashes) == 0 {
			break
		}
		h = c.ParentHashes[0]
	}
	return out, nil
}

// commitOf is c as gitsource shows commits.
func commitOf(c *object.Commit) Commit {
	return Commit{SHA: c.Hash.String(), Message: c.Message, Author: c.Author.Name, Email: c.Author.Email, At: c.Author.When.UTC()}
}
