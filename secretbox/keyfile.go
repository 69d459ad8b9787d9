package secretbox

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// keyFile is the JSON form of a keyring file:
// {"active":"<id>","keys":[{"id":"<id>","key":"<base64 32 bytes>","createdAt":"RFC3339"}]}
type keyFile struct {
	Active string       `json:"active"`
	Keys   []keyFileKEK `json:"keys"`
}

type keyFileKEK struct {
	ID        string    `json:"id"`
	Key       string    `json:"key"`
	CreatedAt time.Time `json:"createdAt"`
}

// kek is one key-encryption key held in memory.
type kek struct {
	id        string
	key       []byte
	createdAt time.Time
}

// keyState is a validated keyring: its KEKs in file order and the active one.
type keyState struct {
	active string
	keks   []kek
	byID   map[string]kek
}

// readKeyFile reads and validates the keyring file at path.
func readKeyFile(path string) (keyState, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return keyState{}, fmt.Errorf("reading key file: %w", err)
	}
	var f keyFile
	if err := json.Unmarshal(b, &f); err != nil {
		return keyState{}, fmt.Errorf("parsing key file %s: %w", path, err)
	}
	st, err := f.state()
	if err != nil {
		return keyState{}, fmt.Errorf("key file %s: %w", path, err)
	}
	return st, nil
}

// state validates f: every KEK has a unique non-empty ID and 32 key bytes, and the active ID is one of them.
func (f keyFile) state() (keyState, error) {
	st := keyState{active: f.Active, byID: make(map[string]kek, len(f.Keys))}
	for i, k := range f.Keys {
		if k.ID == "" {
			return keyState{}, fmt.Errorf("keys[%d] has no id", i)
		}
		if _, dup := st.byID[k.ID]; dup {
			return keyState{}, fmt.Errorf("key id %q appears twice", k.ID)
		}
		raw, err := base64.StdEncoding.DecodeString(k.Key)
		if err != nil {
			return keyState{}, fmt.Errorf("key %q is not base64: %w", k.ID, err)
		}
		if len(raw) != keySize {
			return keyState{}, fmt.Errorf("key %q is %d bytes, want %d", k.ID, len(raw), keySize)
		}
		e := kek{id: k.ID, key: raw, createdAt: k.CreatedAt}
		st.keks = append(st.keks, e)
		st.byID[k.ID] = e
	}
	if _, ok := st.byID[f.Active]; !ok {
		return keyState{}, fmt.Errorf("active key %q is not among the keys", f.Active)
	}
	return st, nil
}

// file returns the JSON form of st.
func (st keyState) file() keyFile {
	f := keyFile{Active: st.active, Keys: make([]keyFileKEK, 0, len(st.keks))}
	for _, k := range st.keks {
		f.Keys = append(f.Keys, keyFileKEK{
			ID:        k.id,
			Key:       base64.StdEncoding.EncodeToString(k.key),
			CreatedAt: k.createdAt,
		})
	}
	return f
}

// withNewKEK returns a copy of st with a fresh KEK appended and made active.
func (st keyState) withNewKEK(now time.Time) keyState {
	id := newKEKID()
	for _, taken := st.byID[id]; taken; _, taken = st.byID[id] {
		id = newKEKID()
	}
	k := kek{id: id, key: newKey(), createdAt: now.UTC().Truncate(time.Second)}
	next := keyState{active: id, keks: append(st.keks[:len(st.keks):len(st.keks)], k), byID: make(map[string]kek, len(st.keks)+1)}
	for _, e := range next.keks {
		next.byID[e.id] = e
	}
	return next
}

// newKEKID returns a short random KEK ID such as "kek-3f9a1c2b".
func newKEKID() string {
	return fmt.Sprintf("kek-%x", newKey()[:4])
}

// writeKeyFile writes st to path atomically: a temporary file (0600) in the same directory, synced, then renamed
// over path. With exclusive set it fails with an error wrapping os.ErrExist instead of replacing an existing file.
func writeKeyFile(path string, st keyState, exclusive bool) (err error) {
	b, err := json.MarshalIndent(st.file(), "", "  ")
	if err != nil {
		return fmt.Errorf("encoding key file: %w", err)
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("creating temporary key file: %w", err)
	}
	defer func() {
		if rmErr := os.Remove(tmp.Name()); err == nil && rmErr != nil && !errors.Is(rmErr, os.ErrNotExist) {
			err = fmt.Errorf("removing temporary key file: %w", rmErr)
		}
	}()
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("setting key file permissions: %w", err)
	}
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("writing temporary key file: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("syncing temporary key file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("closing temporary key file: %w", err)
	}
	if exclusive {
		// A hard link never replaces an existing file, so two processes creating the keyring at once agree
		// on one winner; the loser reads the winner's file.
		if err := os.Link(tmp.Name(), path); err != nil {
			return fmt.Errorf("creating key file: %w", err)
		}
	} else if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("replacing key file: %w", err)
	}
	return syncDir(dir)
}

// syncDir makes a rename or link in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("opening key directory: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("syncing key directory: %w", err)
	}
	return nil
}
