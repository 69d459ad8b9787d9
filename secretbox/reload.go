package secretbox

import "fmt"

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
