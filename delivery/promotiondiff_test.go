package delivery

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/slipway-dev/slipway/api"
	"github.com/slipway-dev/slipway/gitsource"
	"github.com/slipway-dev/slipway/secretbox"
	"github.com/slipway-dev/slipway/store"
)

// diffStore is the BuildStore PromotionDiff reads: commitsStore's repo credential, and config values by
// environment.
type diffStore struct {
	commitsStore
	configs map[string][]store.ConfigValue
	listErr error // ListConfigs fails with it when set
	listed  []string
}

func (f *diffStore) ListConfigs(_ context.Context, project, component, env string) ([]store.ConfigValue, error) {
	f.listed = append(f.listed, env)
	if f.listErr != nil {
		return nil, f.listErr
	}
	out := []store.ConfigValue{}
	for _, v := range f.configs[env] {
		if v.Project == project && v.Component == component {
			out = append(out, v)
		}
	}
	return out, nil
}

// diffKeys opens the repo credential commitsStore holds (an empty Sealed) as tokenKeys does, and config values
// sealed by sealed; a value whose KEK is "lost" does not open.
type diffKeys struct{}

func (diffKeys) Open(aad []byte, s secretbox.Sealed) ([]byte, error) {
	switch {
	case s.KEKID == "":
		return tokenKeys{}.Open(aad, s)
	case s.KEKID == "lost":
		return nil, errors.New(`opening sealed value: unknown KEK "lost"`)
	case !bytes.Equal(aad, s.WrappedKey):
		return nil, errors.New("opening sealed value: wrong associated data")
	}
	return slices.Clone(s.Ciphertext), nil
}

// config is a value of component shop/api as diffKeys seals it: the plaintext, bound to its place.
func config(env, key, value string, secret bool) store.ConfigValue {
	v := store.ConfigValue{Project: "shop", Component: "api", Environment: env, Key: key, Secret: secret}
	v.Sealed = secretbox.Sealed{KEKID: "k1", WrappedKey: v.AAD(), Ciphertext: []byte(value)}
	return v
}

var diffComp = store.Component{Project: "shop", Name: "api", Repo: "https://git.example.com/acme/api.git", Branch: "main"}

func TestPromotionDiff(t *testing.T) {
	st := &diffStore{commitsStore: commitsStore{credential: true}, configs: map[string][]store.ConfigValue{
		"staging": {
			config("staging", "ADDED", "value-added", false),
			config("staging", "SAME", "value-same", false),
			config("staging", "CHANGED", "value-one", false),
			config("staging", "TOKEN", "value-secret-one", true),
			config("staging", "KIND", "value-kind", true), // a secret here, a plain config there, the same value
		},
		"production": {
			config("production", "SAME", "value-same", false),
			config("production", "CHANGED", "value-two", false),
			config("production", "TOKEN", "value-secret-two", true),
			config("production", "KIND", "value-kind", false),
			config("production", "OLD_SECRET", "value-removed", true),
		},
	}}
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	var gotRepo, gotBranch, gotFrom, gotTo string
	var gotLimit int
	var gotAuth gitsource.Auth
	var deadline time.Duration
	s := &Builds{Store: st, Keys: diffKeys{}, Between: func(ctx context.Context, repo, branch, from, to string, limit int, auth gitsource.Auth) (gitsource.Range, error) {
		gotRepo, gotBranch, gotFrom, gotTo, gotLimit, gotAuth = repo, branch, from, to, limit, auth
		if d, ok := ctx.Deadline(); ok {
			deadline = time.Until(d)
		}
		return gitsource.Range{
			Commits: []gitsource.Commit{{SHA: sha('c'), Message: "fix: the thing\n\nbecause\n", Author: "Ann", Email: "ann@example.com", At: at}},
			Files:   []string{"app/main.go", "go.mod"}, Truncated: true,
		}, nil
	}}
	from := &store.Build{ID: "b-old", Commit: sha('a')}
	to := store.Build{ID: "b-new", Commit: sha('b')}

	got := s.PromotionDiff(context.Background(), diffComp, "staging", "production", from, to)

	if gotRepo != diffComp.Repo || gotBranch != "main" || gotFrom != sha('a') || gotTo != sha('b') || gotLimit != DiffCommits || gotAuth.Token != testRepoToken {
		t.Errorf("read %s %q %s..%s limit %d with %v, want the component's repo and branch, the two builds' commits, limit %d and its credential",
			gotRepo, gotBranch, gotFrom, gotTo, gotLimit, gotAuth, DiffCommits)
	}
	if deadline <= 0 || deadline > CommitsTimeout {
		t.Errorf("read with %v left, want a deadline within CommitsTimeout", deadline)
	}
	if got.FromBuild != "b-old" || got.FromCommit != sha('a') || got.ToBuild != "b-new" || got.ToCommit != sha('b') {
		t.Errorf("diff from %s@%s to %s@%s, want b-old@a… to b-new@b…", got.FromBuild, got.FromCommit, got.ToBuild, got.ToCommit)
	}
	want := api.Commit{SHA: sha('c'), Short: "ccccccc", Title: "fix: the thing", Message: "fix: the thing\n\nbecause\n", Author: "Ann", Email: "ann@example.com", At: at}
	if len(got.Commits) != 1 || got.Commits[0] != want {
		t.Errorf("commits %+v, want [%+v] (without a build)", got.Commits, want)
	}
	if !slices.Equal(got.Files, []string{"app/main.go", "go.mod"}) || !got.Truncated || got.Rollback || got.Error != "" {
		t.Errorf("files %q truncated %t rollback %t error %q, want Between's, no error", got.Files, got.Truncated, got.Rollback, got.Error)
	}
	wantConfigs := []api.KeyDifference{
		{Key: "ADDED", Change: api.KeyAdded},
		{Key: "CHANGED", Change: api.KeyChanged},
		{Key: "OLD_SECRET", Secret: true, Change: api.KeyRemoved},
		{Key: "TOKEN", Secret: true, Change: api.KeyChanged},
	}
	if !slices.Equal(got.Configs, wantConfigs) {
		t.Errorf("configs %+v, want %+v", got.Configs, wantConfigs)
	}
	if b, err := json.Marshal(got); err != nil || bytes.Contains(b, []byte("value-")) {
		t.Errorf("the diff holds a value (or does not marshal: %v): %s", err, b)
	}
}

func TestPromotionDiffFirstDeploy(t *testing.T) {
	st := &diffStore{configs: map[string][]store.ConfigValue{"dev": {config("dev", "A", "value-a", false)}}}
	var gotFrom string
	s := &Builds{Store: st, Keys: diffKeys{}, Between: func(_ context.Context, _, _, from, _ string, _ int, auth gitsource.Auth) (gitsource.Range, error) {
		gotFrom = from
		if auth.Token != "" {
			t.Errorf("read with %v, want anonymous access (the component has no credential)", auth)
		}
		return gitsource.Range{Commits: []gitsource.Commit{{SHA: sha('b')}}}, nil // nil Files
	}}
	got := s.PromotionDiff(context.Background(), diffComp, "", "dev", nil, store.Build{ID: "b-new", Commit: sha('b')})
	if gotFrom != "" || got.FromBuild != "" || got.FromCommit != "" {
		t.Errorf("read from %q, diff from %q@%q; want nothing serving", gotFrom, got.FromBuild, got.FromCommit)
	}
	if len(got.Commits) != 1 || got.Files == nil || len(got.Files) != 0 || got.Configs == nil || len(got.Configs) != 0 || got.Error != "" {
		t.Errorf("diff %+v, want one commit, empty files and configs, no error", got)
	}
	if len(st.listed) != 0 {
		t.Errorf("configs listed in %q, want none for a deploy", st.listed)
	}
}

func TestPromotionDiffGitFailure(t *testing.T) {
	repo := diffComp.Repo
	for _, tc := range []struct {
		name  string
		err   error
		inMsg []string
	}{
		{"unreachable", fmt.Errorf("reading the commits between a and b on branch \"main\" in %s: dial tcp 10.0.0.7:443: connect: connection refused", repo),
			[]string{"could not be read; try again", repo, "details are in the server log"}},
		{"unknown commit", fmt.Errorf("reading the commits in %s: %w: no commit %s on branch \"main\"", repo, gitsource.ErrUnknownRef, sha('a')),
			[]string{`not both on branch "main"`, repo, "no commit " + sha('a')}},
		{"refused", fmt.Errorf("reading the commits in %s: %w", repo, gitsource.ErrAuth),
			[]string{"refused the component's repo credential", repo}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logged bytes.Buffer
			st := &diffStore{commitsStore: commitsStore{credential: true}, configs: map[string][]store.ConfigValue{
				"staging": {config("staging", "A", "value-a", true)},
			}}
			s := &Builds{Store: st, Keys: diffKeys{}, Log: slog.New(slog.NewTextHandler(&logged, nil)),
				Between: func(context.Context, string, string, string, string, int, gitsource.Auth) (gitsource.Range, error) {
					return gitsource.Range{}, tc.err
				}}
			got := s.PromotionDiff(context.Background(), diffComp, "staging", "production", &store.Build{ID: "b-old", Commit: sha('a')}, store.Build{ID: "b-new", Commit: sha('b')})
			for _, want := range tc.inMsg {
				if !strings.Contains(got.Error, want) {
					t.Errorf("error %q lacks %q", got.Error, want)
				}
			}
			for _, leak := range []string{testRepoToken, "10.0.0.7", "dial tcp"} {
				if strings.Contains(got.Error, leak) {
					t.Errorf("error %q holds %q", got.Error, leak)
				}
			}
			if got.Commits == nil || len(got.Commits) != 0 || got.Files == nil || len(got.Files) != 0 || got.Truncated || got.Rollback {
				t.Errorf("commits %v files %v, want empty lists", got.Commits, got.Files)
			}
			if want := []api.KeyDifference{{Key: "A", Secret: true, Change: api.KeyAdded}}; !slices.Equal(got.Configs, want) {
				t.Errorf("configs %+v, want %+v: a git failure does not stop the comparison", got.Configs, want)
			}
			if !strings.Contains(logged.String(), "reading the commits of a promotion failed") || strings.Contains(logged.String(), testRepoToken) {
				t.Errorf("log %q, want the failure without the token", logged.String())
			}
		})
	}
}

func TestPromotionDiffConfigFailure(t *testing.T) {
	between := func(context.Context, string, string, string, string, int, gitsource.Auth) (gitsource.Range, error) {
		return gitsource.Range{Commits: []gitsource.Commit{{SHA: sha('b')}}, Files: []string{"a.go"}}, nil
	}
	lost := config("production", "TOKEN", "value-secret", true)
	lost.Sealed.KEKID = "lost"
	for name, st := range map[string]*diffStore{
		"a value does not open": {configs: map[string][]store.ConfigValue{
			"staging":    {config("staging", "TOKEN", "value-secret", true)},
			"production": {lost},
		}},
		"the store fails": {listErr: store.ErrNotFound},
	} {
		t.Run(name, func(t *testing.T) {
			var logged bytes.Buffer
			s := &Builds{Store: st, Keys: diffKeys{}, Between: between, Log: slog.New(slog.NewTextHandler(&logged, nil))}
			got := s.PromotionDiff(context.Background(), diffComp, "staging", "production", nil, store.Build{ID: "b-new", Commit: sha('b')})
			if !strings.Contains(got.Error, `the configs of environments "staging" and "production" could not be compared`) {
				t.Errorf("error %q, want it to say the configs could not be compared", got.Error)
			}
			if got.Configs == nil || len(got.Configs) != 0 || len(got.Commits) != 1 || !slices.Equal(got.Files, []string{"a.go"}) {
				t.Errorf("diff %+v, want no configs but the commits and files", got)
			}
			if strings.Contains(got.Error, "value-") || strings.Contains(logged.String(), "value-") {
				t.Errorf("a value leaked: error %q, log %q", got.Error, logged.String())
			}
		})
	}
}

func TestPromotionDiffCredentialFailure(t *testing.T) {
	st := &diffStore{commitsStore: commitsStore{credential: true}}
	s := &Builds{Store: st, Keys: lostKeys{}, Log: slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil)),
		Between: func(context.Context, string, string, string, string, int, gitsource.Auth) (gitsource.Range, error) {
			t.Error("the repository was read without its credential")
			return gitsource.Range{}, nil
		}}
	got := s.PromotionDiff(context.Background(), diffComp, "", "production", nil, store.Build{ID: "b-new", Commit: sha('b')})
	if !strings.Contains(got.Error, "repo credential could not be read") || strings.Contains(got.Error, "KEK") {
		t.Errorf("error %q, want it to say the credential could not be read, without the detail", got.Error)
	}
}

// lostKeys opens nothing.
type lostKeys struct{}

func (lostKeys) Open([]byte, secretbox.Sealed) ([]byte, error) {
	return nil, errors.New(`opening sealed value: unknown KEK "k0"`)
}
