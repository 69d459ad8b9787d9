package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Session is one signed-in browser of the web console: it acts with its token's role until ExpiresAt, sign-out
// or the token's deletion.
type Session struct {
	// Hash is the SHA-256 of the session cookie's secret; the secret itself is never stored.
	Hash []byte
	// Token is the API token the session signed in with.
	Token Token
	// CSRF is the value every write from the session must carry (the console sends it as X-CSRF-Token).
	CSRF string
	// CreatedAt is set by the store; ExpiresAt is required.
	CreatedAt, ExpiresAt time.Time
}

// CreateSession stores a session of the token with ID tokenID and returns it as stored. It fails with ErrInvalid
// when the hash, the CSRF value or the expiry is missing and with ErrNotFound when the token does not exist.
func (s *Store) CreateSession(ctx context.Context, hash []byte, tokenID, csrf string, expires time.Time) (Session, error) {
	if len(hash) == 0 || csrf == "" || expires.IsZero() {
		return Session{}, invalid("session: hash, csrf and expiry are all required")
	}
	var out Session
	err := s.inTx(ctx, func(c conn) error {
		t, err := scanToken(c.queryRow(ctx, "SELECT "+tokenColumns+" FROM tokens WHERE id = ?", tokenID))
		if errors.Is(err, sql.ErrNoRows) {
			return notFound(fmt.Sprintf("token id %q", tokenID))
		}
		if err != nil {
			return fmt.Errorf("reading token %q: %w", tokenID, err)
		}
		out = Session{Hash: hash, Token: t, CSRF: csrf, CreatedAt: now(), ExpiresAt: normalize(expires)}
		_, err = c.exec(ctx, "INSERT INTO sessions (id_hash, token_id, csrf, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
			hash, tokenID, csrf, toDB(out.CreatedAt), toDB(out.ExpiresAt))
		if err != nil {
			return fmt.Errorf("creating session: %w", err)
		}
		return nil
	})
	return out, err
}

// SessionByHash returns the unexpired session whose cookie secret hashes to hash, with its token, or an error
// wrapping ErrNotFound when there is none (never signed in, signed out, expired or its token deleted).
func (s *Store) SessionByHash(ctx context.Context, hash []byte) (Session, error) {
	row := s.db().queryRow(ctx, "SELECT s.csrf, s.created_at, s.expires_at, t.id, t.name, t.role, t.hash, t.created_at "+
		"FROM sessions s JOIN tokens t ON t.id = s.token_id WHERE s.id_hash = ? AND s.expires_at > ?", hash, toDB(now()))
	var created, expires, tokenCreated int64
	out := Session{Hash: hash}
	err := row.Scan(&out.CSRF, &created, &expires, &out.Token.ID, &out.Token.Name, &out.Token.Role, &out.Token.Hash, &tokenCreated)
	if errors.Is(err, sql.ErrNoRows) {
		return Session{}, notFound("session")
	}
	if err != nil {
		return Session{}, fmt.Errorf("looking up session: %w", err)
	}
	out.CreatedAt, out.ExpiresAt, out.Token.CreatedAt = fromDB(created), fromDB(expires), fromDB(tokenCreated)
	return out, nil
}

// DeleteSession ends the session whose cookie secret hashes to hash, and every expired session with it; ending
// one that does not exist is not an error (signing out twice is fine).
func (s *Store) DeleteSession(ctx context.Context, hash []byte) error {
	if _, err := s.db().exec(ctx, "DELETE FROM sessions WHERE id_hash = ? OR expires_at <= ?", hash, toDB(now())); err != nil {
		return fmt.Errorf("deleting session: %w", err)
	}
	return nil
}
