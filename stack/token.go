package stack

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/slipway-dev/slipway/server"
	"github.com/slipway-dev/slipway/store"
)

// ensureAdminToken makes sure path holds a valid admin token. When the file is missing or names no
// stored token, it mints one — always for `slipway dev`, and for `slipway server` (firstOnly) only
// while the store holds no token at all. The file is written (0600) before the token is stored and
// renamed into place after, so a failure never leaves a stored admin token nobody holds. It
// reports whether it minted one.
func ensureAdminToken(ctx context.Context, st *store.Store, path string, firstOnly bool) (bool, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return false, fmt.Errorf("creating admin token dir: %w", err)
	}
	if b, err := os.ReadFile(path); err == nil {
		if _, err := st.TokenByHash(ctx, server.HashToken(string(bytes.TrimSpace(b)))); err == nil {
			return false, nil
		} else if !errors.Is(err, store.ErrNotFound) {
			return false, fmt.Errorf("checking admin token: %w", err)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return false, fmt.Errorf("reading admin token: %w", err)
	}
	n, err := st.CountTokens(ctx)
	if err != nil {
		return false, err
	}
	if firstOnly && n > 0 {
		return false, nil
	}
	suffix := make([]byte, 4)
	if _, err := rand.Read(suffix); err != nil {
		return false, err
	}
	name := "admin"
	if n > 0 {
		name = "admin-" + hex.EncodeToString(suffix)
	}
	tok, t, err := server.MintToken(name, server.RoleAdmin)
	if err != nil {
		return false, err
	}
	tmp := path + ".tmp-" + hex.EncodeToString(suffix)
	if err := os.WriteFile(tmp, []byte(tok+"\n"), 0o600); err != nil {
		return false, fmt.Errorf("writing admin token: %w", err)
	}
	defer os.Remove(tmp) // a no-op once renamed
	if err := st.CreateToken(ctx, t); err != nil {
		if firstOnly && errors.Is(err, store.ErrExists) {
			return false, nil // another server replica minted the first token at the same moment
		}
		return false, fmt.Errorf("creating admin token: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return false, fmt.Errorf("admin token %q is stored but could not be written to %s: %w", name, path, err)
	}
	return true, nil
}
