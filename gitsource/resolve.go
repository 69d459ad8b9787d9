package gitsource

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
)

// Resolve returns the full SHA of the commit ref names in repo:
//   - "" or "HEAD": the commit the remote's HEAD points at (the default branch's head);
//   - a branch or tag name, or a full ref name (refs/heads/main); a tag wins over a branch of the
//     same name, as in git; annotated tags are peeled to their commit;
//   - a full 40-hex SHA, which must be a commit the repository holds;
//   - a short SHA of at least 4 hex digits, which must match exactly one commit among the ref tips
//     and the last SearchDepth commits of each branch.
//
// Names are tried before short SHAs. Listing refs is one round trip; a full SHA that is no ref's
// tip is checked by fetching it (depth 1 when the server allows, otherwise branch history); a
// short SHA fetches branch history. Scratch objects go to a temporary directory and are removed.
//
// A ref that names no commit gives an error wrapping ErrUnknownRef; refused credentials ErrAuth;
// a missing repository ErrRepoNotFound; other errors are transient.
func Resolve(ctx context.Context, repo, ref string, auth Auth) (string, error) {
	s := newScrubber(repo, auth)
	op := fmt.Sprintf("resolving %q", ref)
	if ref == "" {
		op = "resolving the default branch"
	}
	r, err := newRemote(repo, auth)
	if err != nil {
		return "", s.fail(ctx, op, err)
	}
	sha, err := r.resolve(ctx, ref)
	if err != nil {
		return "", s.fail(ctx, op, err)
	}
	return sha, nil
}

func (r *remote) resolve(ctx context.Context, ref string) (string, error) {
	adv, err := r.advertise(ctx)
	if err != nil {
		return "", err
	}
	hex := strings.ToLower(ref)
	switch {
	case ref == "" || ref == "HEAD":
		if adv.head.IsZero() {
			return "", fmt.Errorf("%w: the repository has no HEAD", ErrUnknownRef)
		}
		return adv.head.String(), nil
	case isHex(hex) && len(hex) == 40:
		h := plumbing.NewHash(hex)
		if target, ok := adv.objects[h]; ok {
			return target.String(), nil
		}
		return r.verifyCommit(ctx, adv, h)
	}
	if h, ok := adv.lookup(ref); ok {
		return h.String(), nil
	}
	if isHex(hex) && len(hex) >= 4 {
		return r.expandShortSHA(ctx, adv, hex)
	}
	return "", fmt.Errorf("%w: no branch or tag named %q", ErrUnknownRef, ref)
}

// verifyCommit checks that the repository holds commit h by fetching it into a scratch store.
func (r *remote) verifyCommit(ctx context.Context, adv *advertised, h plumbing.Hash) (_ string, err error) {
	base, err := os.MkdirTemp("", "slipway-resolve-")
	if err != nil {
		return "", err
	}
	defer removeAll(base, &err)
	st, err := r.fetchCommit(ctx, adv, h, base)
	if err != nil {
		return "", err
	}
	if err := st.discard(); err != nil {
		return "", err
	}
	return h.String(), nil
}

// expandShortSHA finds the one commit whose SHA starts with prefix.
func (r *remote) expandShortSHA(ctx context.Context, adv *advertised, prefix string) (_ string, err error) {
	base, err := os.MkdirTemp("", "slipway-resolve-")
	if err != nil {
		return "", err
	}
	defer removeAll(base, &err)
	found, err := r.commitsWithPrefix(ctx, adv, prefix, base)
	switch {
	case err != nil:
		return "", err
	case len(found) == 0:
		return "", fmt.Errorf("%w: no branch, tag or commit matches %q (short SHAs are looked up in the last %d commits of each branch)", ErrUnknownRef, prefix, SearchDepth)
	case len(found) > 1:
		if len(found) > 5 {
			found = append(found[:5], "…")
		}
		return "", fmt.Errorf("%w: short SHA %q is ambiguous: it matches %s", ErrUnknownRef, prefix, strings.Join(found, ", "))
	}
	return found[0], nil
}

// removeAll removes dir, reporting a failure through *err unless an error is already there.
func removeAll(dir string, err *error) {
	if rerr := os.RemoveAll(dir); rerr != nil && *err == nil {
		*err = rerr
	}
}

func isHex(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
