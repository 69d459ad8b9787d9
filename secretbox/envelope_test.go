package secretbox_test

import (
	"bytes"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/slipway-dev/slipway/secretbox"
)

var configAAD = secretbox.AAD("config", "shop", "api", "production", "DB_URL")

func TestSealOpenRoundTrip(t *testing.T) {
	k, _ := newKeyring(t)
	tests := []struct {
		name      string
		plaintext string
	}{
		{"empty", ""},
		{"short", "postgres://user:hunter2@db/shop"},
		{"binary", "\x00\x01\xff\xfe"},
		{"64 KiB", strings.Repeat("x", 64<<10)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := mustSeal(t, k, configAAD, tt.plaintext)
			if s.KEKID != k.ActiveID() {
				t.Errorf("KEKID = %q, want active %q", s.KEKID, k.ActiveID())
			}
			if tt.plaintext != "" && bytes.Contains(s.Ciphertext, []byte(tt.plaintext)) {
				t.Errorf("ciphertext contains the plaintext")
			}
			mustOpen(t, k, configAAD, s, tt.plaintext)
		})
	}
}

func TestSealUsesFreshDataKeyAndNonce(t *testing.T) {
	k, _ := newKeyring(t)
	a := mustSeal(t, k, configAAD, "same")
	b := mustSeal(t, k, configAAD, "same")
	if bytes.Equal(a.WrappedKey, b.WrappedKey) {
		t.Error("two seals share a wrapped data key")
	}
	if bytes.Equal(a.Ciphertext, b.Ciphertext) {
		t.Error("two seals of the same plaintext give the same ciphertext")
	}
}

func TestOpenRejectsTampering(t *testing.T) {
	k, _ := newKeyring(t)
	orig := mustSeal(t, k, configAAD, "hunter2")
	flip := func(b []byte, i int) {
		if i < 0 {
			i += len(b)
		}
		b[i] ^= 0x01
	}
	tests := []struct {
		name   string
		tamper func(*secretbox.Sealed)
	}{
		{"ciphertext nonce", func(s *secretbox.Sealed) { flip(s.Ciphertext, 0) }},
		{"ciphertext body", func(s *secretbox.Sealed) { flip(s.Ciphertext, 12) }},
		{"ciphertext tag", func(s *secretbox.Sealed) { flip(s.Ciphertext, -1) }},
		{"ciphertext truncated", func(s *secretbox.Sealed) { s.Ciphertext = s.Ciphertext[:len(s.Ciphertext)-1] }},
		{"ciphertext too short", func(s *secretbox.Sealed) { s.Ciphertext = s.Ciphertext[:5] }},
		{"ciphertext empty", func(s *secretbox.Sealed) { s.Ciphertext = nil }},
		{"wrapped key nonce", func(s *secretbox.Sealed) { flip(s.WrappedKey, 0) }},
		{"wrapped key body", func(s *secretbox.Sealed) { flip(s.WrappedKey, 20) }},
		{"wrapped key tag", func(s *secretbox.Sealed) { flip(s.WrappedKey, -1) }},
		{"wrapped key empty", func(s *secretbox.Sealed) { s.WrappedKey = nil }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := clone(orig)
			tt.tamper(&s)
			_, err := k.Open(configAAD, s)
			if !errors.Is(err, secretbox.ErrDecrypt) {
				t.Fatalf("Open(tampered) error = %v, want ErrDecrypt", err)
			}
		})
	}
	mustOpen(t, k, configAAD, orig, "hunter2") // the table must not have modified the original
}

func TestOpenRejectsWrappedKeyUnderOtherKEKID(t *testing.T) {
	k, _ := newKeyring(t)
	s := mustSeal(t, k, configAAD, "hunter2")
	if _, err := k.Rotate(); err != nil {
		t.Fatal(err)
	}
	// The data key wrap binds the KEK ID: relabelling the value with the other (valid) KEK must fail.
	s.KEKID = k.ActiveID()
	if _, err := k.Open(configAAD, s); !errors.Is(err, secretbox.ErrDecrypt) {
		t.Fatalf("Open(relabelled) error = %v, want ErrDecrypt", err)
	}
}

func TestOpenRejectsRowSwap(t *testing.T) {
	k, _ := newKeyring(t)
	s := mustSeal(t, k, configAAD, "hunter2")
	tests := []struct {
		name string
		aad  []byte
	}{
		{"other kind", secretbox.AAD("secret", "shop", "api", "production", "DB_URL")},
		{"other project", secretbox.AAD("config", "shop2", "api", "production", "DB_URL")},
		{"other component", secretbox.AAD("config", "shop", "web", "production", "DB_URL")},
		{"other environment", secretbox.AAD("config", "shop", "api", "development", "DB_URL")},
		{"other key", secretbox.AAD("config", "shop", "api", "production", "DB_PASSWORD")},
		{"parts shifted", secretbox.AAD("config", "shopa", "pi", "production", "DB_URL")},
		{"no aad", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := k.Open(tt.aad, s); !errors.Is(err, secretbox.ErrDecrypt) {
				t.Fatalf("Open with %s error = %v, want ErrDecrypt", tt.name, err)
			}
		})
	}
}

func TestOpenWithOtherKeyringFails(t *testing.T) {
	k1, _ := newKeyring(t)
	k2, _ := newKeyring(t)
	s := mustSeal(t, k1, configAAD, "hunter2")
	_, err := k2.Open(configAAD, s)
	if !errors.Is(err, secretbox.ErrUnknownKEK) {
		t.Fatalf("Open with other keyring error = %v, want ErrUnknownKEK", err)
	}
	if !strings.Contains(err.Error(), s.KEKID) {
		t.Errorf("error %q does not name the KEK %q", err, s.KEKID)
	}
	if _, _, err := k2.Rewrap(s); !errors.Is(err, secretbox.ErrUnknownKEK) {
		t.Fatalf("Rewrap with other keyring error = %v, want ErrUnknownKEK", err)
	}
	if _, err := k1.Open(configAAD, secretbox.Sealed{}); !errors.Is(err, secretbox.ErrUnknownKEK) {
		t.Fatalf("Open(zero Sealed) error = %v, want ErrUnknownKEK", err)
	}
}

func TestOpenWithSameKEKIDButOtherKeyFails(t *testing.T) {
	k1, _ := newKeyring(t)
	s := mustSeal(t, k1, configAAD, "hunter2")
	// A keyring whose KEK has the same ID but different bytes (e.g. a key file restored from the wrong backup).
	other := writeKeyFile(t, keyFileJSON(s.KEKID, s.KEKID, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="))
	k2, err := secretbox.LoadKeyring(other)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k2.Open(configAAD, s); !errors.Is(err, secretbox.ErrDecrypt) {
		t.Fatalf("Open with same-ID other key error = %v, want ErrDecrypt", err)
	}
}

func TestRotateKeepsOldValuesAndRewrapMovesThem(t *testing.T) {
	k, path := newKeyring(t)
	oldID := k.ActiveID()
	before := mustSeal(t, k, configAAD, "hunter2")

	newID, err := k.Rotate()
	if err != nil {
		t.Fatalf("Rotate: %v", err)
	}
	if newID == oldID || k.ActiveID() != newID {
		t.Fatalf("after Rotate: old %q, new %q, active %q", oldID, newID, k.ActiveID())
	}
	mustOpen(t, k, configAAD, before, "hunter2")
	if after := mustSeal(t, k, configAAD, "x"); after.KEKID != newID {
		t.Errorf("Seal after Rotate used KEK %q, want %q", after.KEKID, newID)
	}

	moved, changed, err := k.Rewrap(before)
	if err != nil || !changed {
		t.Fatalf("Rewrap = changed %v, err %v; want changed", changed, err)
	}
	if moved.KEKID != newID {
		t.Errorf("Rewrap KEKID = %q, want %q", moved.KEKID, newID)
	}
	if !bytes.Equal(moved.Ciphertext, before.Ciphertext) {
		t.Error("Rewrap changed the ciphertext")
	}
	if bytes.Equal(moved.WrappedKey, before.WrappedKey) {
		t.Error("Rewrap kept the old wrapped key")
	}
	mustOpen(t, k, configAAD, moved, "hunter2")

	again, changed, err := k.Rewrap(moved)
	if err != nil || changed {
		t.Fatalf("second Rewrap = changed %v, err %v; want unchanged", changed, err)
	}
	if again.KEKID != moved.KEKID || !bytes.Equal(again.WrappedKey, moved.WrappedKey) {
		t.Error("Rewrap of a value under the active KEK modified it")
	}

	// A fresh process reading the file sees both KEKs with the new one active.
	fresh, err := secretbox.LoadKeyring(path)
	if err != nil {
		t.Fatal(err)
	}
	if fresh.ActiveID() != newID {
		t.Errorf("reloaded active = %q, want %q", fresh.ActiveID(), newID)
	}
	mustOpen(t, fresh, configAAD, before, "hunter2")
	mustOpen(t, fresh, configAAD, moved, "hunter2")
}

func TestKeyringConcurrentUse(t *testing.T) {
	k, _ := newKeyring(t)
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := range 8 {
		wg.Go(func() {
			for range 20 {
				s, err := k.Seal(configAAD, []byte("v"))
				if err != nil {
					errs <- err
					return
				}
				if _, err := k.Open(configAAD, s); err != nil {
					errs <- err
					return
				}
				if _, _, err := k.Rewrap(s); err != nil {
					errs <- err
					return
				}
			}
			if i%4 == 0 {
				if _, err := k.Rotate(); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
