package stack

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slipway-dev/slipway/server"
	"github.com/slipway-dev/slipway/store"
	"github.com/slipway-dev/slipway/store/storetest"
)

func openTestStore(t *testing.T) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), storetest.SQLiteDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func TestFirstAdminTokenInADirNotYetMade(t *testing.T) {
	st := openTestStore(t)
	path := filepath.Join(t.TempDir(), "not", "yet", AdminTokenFile)
	minted, err := ensureAdminToken(context.Background(), st, path, true)
	if err != nil || !minted {
		t.Fatalf("ensureAdminToken = %v, %v; want a minted token", minted, err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Fatalf("admin-token mode %v, want 0600", fi.Mode().Perm())
	}
	tok, err := st.TokenByHash(context.Background(), server.HashToken(strings.TrimSpace(string(b))))
	if err != nil || tok.Role != server.RoleAdmin {
		t.Fatalf("stored token for the file = %+v, %v; want an admin token", tok, err)
	}
	// A second server start finds the file valid and mints nothing.
	if minted, err := ensureAdminToken(context.Background(), st, path, true); err != nil || minted {
		t.Fatalf("second ensureAdminToken = %v, %v; want nothing minted", minted, err)
	}
}

func TestAdminTokenNotStoredWhenFileCannotBeWritten(t *testing.T) {
	st := openTestStore(t)
	dir := t.TempDir()
	blocker := filepath.Join(dir, "file")
	if err := os.WriteFile(blocker, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	// The token's directory is a regular file: neither it nor the token can be created.
	if _, err := ensureAdminToken(context.Background(), st, filepath.Join(blocker, AdminTokenFile), true); err == nil {
		t.Fatal("ensureAdminToken succeeded without a place to write the token")
	}
	if n, err := st.CountTokens(context.Background()); err != nil || n != 0 {
		t.Fatalf("%d tokens stored after a failed write (%v); want 0, or nobody could ever log in", n, err)
	}
	// Once the directory exists, the next start mints the first token as if nothing happened.
	path := filepath.Join(dir, "ok", AdminTokenFile)
	if minted, err := ensureAdminToken(context.Background(), st, path, true); err != nil || !minted {
		t.Fatalf("retry = %v, %v; want a minted token", minted, err)
	}
}

func TestDevMintsAnotherAdminTokenWhenFileLost(t *testing.T) {
	st := openTestStore(t)
	path := filepath.Join(t.TempDir(), AdminTokenFile)
	if _, err := ensureAdminToken(context.Background(), st, path, false); err != nil {
		t.Fatal(err)
	}
	os.Remove(path)
	if minted, err := ensureAdminToken(context.Background(), st, path, false); err != nil || !minted {
		t.Fatalf("after losing the file: %v, %v; want a new admin token", minted, err)
	}
	if n, _ := st.CountTokens(context.Background()); n != 2 {
		t.Fatalf("%d tokens, want 2", n)
	}
}
