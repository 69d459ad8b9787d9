package stack

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"

	"github.com/slipway-dev/slipway/server"
	"github.com/slipway-dev/slipway/store"
)

// ensureAdminToken makes sure the token in path is a valid admin token: when the file is missing or
// names no stored token, it creates a new admin token and writes it there (0600). It returns the token.
func ensureAdminToken(ctx context.Context, st *store.Store, path string) (string, error) {
	if b, err := os.ReadFile(path); err == nil {
		tok := string(bytes.TrimSpace(b))
		if _, err := st.TokenByHash(ctx, server.HashToken(tok)); err == nil {
			return tok, nil
		} else if !errors.Is(err, store.ErrNotFound) {
			return "", fmt.Errorf("checking admin token: %w", err)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("reading admin token: %w", err)
	}
	name := "admin"
	if n, err := st.CountTokens(ctx); err != nil {
		return "", err
	} else if n > 0 {
		suffix := make([]byte, 4)
		if _, err := rand.Read(suffix); err != nil {
			return "", err
		}
		name = "admin-" + hex.EncodeToString(suffix)
	}
	tok, t, err := server.MintToken(name, server.RoleAdmin)
	if err != nil {
		return "", err
	}
	if err := st.CreateToken(ctx, t); err != nil {
		return "", fmt.Errorf("creating admin token: %w", err)
	}
	if err := os.WriteFile(path, []byte(tok+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("writing admin token: %w", err)
	}
	return tok, nil
}
