package secretbox

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// Keyring holds the key-encryption keys (KEKs) read from a key file (JSON, 0600):
//
//	{"active":"<id>","keys":[{"id":"<id>","key":"<base64 32 bytes>","createdAt":"RFC3339"}]}
//
// The key file is the source of truth: when the keyring is asked for a KEK ID it does not hold, it re-reads the
// file once (another process may have rotated) before failing with ErrUnknownKEK, and Rotate re-reads the file
// before adding a KEK so that it does not drop one added by another process.
//
// A Keyring is safe for concurrent use. The zero Keyring holds no keys and is not usable; get one from
// LoadKeyring or LoadOrCreateKeyring.
type Keyring struct {
	path string

	mu sync.RWMutex
	st keyState
}

// LoadOrCreateKeyring loads the keyring at path. When the file does not exist it creates it (mode 0600, its
// directory 0700) holding one fresh active KEK. Two processes creating the same file at once end up with the same
// keyring.
func LoadOrCreateKeyring(path string) (*Keyring, error) {
	k, err := LoadKeyring(path)
	if err == nil || !errors.Is(err, os.ErrNotExist) {
		return k, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("creating keyring directory: %w", err)
	}
	st := keyState{byID: map[string]kek{}}.withNewKEK(time.Now())
	if err := writeKeyFile(path, st, true); err != nil {
		if errors.Is(err, os.ErrExist) {
			return LoadKeyring(path)
		}
		return nil, fmt.Errorf("creating keyring %s: %w", path, err)
	}
	return &Keyring{path: path, st: st}, nil
}

// LoadKeyring loads the keyring at path; the file must exist (the error wraps os.ErrNotExist when it does not).
func LoadKeyring(path string) (*Keyring, error) {
	st, err := readKeyFile(path)
	if err != nil {
		return nil, fmt.Errorf("loading keyring: %w", err)
	}
	return &Keyring{path: path, st: st}, nil
}

// ActiveID returns the ID of the KEK that Seal and Rewrap wrap data keys with.
func (k *Keyring) ActiveID() string {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.st.active
}

// Rotate re-reads the key file, adds a fresh KEK, makes it active and writes the file atomically (temporary file
// and rename, 0600). It returns the new KEK's ID. Values sealed before stay readable; Rewrap moves them to the new
// KEK. Rotations by two processes at the very same moment can still lose one of the two new KEKs, so run one
// rotation at a time.
func (k *Keyring) Rotate() (newID string, err error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	st, err := readKeyFile(k.path)
	if err != nil {
		return "", fmt.Errorf("rotating keyring: %w", err)
	}
	next := st.withNewKEK(time.Now())
	if err := writeKeyFile(k.path, next, false); err != nil {
		return "", fmt.Errorf("rotating keyring %s: %w", k.path, err)
	}
	k.st = next
	return next.active, nil
}

// active returns the active KEK.
func (k *Keyring) active() kek {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.st.byID[k.st.active]
}

// lookup returns the KEK with the given ID, re-reading the key file once when the keyring does not hold it.
func (k *Keyring) lookup(id string) (kek, error) {
	k.mu.RLock()
	e, ok := k.st.byID[id]
	k.mu.RUnlock()
	if ok {
		return e, nil
	}
	if id == "" {
		return kek{}, fmt.Errorf("empty KEK ID: %w", ErrUnknownKEK)
	}

	k.mu.Lock()
	defer k.mu.Unlock()
	if e, ok := k.st.byID[id]; ok { // another goroutine reloaded meanwhile
		return e, nil
	}
	st, err := readKeyFile(k.path)
	if err != nil {
		return kek{}, fmt.Errorf("KEK %q: %w (re-reading key file: %v)", id, ErrUnknownKEK, err)
	}
	k.st = st
	if e, ok := st.byID[id]; ok {
		return e, nil
	}
	return kek{}, fmt.Errorf("KEK %q is not in %s: %w", id, k.path, ErrUnknownKEK)
}
