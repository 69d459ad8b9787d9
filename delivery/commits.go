package delivery

import (
	"context"
	"fmt"

	"github.com/slipway-dev/slipway/api"
	"github.com/slipway-dev/slipway/gitsource"
	"github.com/slipway-dev/slipway/store"
)

// MaxCommits is the most commits Commits reads at once.
const MaxCommits = 100

// Commits returns the newest limit commits (1 to MaxCommits) of the component's branch, newest first along
// first parents, each with the commit's build when slipway has one: its newest run (a build whose workflow never
// started does not count, as for Start). The repository is read with the component's repo credential when it
// has one, within CommitsTimeout.
//
// Refusals are *Error and name the branch or the repository, never the credential: a limit out of range is
// Invalid ("invalid", field limit); a branch the repository lacks Invalid ("unknown_branch", field branch);
// refused credentials and a missing repository Invalid ("repo_auth_failed", "repo_not_found"); any other
// failure to read it Upstream ("git_unavailable").
func (s *Builds) Commits(ctx context.Context, comp store.Component, limit int) ([]api.Commit, error) {
	if limit < 1 || limit > MaxCommits {
		return nil, refuse(Invalid, "invalid", "limit", "limit must be a whole number from 1 to %d", MaxCommits)
	}
	cred, withCredential, err := s.credential(ctx, comp.Project, comp.Name)
	if err != nil {
		return nil, err
	}
	read := s.RecentCommits
	if read == nil {
		read = gitsource.RecentCommits
	}
	rctx, cancel := context.WithTimeout(ctx, CommitsTimeout)
	defer cancel()
	commits, err := read(rctx, comp.Repo, comp.Branch, limit, cred.Auth())
	if err != nil {
		return nil, repoError(withCredential, err, &Error{Kind: Invalid, Code: "unknown_branch", Field: "branch", Err: err,
			Message: fmt.Sprintf("branch %q is not a branch of the component's repository: %s", comp.Branch, err)})
	}

	shas := make([]string, len(commits))
	for i, c := range commits {
		shas[i] = c.SHA
	}
	builds, err := s.Store.BuildsOfCommits(ctx, comp.Project, comp.Name, shas...)
	if err != nil {
		return nil, err
	}
	runs := map[string][]store.Build{} // commit → its builds, newest first
	for _, b := range builds {
		runs[b.Commit] = append(runs[b.Commit], b)
	}
	out := make([]api.Commit, 0, len(commits))
	for _, c := range commits {
		v := commitOf(c)
		if b, ok := newestRun(runs[c.SHA]); ok {
			view := BuildOf(b)
			v.Build = &view
		}
		out = append(out, v)
	}
	return out, nil
}

// commitOf is c as the API shows commits, without its build.
func commitOf(c gitsource.Commit) api.Commit {
	return api.Commit{SHA: c.SHA, Short: c.SHA[:min(len(c.SHA), 7)], Title: c.Title(), Message: c.Message,
		Author: c.Author, Email: c.Email, At: c.At}
}
