package store

import (
	"context"
	"fmt"
)

// KEKIDs returns the IDs of every key-encryption key some stored value's data key is wrapped
// with, sorted; empty when nothing is stored. A process checks them against its keyring on start,
// so a lost or wrong key file is found before any value fails to open.
func (s *Store) KEKIDs(ctx context.Context) ([]string, error) {
	q := "SELECT kek_id FROM configs"
	for _, t := range sealedTables {
		q += " UNION SELECT " + t.prefix + "kek_id FROM " + t.name + " WHERE " + t.present()
	}
	rows, err := s.db().query(ctx, q+" ORDER BY 1")
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
