package stack

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// lockDataDir takes an exclusive lock on dir for the life of the process, so a second `slipway
// dev` on the same data dir fails at once instead of sharing its SQLite files and registry.
func (p *Process) lockDataDir(dir string) error {
	path := filepath.Join(dir, "lock")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return fmt.Errorf("opening data dir lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return fmt.Errorf("data dir %s is in use by another slipway process", dir)
		}
		return fmt.Errorf("locking data dir %s: %w", dir, err)
	}
	p.onStop("data dir lock", func(context.Context) error { return f.Close() })
	return nil
}
