package secretbox_test

import (
	"path/filepath"
	"testing"

	"github.com/slipway-dev/slipway/secretbox"
)

// newKeyring creates a keyring in a fresh temporary directory and returns it with its file's path.
func newKeyring(t *testing.T) (*secretbox.Keyring, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "keys", "keyring.json")
	k, err := secretbox.LoadOrCreateKeyring(path)
	if err != nil {
		t.Fatalf("LoadOrCreateKeyring: %v", err)
	}
	return k, path
}

// mustSeal seals plaintext or fails the test.
func mustSeal(t *testing.T, k *secretbox.Keyring, aad []byte, plaintext string) secretbox.Sealed {
	t.Helper()
	s, err := k.Seal(aad, []byte(plaintext))
	if err != nil {
		t.Fatalf("Seal: %v", err)
	}
	return s
}

// mustOpen opens s and checks that it holds want.
func mustOpen(t *testing.T, k *secretbox.Keyring, aad []byte, s secretbox.Sealed, want string) {
	t.Helper()
	got, err := k.Open(aad, s)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if string(got) != want {
		t.Fatalf("Open = %q, want %q", got, want)
	}
}

// clone returns a deep copy of s so that a test can modify it.
func clone(s secretbox.Sealed) secretbox.Sealed {
	return secretbox.Sealed{
		KEKID:      s.KEKID,
		WrappedKey: append([]byte(nil), s.WrappedKey...),
		Ciphertext: append([]byte(nil), s.Ciphertext...),
	}
}
