package secretbox_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/slipway-dev/slipway/secretbox"
)

// keyFileJSON returns a key file holding one KEK.
func keyFileJSON(active, id, key string) string {
	return fmt.Sprintf(`{"active":%q,"keys":[{"id":%q,"key":%q,"createdAt":"2026-01-02T03:04:05Z"}]}`, active, id, key)
}

// writeKeyFile writes content to a fresh 0600 file and returns its path.
func writeKeyFile(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "keyring.json")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadOrCreateKeyringCreatesPrivateFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data", "keys")
	path := filepath.Join(dir, "keyring.json")
	k, err := secretbox.LoadOrCreateKeyring(path)
	if err != nil {
		t.Fatalf("LoadOrCreateKeyring: %v", err)
	}
	assertMode(t, path, 0o600)
	assertMode(t, dir, 0o700|os.ModeDir)

	var f struct {
		Active string `json:"active"`
		Keys   []struct {
			ID, Key, CreatedAt string
		} `json:"keys"`
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatalf("key file is not JSON: %v\n%s", err, b)
	}
	if len(f.Keys) != 1 || f.Active != k.ActiveID() || f.Keys[0].ID != f.Active || f.Keys[0].CreatedAt == "" {
		t.Fatalf("key file = %+v, want one active key %q with createdAt", f, k.ActiveID())
	}
	if ok, _ := filepath.Match("kek-[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]", f.Active); !ok {
		t.Errorf("KEK ID %q does not look like kek-<8 hex>", f.Active)
	}

	if _, err := k.Rotate(); err != nil {
		t.Fatal(err)
	}
	assertMode(t, path, 0o600)
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Errorf("key directory holds %d entries after Rotate, want only the key file: %v", len(entries), entries)
	}

	again, err := secretbox.LoadOrCreateKeyring(path)
	if err != nil {
		t.Fatal(err)
	}
	if again.ActiveID() != k.ActiveID() {
		t.Errorf("second LoadOrCreateKeyring active = %q, want existing %q", again.ActiveID(), k.ActiveID())
	}
}

func TestRotateWritesPrivateFileEvenIfItWasWider(t *testing.T) {
	k, path := newKeyring(t)
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := k.Rotate(); err != nil {
		t.Fatal(err)
	}
	assertMode(t, path, 0o600)
}

func assertMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode() & (os.ModePerm | os.ModeDir); got != want {
		t.Errorf("mode of %s = %v, want %v", path, got, want)
	}
}

func TestLoadOrCreateKeyringConcurrentCreatorsAgree(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keyring.json")
	const n = 8
	ids := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			k, err := secretbox.LoadOrCreateKeyring(path)
			if err != nil {
				errs[i] = err
				return
			}
			ids[i] = k.ActiveID()
		})
	}
	wg.Wait()
	final, err := secretbox.LoadKeyring(path)
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if errs[i] != nil || ids[i] != final.ActiveID() {
			t.Errorf("creator %d: id %q, err %v; want %q", i, ids[i], errs[i], final.ActiveID())
		}
	}
}

func TestLoadKeyringMissingFile(t *testing.T) {
	_, err := secretbox.LoadKeyring(filepath.Join(t.TempDir(), "nope.json"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("LoadKeyring(missing) error = %v, want os.ErrNotExist", err)
	}
}

func TestLoadKeyringRejectsBadFiles(t *testing.T) {
	const good = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=" // 32 bytes
	tests := []struct {
		name    string
		content string
	}{
		{"not json", "{"},
		{"no keys", `{"active":"kek-1","keys":[]}`},
		{"active not among keys", keyFileJSON("kek-2", "kek-1", good)},
		{"empty id", keyFileJSON("", "", good)},
		{"key not base64", keyFileJSON("kek-1", "kek-1", "!!!")},
		{"key too short", keyFileJSON("kek-1", "kek-1", "AAAA")},
		{"duplicate id", `{"active":"kek-1","keys":[{"id":"kek-1","key":"` + good + `"},{"id":"kek-1","key":"` + good + `"}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := secretbox.LoadKeyring(writeKeyFile(t, tt.content)); err == nil {
				t.Fatal("LoadKeyring accepted a bad key file")
			}
		})
	}
	if _, err := secretbox.LoadKeyring(writeKeyFile(t, keyFileJSON("kek-1", "kek-1", good))); err != nil {
		t.Fatalf("LoadKeyring(valid hand-written file): %v", err)
	}
}

func TestSecondKeyringPicksUpRotation(t *testing.T) {
	first, path := newKeyring(t)
	second, err := secretbox.LoadKeyring(path)
	if err != nil {
		t.Fatal(err)
	}
	oldID := second.ActiveID()

	newID, err := first.Rotate()
	if err != nil {
		t.Fatal(err)
	}
	if second.ActiveID() != oldID {
		t.Fatalf("second keyring changed active KEK before it needed to")
	}
	s := mustSeal(t, first, configAAD, "after rotation")
	if s.KEKID != newID {
		t.Fatalf("sealed with %q, want %q", s.KEKID, newID)
	}
	// second does not hold newID yet: Open re-reads the file.
	mustOpen(t, second, configAAD, s, "after rotation")
	if second.ActiveID() != newID {
		t.Errorf("after reload second active = %q, want %q", second.ActiveID(), newID)
	}
	// ... and Rewrap then moves values to the KEK it learnt about.
	old := mustSeal(t, first, configAAD, "x")
	if _, changed, err := second.Rewrap(old); err != nil || changed {
		t.Errorf("Rewrap of value under active KEK: changed %v, err %v", changed, err)
	}
}

func TestRotateKeepsKEKAddedByAnotherProcess(t *testing.T) {
	first, path := newKeyring(t)
	second, err := secretbox.LoadKeyring(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := first.Rotate(); err != nil {
		t.Fatal(err)
	}
	byFirst := mustSeal(t, first, configAAD, "sealed by first")

	// second never saw first's rotation; its own rotation must not drop first's KEK from the file.
	if _, err := second.Rotate(); err != nil {
		t.Fatal(err)
	}
	mustOpen(t, second, configAAD, byFirst, "sealed by first")
	bySecond := mustSeal(t, second, configAAD, "sealed by second")
	mustOpen(t, first, configAAD, bySecond, "sealed by second")

	fresh, err := secretbox.LoadKeyring(path)
	if err != nil {
		t.Fatal(err)
	}
	mustOpen(t, fresh, configAAD, byFirst, "sealed by first")
	mustOpen(t, fresh, configAAD, bySecond, "sealed by second")
}

func TestUnknownKEKAfterReloadFails(t *testing.T) {
	k, path := newKeyring(t)
	s := mustSeal(t, k, configAAD, "x")
	s.KEKID = "kek-00000000"
	if _, err := k.Open(configAAD, s); !errors.Is(err, secretbox.ErrUnknownKEK) {
		t.Fatalf("Open(unknown KEK) error = %v, want ErrUnknownKEK", err)
	}
	// When the file has gone, the error still says unknown KEK (and why the reload failed).
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if _, err := k.Open(configAAD, s); !errors.Is(err, secretbox.ErrUnknownKEK) {
		t.Fatalf("Open(unknown KEK, file gone) error = %v, want ErrUnknownKEK", err)
	}
	if _, err := k.Rotate(); err == nil {
		t.Fatal("Rotate without a key file succeeded")
	}
}

func TestReloadPicksUpRotation(t *testing.T) {
	first, path := newKeyring(t)
	second, err := secretbox.LoadKeyring(path)
	if err != nil {
		t.Fatal(err)
	}
	old := mustSeal(t, second, configAAD, "x")
	newID, err := first.Rotate()
	if err != nil {
		t.Fatal(err)
	}
	if err := second.Reload(); err != nil {
		t.Fatalf("Reload: %v", err)
	}
	if second.ActiveID() != newID {
		t.Fatalf("after Reload active = %q, want %q", second.ActiveID(), newID)
	}
	// Rewrap uses the reloaded active KEK; the old KEK is still there to unwrap with.
	moved, changed, err := second.Rewrap(old)
	if err != nil || !changed || moved.KEKID != newID {
		t.Fatalf("Rewrap after Reload = %q, changed %v, err %v; want moved to %q", moved.KEKID, changed, err, newID)
	}
	mustOpen(t, first, configAAD, moved, "x")

	if err := os.WriteFile(path, []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := second.Reload(); err == nil {
		t.Fatal("Reload of a corrupt key file succeeded")
	}
	if second.ActiveID() != newID {
		t.Errorf("a failed Reload changed the active KEK to %q", second.ActiveID())
	}
}

func TestRequireNamesMissingKEKs(t *testing.T) {
	dir := t.TempDir()
	k, err := secretbox.LoadOrCreateKeyring(filepath.Join(dir, "a.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := k.Require([]string{k.ActiveID()}); err != nil {
		t.Fatalf("Require of the active KEK: %v", err)
	}
	if err := k.Require(nil); err != nil {
		t.Fatalf("Require of nothing: %v", err)
	}
	err = k.Require([]string{k.ActiveID(), "kek-deadbeef"})
	if !errors.Is(err, secretbox.ErrUnknownKEK) || !strings.Contains(err.Error(), "kek-deadbeef") {
		t.Fatalf("Require with a missing KEK: %v, want ErrUnknownKEK naming kek-deadbeef", err)
	}
}
