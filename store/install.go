package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
)

// InstallID returns the install's ID (16 hex digits), making it on the first call: every object slipway
// makes on a data plane carries it. Every process sharing the store gets the same one.
func (s *Store) InstallID(ctx context.Context) (string, error) {
	b := make([]byte, 8)
	rand.Read(b)
	if _, err := s.db().exec(ctx, "INSERT INTO install (one, id, created_at) VALUES (1, ?, ?) ON CONFLICT (one) DO NOTHING",
		hex.EncodeToString(b), toDB(now())); err != nil {
		return "", fmt.Errorf("making the install's ID: %w", err)
	}
	var id string
	if err := s.db().queryRow(ctx, "SELECT id FROM install WHERE one = 1").Scan(&id); err != nil {
		return "", fmt.Errorf("reading the install's ID: %w", err)
	}
	return id, nil
}
