package gitsource

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// MaxRangeFiles is the most file paths Between lists; Range.Truncated says when there were more.
const MaxRangeFiles = 500

// Range is what moving a branch's deployment from one commit to another changes, as Between reads it.
type Range struct {
	// Commits are the commits the move brings (those of the new commit the old one lacks), newest first by
	// commit date; on a rollback, those it takes away. Empty, never nil, when there are none.
	Commits []Commit
	// Files are the paths whose content or mode differs between the two commits' trees, sorted. Empty, never
	// nil, when there are none or there is no old commit.
	Files []string
	// Rollback says the new commit is an ancestor of the old one: Commits are those the move takes away.
	Rollback bool
	// Truncated says there were more commits or files than are listed.
	Truncated bool
}

// Between returns the range from commit from to commit to on branch of repo: the commits reachable from to and
// not from from (newest first, at most limit), and the files that differ between their trees (sorted, at most
// MaxRangeFiles); Truncated says either list was cut. When to is an ancestor of from, Rollback is set and
// Commits are the commits of from that to lacks. from and to are full 40-hex SHAs. from == to gives empty
// lists; from "" (nothing before) gives the newest limit commits up to to and no files. branch is as for
// RecentCommits; limit must be at least 1.
//
// Only the branch is fetched, shallowly, into a scratch directory that is removed before returning: 4×limit
// commits deep, then SearchDepth, then all its history, until both commits are there and the commits listed do
// not run past the history fetched. Cancelling ctx stops the fetch and the walk.
//
// A commit that is not on the branch gives an error wrapping ErrUnknownRef that names it, as does a branch
// the repository does not have; refused credentials ErrAuth; a missing repository ErrRepoNotFound; other
// errors are transient. Every error names the repository, never credentials.
func Between(ctx context.Context, repo, branch, from, to string, limit int, auth Auth) (Range, error) {
	s := newScrubber(repo, auth)
	op := fmt.Sprintf("reading the commits between %s and %s on branch %q", orNothing(from), to, branch)
	if limit < 1 {
		return Range{}, s.fail(ctx, op, fmt.Errorf("limit %d: want at least 1", limit))
	}
	name, err := branchRef(branch)
	if err != nil {
		return Range{}, s.fail(ctx, op, err)
	}
	var fromHash plumbing.Hash
	if from != "" {
		if fromHash, err = fullSHA(from); err != nil {
			return Range{}, s.fail(ctx, op, err)
		}
	}
	toHash, err := fullSHA(to)
	if err != nil {
		return Range{}, s.fail(ctx, op, err)
	}
	if fromHash == toHash {
		return Range{Commits: []Commit{}, Files: []string{}}, nil
	}
	r, err := newRemote(repo, auth)
	if err != nil {
		return Range{}, s.fail(ctx, op, err)
	}
	rg, err := r.between(ctx, name, fromHash, toHash, limit)
	if err != nil {
		return Range{}, s.fail(ctx, op, err)
	}
	return rg, nil
}

func orNothing(sha string) string {
	if sha == "" {
		return "nothing"
	}
	return sha
}

// fullSHA parses a full 40-hex SHA; anything else names no commit.
func fullSHA(sha string) (plumbing.Hash, error) {
	h := plumbing.NewHash(sha)
	if len(sha) != 40 || !isHex(strings.ToLower(sha)) || h.IsZero() {
		return plumbing.ZeroHash, fmt.Errorf("%w: %q is not a full 40-hex commit SHA", ErrUnknownRef, sha)
	}
	return h, nil
}

// between fetches the branch ever deeper until the range from..to can be read from it. A zero from is none.
//
// A shallow pass is trusted once the commits listed stop short of its boundary. It could still list a commit
// that from reaches only through history not fetched (a merge of a branch older than the pass's depth); such
// histories are rare enough on a deployed branch not to fetch all of it every time.
func (r *remote) between(ctx context.Context, branch plumbing.ReferenceName, from, to plumbing.Hash, limit int) (_ Range, err error) {
	base, err := os.MkdirTemp("", "slipway-between-")
	if err != nil {
		return Range{}, err
	}
	defer removeAll(base, &err)
	depths := []int{SearchDepth, 0}
	if limit < SearchDepth/4 {
		depths = append([]int{4 * limit}, depths...)
	}
	var missing plumbing.Hash
	for _, depth := range depths {
		st, _, err := r.fetchBranch(ctx, branch, depth, base)
		if err != nil {
			return Range{}, err
		}
		var rg Range
		var cut bool
		rg, missing, cut, err = readRange(ctx, st, from, to, limit)
		if err = errors.Join(err, st.discard()); err != nil {
			return Range{}, err
		}
		// Cut with all history asked for: the server keeps it shallow, and the range ends there.
		if missing.IsZero() && (!cut || depth == 0) {
			return rg, nil
		}
	}
	return Range{}, fmt.Errorf("%w: no commit %s on branch %q", ErrUnknownRef, missing, branch.Short())
}

// readRange reads the range from..to from st. When st lacks from or to, it returns its hash and no range; cut
// says the walk listing the commits reached the boundary of a shallow history, so they may be incomplete.
func readRange(ctx context.Context, st *store, from, to plumbing.Hash, limit int) (_ Range, missing plumbing.Hash, cut bool, _ error) {
	for _, h := range []plumbing.Hash{from, to} {
		if h.IsZero() {
			continue
		}
		_, err := st.EncodedObject(plumbing.CommitObject, h)
		switch {
		case errors.Is(err, plumbing.ErrObjectNotFound):
			return Range{}, h, false, nil
		case err != nil:
			return Range{}, plumbing.ZeroHash, false, fmt.Errorf("reading commit %s: %w", h, err)
		}
	}
	behind, err := ancestors(ctx, st, from)
	if err != nil {
		return Range{}, plumbing.ZeroHash, false, err
	}
	rg := Range{Files: []string{}}
	head := to
	if behind[to] {
		rg.Rollback, head = true, from
		if behind, err = ancestors(ctx, st, to); err != nil {
			return Range{}, plumbing.ZeroHash, false, err
		}
	}
	commits, cut, err := newest(ctx, st, head, behind, limit+1)
	if err != nil {
		return Range{}, plumbing.ZeroHash, false, err
	}
	rg.Commits, rg.Truncated = commits[:min(len(commits), limit)], len(commits) > limit
	if !from.IsZero() {
		files, more, err := changedFiles(ctx, st, from, to, MaxRangeFiles)
		if err != nil {
			return Range{}, plumbing.ZeroHash, false, err
		}
		rg.Files, rg.Truncated = files, rg.Truncated || more
	}
	return rg, plumbing.ZeroHash, cut, nil
}

// ancestors returns h and the commits of st reachable from it; none for a zero h. A shallow history ends the
// walk at its boundary.
func ancestors(ctx context.Context, st *store, h plumbing.Hash) (map[plumbing.Hash]bool, error) {
	seen := map[plumbing.Hash]bool{}
	if h.IsZero() {
		return seen, nil
	}
	for queue := []plumbing.Hash{h}; len(queue) > 0; {
		h, queue = queue[len(queue)-1], queue[:len(queue)-1]
		if seen[h] {
			continue
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		c, err := object.GetCommit(st, h)
		if errors.Is(err, plumbing.ErrObjectNotFound) {
			continue // beyond the shallow boundary
		}
		if err != nil {
			return nil, fmt.Errorf("reading commit %s: %w", h, err)
		}
		seen[h] = true
		queue = append(queue, c.ParentHashes...)
	}
	return seen, nil
}

// newest returns up to n commits reachable from head and not in hidden, newest first by commit date (as
// `git log` orders them), and whether the walk reached a commit st does not hold (the boundary of a shallow
// history), which may have hidden newer ones.
func newest(ctx context.Context, st *store, head plumbing.Hash, hidden map[plumbing.Hash]bool, n int) ([]Commit, bool, error) {
	out := []Commit{}
	cut := false
	queued := map[plumbing.Hash]bool{}
	var frontier []*object.Commit // the commits to list next, in no order
	push := func(h plumbing.Hash) error {
		if hidden[h] || queued[h] {
			return nil
		}
		queued[h] = true
		c, err := object.GetCommit(st, h)
		if errors.Is(err, plumbing.ErrObjectNotFound) {
			cut = true
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading commit %s: %w", h, err)
		}
		frontier = append(frontier, c)
		return nil
	}
	if err := push(head); err != nil {
		return nil, false, err
	}
	for len(frontier) > 0 && len(out) < n {
		if err := ctx.Err(); err != nil {
			return nil, false, err
		}
		i := 0
		for j, c := range frontier {
			if c.Committer.When.After(frontier[i].Committer.When) {
				i = j
			}
		}
		c := frontier[i]
		frontier = slices.Delete(frontier, i, i+1)
		out = append(out, commitOf(c))
		for _, p := range c.ParentHashes {
			if err := push(p); err != nil {
				return nil, false, err
			}
		}
	}
	return out, cut, nil
}

// changedFiles returns the sorted paths whose content or mode differs between the trees of commits a and b,
// at most limit of them, and whether there were more.
func changedFiles(ctx context.Context, st *store, a, b plumbing.Hash, limit int) ([]string, bool, error) {
	var trees [2]*object.Tree
	for i, h := range []plumbing.Hash{a, b} {
		c, err := object.GetCommit(st, h)
		if err != nil {
			return nil, false, fmt.Errorf("reading commit %s: %w", h, err)
		}
		if trees[i], err = c.Tree(); err != nil {
			return nil, false, fmt.Errorf("reading the tree of commit %s: %w", h, err)
		}
	}
	changes, err := object.DiffTreeWithOptions(ctx, trees[0], trees[1], nil)
	if err != nil {
		return nil, false, fmt.Errorf("comparing the trees of %s and %s: %w", a, b, err)
	}
	files := make([]string, 0, len(changes))
	for _, ch := range changes {
		for _, name := range []string{ch.From.Name, ch.To.Name} {
			if name != "" {
				files = append(files, name)
			}
		}
	}
	slices.Sort(files)
	files = slices.Compact(files)
	if len(files) > limit {
		return files[:limit], true, nil
	}
	return files, false, nil
}
