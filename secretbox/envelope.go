package secretbox

import (
	"fmt"
)

// Seal encrypts plaintext with a fresh 32-byte data key under AES-256-GCM with aad as associated data, and wraps
// the data key with the active KEK (AES-256-GCM, the KEK ID as associated data). Open needs the same aad.
func (k *Keyring) Seal(aad, plaintext []byte) (Sealed, error) {
	e := k.active()
	dataKey := newKey()
	ct, err := seal(dataKey, aad, plaintext)
	if err != nil {
		return Sealed{}, fmt.Errorf("sealing value: %w", err)
	}
	wrapped, err := seal(e.key, []byte(e.id), dataKey)
	if err != nil {
		return Sealed{}, fmt.Errorf("wrapping data key with KEK %q: %w", e.id, err)
	}
	return Sealed{KEKID: e.id, WrappedKey: wrapped, Ciphertext: ct}, nil
}

// Open decrypts s, which must have been sealed with the same aad. A tampered value, the wrong aad or a KEK whose
// bytes differ gives an error wrapping ErrDecrypt; a KEK the keyring does not hold, even after re-reading its
// file, gives one wrapping ErrUnknownKEK.
func (k *Keyring) Open(aad []byte, s Sealed) ([]byte, error) {
	dataKey, err := k.unwrap(s)
	if err != nil {
		return nil, fmt.Errorf("opening sealed value: %w", err)
	}
	pt, err := open(dataKey, aad, s.Ciphertext)
	if err != nil {
		return nil, fmt.Errorf("opening sealed value: ciphertext: %w", err)
	}
	return pt, nil
}

// Rewrap unwraps the data key of s and wraps it with the active KEK. The returned Sealed shares s.Ciphertext,
// which is not touched. The bool is false, and s is returned as is, when s already uses the active KEK.
func (k *Keyring) Rewrap(s Sealed) (Sealed, bool, error) {
	e := k.active()
	if s.KEKID == e.id {
		return s, false, nil
	}
	dataKey, err := k.unwrap(s)
	if err != nil {
		return Sealed{}, false, fmt.Errorf("rewrapping sealed value: %w", err)
	}
	wrapped, err := seal(e.key, []byte(e.id), dataKey)
	if err != nil {
		return Sealed{}, false, fmt.Errorf("rewrapping data key with KEK %q: %w", e.id, err)
	}
	return Sealed{KEKID: e.id, WrappedKey: wrapped, Ciphertext: s.Ciphertext}, true, nil
}

// unwrap returns the data key of s.
func (k *Keyring) unwrap(s Sealed) ([]byte, error) {
	e, err := k.lookup(s.KEKID)
	if err != nil {
		return nil, err
	}
	dataKey, err := open(e.key, []byte(e.id), s.WrappedKey)
	if err != nil {
		return nil, fmt.Errorf("unwrapping data key with KEK %q: %w", e.id, err)
	}
	if len(dataKey) != keySize {
		return nil, fmt.Errorf("data key is %d bytes, want %d: %w", len(dataKey), keySize, ErrDecrypt)
	}
	return dataKey, nil
}
