package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

const tokenColumns = "id, name, role, hash, created_at"

// CreateToken stores t; a zero CreatedAt means now. It fails with ErrExists when the name, the ID or the hash is
// taken (the message says which) and with ErrInvalid when ID, Name, Role or Hash is empty.
func (s *Store) CreateToken(ctx context.Context, t Token) error {
	if t.ID == "" || t.Name == "" || t.Role == "" || len(t.Hash) == 0 {
		return invalid("token %q: id, name, role and hash are all required", t.Name)
	}
	t.CreatedAt = normalize(t.CreatedAt)
	_, err := s.db().exec(ctx, "INSERT INTO tokens ("+tokenColumns+") VALUES (?, ?, ?, ?, ?)",
		t.ID, t.Name, t.Role, t.Hash, toDB(t.CreatedAt))
	if err == nil {
		return nil
	}
	if !isUniqueViolation(err) {
		return fmt.Errorf("creating %s: %w", tokenRef(t.Name), err)
	}
	if nameErr := s.db().require(ctx, tokenRef(t.Name), "SELECT 1 FROM tokens WHERE name = ?", t.Name); nameErr == nil {
		return exists(tokenRef(t.Name))
	}
	return exists(fmt.Sprintf("token id %q or token hash", t.ID))
}

// TokenByHash returns the token whose secret hashes to hash, or an error wrapping ErrNotFound (which does not
// repeat the hash).
func (s *Store) TokenByHash(ctx context.Context, hash []byte) (Token, error) {
	row := s.db().queryRow(ctx, "SELECT "+tokenColumns+" FROM tokens WHERE hash = ?", hash)
	t, err := scanToken(row)
	if errors.Is(err, sql.ErrNoRows) {
		return Token{}, notFound("token with that hash")
	}
	if err != nil {
		return Token{}, fmt.Errorf("looking up token by hash: %w", err)
	}
	return t, nil
}

// ListTokens returns every token ordered by name, hashes included; it never returns nil.
func (s *Store) ListTokens(ctx context.Context) ([]Token, error) {
	rows, err := s.db().query(ctx, "SELECT "+tokenColumns+" FROM tokens ORDER BY name")
	if err != nil {
		return nil, fmt.Errorf("listing tokens: %w", err)
	}
	defer rows.Close()
	out := []Token{}
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, fmt.Errorf("listing tokens: %w", err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing tokens: %w", err)
	}
	return out, nil
}

// CountTokens returns how many tokens exist (0 on a fresh store: `slipway dev` then creates the admin token).
func (s *Store) CountTokens(ctx context.Context) (int, error) {
	var n int
	if err := s.db().queryRow(ctx, "SELECT COUNT(*) FROM tokens").Scan(&n); err != nil {
		return 0, fmt.Errorf("counting tokens: %w", err)
	}
	return n, nil
}

// scanToken reads one row of tokenColumns.
func scanToken(row interface{ Scan(...any) error }) (Token, error) {
	var t Token
	var created int64
	if err := row.Scan(&t.ID, &t.Name, &t.Role, &t.Hash, &created); err != nil {
		return Token{}, err
	}
	t.CreatedAt = fromDB(created)
	return t, nil
}
