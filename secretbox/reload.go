package secretbox

import "fmt"

// Path is the key file the keyring reads and writes.
func (k *Keyring) Path() string { return k.path }

// Reload re-reads the key file, so a keyring picks up a rotation another process made (its new
// active KEK). Keys already held are replaced by the file's, which never drops one: rotation only adds.
func (k *Keyring) Reload() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	st, err := readKeyFile(k.path)
	if err != nil {
		return fmt.Errorf("reloading keyring: %w", err)
	}
	k.st = st
	return nil
}

// Require fails unless the keyring holds every KEK in ids (re-reading the key file once for any
// it lacks), naming the missing ones: values wrapped with them could not be opened.
func (k *Keyring) Require(ids []string) error {
	var missing []string
	for _, id := range ids {
		if _, err := k.lookup(id); err != nil {
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("key file %s lacks %v, which stored values are wrapped with (is it the key file they were sealed with?): %w",
			k.path, missing, ErrUnknownKEK)
	}
	return nil
}
