package store

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"slices"
	"testing"

	"github.com/slipway-dev/slipway/secretbox"
)

func TestRepoCredentialPutGetDelete(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		mustCreateProject(t, s, "shop")
		mustCreateComponent(t, s, "shop", "api")
		mustCreateComponent(t, s, "shop", "web")

		_, _, err := s.GetRepoCredential(ctx, "shop", "api")
		wantErr(t, err, ErrNotFound, `repo credential of component "api" in project "shop": not found`)

		first, err := s.PutRepoCredential(ctx, "shop", "api", fakeSealed("k1", "one"))
		must(t, err)
		second, err := s.PutRepoCredential(ctx, "shop", "api", fakeSealed("k2", "two"))
		must(t, err)
		if !second.After(first) {
			t.Errorf("second put at %v, not after the first at %v", second, first)
		}
		got, at, err := s.GetRepoCredential(ctx, "shop", "api")
		must(t, err)
		if want := fakeSealed("k2", "two"); got.KEKID != want.KEKID || !bytes.Equal(got.WrappedKey, want.WrappedKey) ||
			!bytes.Equal(got.Ciphertext, want.Ciphertext) || !at.Equal(second) {
			t.Errorf("Get = %+v at %v, want %+v at %v", got, at, want, second)
		}
		if _, _, err := s.GetRepoCredential(ctx, "shop", "web"); !errors.Is(err, ErrNotFound) {
			t.Errorf("web has a credential: %v", err)
		}

		must(t, s.DeleteRepoCredential(ctx, "shop", "api"))
		wantErr(t, s.DeleteRepoCredential(ctx, "shop", "api"), ErrNotFound,
			`repo credential of component "api" in project "shop": not found`)
		_, _, err = s.GetRepoCredential(ctx, "shop", "api")
		wantErr(t, err, ErrNotFound, "")
	})
}

func TestRepoCredentialErrors(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		mustCreateProject(t, s, "shop")
		_, err := s.PutRepoCredential(ctx, "shop", "nope", fakeSealed("k", "x"))
		wantErr(t, err, ErrNotFound, `component "nope" in project "shop": not found`)
		_, err = s.PutRepoCredential(ctx, "nope", "api", fakeSealed("k", "x"))
		wantErr(t, err, ErrNotFound, `project "nope": not found`)
		_, _, err = s.GetRepoCredential(ctx, "shop", "nope")
		wantErr(t, err, ErrNotFound, `component "nope" in project "shop": not found`)
		wantErr(t, s.DeleteRepoCredential(ctx, "nope", "api"), ErrNotFound, `project "nope": not found`)

		mustCreateComponent(t, s, "shop", "api")
		_, err = s.PutRepoCredential(ctx, "shop", "api", secretbox.Sealed{KEKID: "k"})
		wantErr(t, err, ErrInvalid, "")
	})
}

func TestRepoCredentialGoesWithItsComponent(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		mustCreateProject(t, s, "shop")
		mustCreateComponent(t, s, "shop", "api")
		_, err := s.PutRepoCredential(ctx, "shop", "api", fakeSealed("k", "x"))
		must(t, err)
		must(t, s.DeleteComponent(ctx, "shop", "api"))
		if n := count(t, s, "SELECT * FROM repo_credentials"); n != 0 {
			t.Errorf("%d repo credentials left after deleting the component", n)
		}
		mustCreateComponent(t, s, "shop", "api")
		_, _, err = s.GetRepoCredential(ctx, "shop", "api")
		wantErr(t, err, ErrNotFound, `repo credential of component "api" in project "shop": not found`)
	})
}

// TestRewrapCoversRepoCredentials rotates the KEK and checks that the re-wrap moves the repo credentials too, that
// they still open, and that KEKIDs lists their KEK before and not after.
func TestRewrapCoversRepoCredentials(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		keys, err := secretbox.LoadOrCreateKeyring(filepath.Join(t.TempDir(), "keyring.json"))
		must(t, err)
		oldID := keys.ActiveID()
		mustCreateProject(t, s, "shop")
		comps := []string{"a", "b", "c", "d", "e"}
		for _, c := range comps {
			mustCreateComponent(t, s, "shop", c)
			sealed, err := keys.Seal(RepoCredentialAAD("shop", c), []byte("cred-"+c))
			must(t, err)
			_, err = s.PutRepoCredential(ctx, "shop", c, sealed)
			must(t, err)
		}
		ids, err := s.KEKIDs(ctx)
		must(t, err)
		if !slices.Equal(ids, []string{oldID}) {
			t.Fatalf("KEKIDs = %q, want [%q] (repo credentials only)", ids, oldID)
		}
		newID, err := keys.Rotate()
		must(t, err)
		n, err := s.RewrapConfigs(ctx, 2, keys.Rewrap)
		must(t, err)
		if n != len(comps) {
			t.Errorf("RewrapConfigs = %d, want %d", n, len(comps))
		}
		if n, err := s.RewrapConfigs(ctx, 2, keys.Rewrap); n != 0 || err != nil {
			t.Errorf("second RewrapConfigs = %d, %v, want 0", n, err)
		}
		for _, c := range comps {
			sealed, _, err := s.GetRepoCredential(ctx, "shop", c)
			must(t, err)
			if sealed.KEKID != newID {
				t.Errorf("%s: KEK %q, want %q", c, sealed.KEKID, newID)
			}
			pt, err := keys.Open(RepoCredentialAAD("shop", c), sealed)
			if err != nil || string(pt) != "cred-"+c {
				t.Errorf("%s: Open = %q, %v", c, pt, err)
			}
		}
		ids, err = s.KEKIDs(ctx)
		must(t, err)
		if !slices.Equal(ids, []string{newID}) {
			t.Errorf("KEKIDs after rewrap = %q, want [%q]", ids, newID)
		}
	})
}

// TestRepoCredentialIsNotInTheSQLiteFiles is TestSecretsAreNotInTheSQLiteFiles for a Git credential.
func TestRepoCredentialIsNotInTheSQLiteFiles(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "slipway.db")
	keys, err := secretbox.LoadOrCreateKeyring(filepath.Join(dir, "keyring.json"))
	must(t, err)
	s, err := Open(context.Background(), "sqlite://"+path)
	must(t, err)
	const project, canary = "canary-project-91ab", "CANARY-git-token-5e3f0c2a-do-not-store"
	mustCreateProject(t, s, project)
	mustCreateComponent(t, s, project, "api")
	sealed, err := keys.Seal(RepoCredentialAAD(project, "api"), []byte(`{"token":"`+canary+`"}`))
	must(t, err)
	_, err = s.PutRepoCredential(t.Context(), project, "api", sealed)
	must(t, err)
	check := func(when string) {
		t.Helper()
		all := readDBFiles(t, path, project, when)
		if bytes.Contains(all, []byte(canary)) {
			t.Errorf("%s: the Git token is in the database files", when)
		}
	}
	check("while open")
	must(t, s.Close())
	check("after close")
}
