package delivery

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/slipway-dev/slipway/api"
	"github.com/slipway-dev/slipway/gitsource"
	"github.com/slipway-dev/slipway/store"
)

// DiffCommits is the most commits PromotionDiff lists.
const DiffCommits = 50

// PromotionDiff is what deploying build to of the component into environment targetEnv changes there, for a
// promotion request to show: from is the build serving in targetEnv now (nil when none does), sourceEnv the
// environment to is promoted from ("" for a deploy, which names none).
//
// The commits (at most DiffCommits, without their builds) and the files come from the component's branch, read
// with its repo credential within CommitsTimeout, as gitsource.Between reads them: on a rollback, the commits
// taken away; with nothing serving, the newest commits up to to's and no files. Configs are the keys whose
// config or secret differs between sourceEnv and targetEnv (none for a deploy); the values are opened with Keys
// to be compared and never leave PromotionDiff.
//
// It does not fail: what cannot be read leaves its lists empty and is said in Error, naming the repository but
// never a credential, a value or a host detail; the details go to Log.
func (s *Builds) PromotionDiff(ctx context.Context, comp store.Component, sourceEnv, targetEnv string, from *store.Build, to store.Build) api.PromotionDiff {
	d := api.PromotionDiff{ToBuild: to.ID, ToCommit: to.Commit, Commits: []api.Commit{}, Files: []string{}, Configs: []api.KeyDifference{}}
	if from != nil {
		d.FromBuild, d.FromCommit = from.ID, from.Commit
	}
	var problems []string
	rg, withCredential, err := s.commitRange(ctx, comp, d.FromCommit, d.ToCommit)
	if err != nil {
		s.log().WarnContext(ctx, "reading the commits of a promotion failed", "project", comp.Project,
			"component", comp.Name, "environment", targetEnv, "from", d.FromCommit, "to", d.ToCommit, "error", err)
		problems = append(problems, commitsProblem(comp.Branch, withCredential, err))
	} else {
		for _, c := range rg.Commits {
			d.Commits = append(d.Commits, commitOf(c))
		}
		d.Files = append(d.Files, rg.Files...)
		d.Rollback, d.Truncated = rg.Rollback, rg.Truncated
	}
	configs, err := s.configChanges(ctx, comp, sourceEnv, targetEnv)
	if err != nil {
		s.log().WarnContext(ctx, "comparing the configs of a promotion failed", "project", comp.Project,
			"component", comp.Name, "source", sourceEnv, "environment", targetEnv, "error", err)
		problems = append(problems, fmt.Sprintf(
			"the configs of environments %q and %q could not be compared; the details are in the server log", sourceEnv, targetEnv))
	} else {
		d.Configs = configs
	}
	d.Error = strings.Join(problems, "; ")
	return d
}

// errNoCredential says the component's repo credential could not be read or opened.
var errNoCredential = errors.New("the component's repo credential could not be read")

// commitRange reads the commits and files between from and to on the component's branch, and says whether it
// used the component's repo credential.
func (s *Builds) commitRange(ctx context.Context, comp store.Component, from, to string) (gitsource.Range, bool, error) {
	cred, withCredential, err := s.credential(ctx, comp.Project, comp.Name)
	if err != nil {
		return gitsource.Range{}, false, fmt.Errorf("%w: %w", errNoCredential, err)
	}
	between := s.Between
	if between == nil {
		between = gitsource.Between
	}
	rctx, cancel := context.WithTimeout(ctx, CommitsTimeout)
	defer cancel()
	rg, err := between(rctx, comp.Repo, comp.Branch, from, to, DiffCommits, cred.Auth())
	return rg, withCredential, err
}

// commitsProblem is what PromotionDiff says of err, a failure of commitRange: repoError's explanation, with
// gitsource's message (which names the repository and holds no credential) cut before any host detail.
func commitsProblem(branch string, withCredential bool, err error) string {
	if errors.Is(err, errNoCredential) {
		return "the commits could not be read: " + errNoCredential.Error() + "; the details are in the server log"
	}
	shown := redactedError{msg: WithoutHostDetail(err.Error()), err: err}
	return repoError(withCredential, shown, &Error{Kind: Invalid, Code: "unknown_commit", Err: shown,
		Message: fmt.Sprintf("the commits are not both on branch %q of the component's repository: %s", branch, shown)}).Error()
}

// redactedError is err shown with another message; errors.Is and errors.As still see what err wraps.
type redactedError struct {
	msg string
	err error
}

func (c redactedError) Error() string { return c.msg }
func (c redactedError) Unwrap() error { return c.err }

// configChanges returns the keys whose config or secret differs between the component's values in environment
// source and in environment target, by key; none when source is "".
func (s *Builds) configChanges(ctx context.Context, comp store.Component, source, target string) ([]api.KeyDifference, error) {
	out := []api.KeyDifference{}
	if source == "" {
		return out, nil
	}
	from, err := s.configsIn(ctx, comp, source)
	if err != nil {
		return nil, err
	}
	to, err := s.configsIn(ctx, comp, target)
	if err != nil {
		return nil, err
	}
	keys := make([]string, 0, len(from)+len(to))
	for k := range from {
		keys = append(keys, k)
	}
	for k := range to {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range slices.Compact(keys) {
		src, inSource := from[k]
		dst, inTarget := to[k]
		change := ""
		switch {
		case !inTarget:
			change = api.KeyAdded
		case !inSource:
			change = api.KeyRemoved
		default:
			same, err := s.sameValue(src, dst)
			if err != nil {
				return nil, err
			}
			if !same {
				change = api.KeyChanged
			}
		}
		if change != "" {
			out = append(out, api.KeyDifference{Key: k, Secret: src.Secret || dst.Secret, Change: change})
		}
	}
	return out, nil
}

// configsIn returns the component's values in environment env by key.
func (s *Builds) configsIn(ctx context.Context, comp store.Component, env string) (map[string]store.ConfigValue, error) {
	values, err := s.Store.ListConfigs(ctx, comp.Project, comp.Name, env)
	if err != nil {
		return nil, fmt.Errorf("listing the configs of %s/%s in environment %q: %w", comp.Project, comp.Name, env, err)
	}
	out := make(map[string]store.ConfigValue, len(values))
	for _, v := range values {
		out[v.Key] = v
	}
	return out, nil
}

// sameValue reports whether a and b hold the same value, opening both; the opened values are wiped after.
func (s *Builds) sameValue(a, b store.ConfigValue) (bool, error) {
	var opened [2][]byte
	defer func() {
		clear(opened[0])
		clear(opened[1])
	}()
	for i, v := range []store.ConfigValue{a, b} {
		plain, err := s.Keys.Open(v.AAD(), v.Sealed)
		if err != nil {
			return false, fmt.Errorf("opening config %q in environment %q: %w", v.Key, v.Environment, err)
		}
		opened[i] = plain
	}
	return subtle.ConstantTimeCompare(opened[0], opened[1]) == 1, nil
}
