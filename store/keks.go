package store

import (
	"context"
	"fmt"
)

// KEKIDs returns the IDs of every key-encryption key some stored value's data key is wrapped
// with, sorted; empty when nothing is stored. A process checks them against its keyring on start,
// so a lost or wrong key file is found before any value fails to open.
func (s *Store) KEKIDs(ctx context.Context) ([]string, error) {
	rows, err := s.db().query(ctx, "SELECT kek_id FROM configs UNION SELECT kek_id FROM repo_credentials UNION SELECT kek_id FROM webhooks ORDER BY kek_id")
	if err != nil {
		return nil, fmt.Errorf("listing KEK IDs in use: %w", err)
	}
	defer rows.Close()
	ids := []string{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("listing KEK IDs in use: %w", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing KEK IDs in use: %w", err)
	}
	return ids, nil
}
