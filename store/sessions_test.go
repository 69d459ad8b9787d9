package store

import (
	"bytes"
	"crypto/sha256"
	"testing"
	"time"
)

func TestSessions(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		hash := func(secret string) []byte { h := sha256.Sum256([]byte(secret)); return h[:] }
		must(t, s.CreateToken(ctx, Token{ID: "tok-1", Name: "dev", Role: "developer", Hash: hash("slw_dev")}))

		live, err := s.CreateSession(ctx, hash("sess-live"), "tok-1", "csrf-1", time.Now().Add(time.Hour))
		must(t, err)
		_, err = s.CreateSession(ctx, hash("sess-old"), "tok-1", "csrf-2", time.Now().Add(-time.Second))
		must(t, err)
		_, err = s.CreateSession(ctx, hash("sess-x"), "tok-404", "csrf-3", time.Now().Add(time.Hour))
		wantErr(t, err, ErrNotFound, `token id "tok-404": not found`)
		_, err = s.CreateSession(ctx, hash("sess-y"), "tok-1", "", time.Now().Add(time.Hour))
		wantErr(t, err, ErrInvalid, "")

		got, err := s.SessionByHash(ctx, hash("sess-live"))
		must(t, err)
		if got.Token.Name != "dev" || got.Token.Role != "developer" || got.CSRF != "csrf-1" ||
			!bytes.Equal(got.Hash, hash("sess-live")) || !got.ExpiresAt.Equal(live.ExpiresAt) || !got.CreatedAt.Equal(live.CreatedAt) {
			t.Errorf("SessionByHash = %+v, want %+v", got, live)
		}
		_, err = s.SessionByHash(ctx, hash("sess-old"))
		wantErr(t, err, ErrNotFound, "session: not found")

		// Sign-out ends the session (twice is fine) and sweeps the expired ones.
		must(t, s.DeleteSession(ctx, hash("sess-live")))
		must(t, s.DeleteSession(ctx, hash("sess-live")))
		_, err = s.SessionByHash(ctx, hash("sess-live"))
		wantErr(t, err, ErrNotFound, "")
		if n := count(t, s, "SELECT 1 FROM sessions"); n != 0 {
			t.Errorf("%d sessions left after sign-out, want 0 (the expired one swept too)", n)
		}
	})
}
