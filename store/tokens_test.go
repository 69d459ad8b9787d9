package store

import (
	"bytes"
	"crypto/sha256"
	"slices"
	"testing"
	"time"
)

func TestTokens(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		if n, err := s.CountTokens(ctx); n != 0 || err != nil {
			t.Fatalf("CountTokens(fresh) = %d, %v", n, err)
		}
		if list, err := s.ListTokens(ctx); err != nil || list == nil || len(list) != 0 {
			t.Fatalf("ListTokens(fresh) = %#v, %v; want empty non-nil slice", list, err)
		}
		hash := func(secret string) []byte { h := sha256.Sum256([]byte(secret)); return h[:] }
		created := time.Date(2026, 1, 2, 3, 4, 5, 678901234, time.UTC)
		admin := Token{ID: "tok-1", Name: "admin", Role: "admin", Hash: hash("slw_a"), CreatedAt: created}
		must(t, s.CreateToken(ctx, admin))
		must(t, s.CreateToken(ctx, Token{ID: "tok-2", Name: "ci", Role: "developer", Hash: hash("slw_b")}))
		must(t, s.CreateToken(ctx, Token{ID: "tok-3", Name: "bot", Role: "viewer", Hash: hash("slw_c")}))

		if n, err := s.CountTokens(ctx); n != 3 || err != nil {
			t.Errorf("CountTokens = %d, %v; want 3", n, err)
		}
		got, err := s.TokenByHash(ctx, hash("slw_a"))
		must(t, err)
		admin.CreatedAt = created.Truncate(time.Microsecond)
		if got.ID != admin.ID || got.Name != admin.Name || got.Role != admin.Role || !bytes.Equal(got.Hash, admin.Hash) ||
			got.CreatedAt != admin.CreatedAt {
			t.Errorf("TokenByHash = %+v, want %+v", got, admin)
		}
		list, err := s.ListTokens(ctx)
		must(t, err)
		names := []string{}
		for _, tok := range list {
			names = append(names, tok.Name)
			if tok.CreatedAt.IsZero() || len(tok.Hash) != sha256.Size {
				t.Errorf("listed %+v", tok)
			}
		}
		if !slices.Equal(names, []string{"admin", "bot", "ci"}) {
			t.Errorf("ListTokens = %v, want by name", names)
		}

		_, err = s.TokenByHash(ctx, hash("slw_unknown"))
		wantErr(t, err, ErrNotFound, "token with that hash: not found")

		tests := []struct {
			name   string
			tok    Token
			target error
			msg    string
		}{
			{"name taken", Token{ID: "tok-9", Name: "ci", Role: "viewer", Hash: hash("slw_9")}, ErrExists, `token "ci": already exists`},
			{"id taken", Token{ID: "tok-1", Name: "other", Role: "viewer", Hash: hash("slw_9")}, ErrExists, ""},
			{"hash taken", Token{ID: "tok-9", Name: "other", Role: "viewer", Hash: hash("slw_a")}, ErrExists, ""},
			{"no id", Token{Name: "x", Role: "viewer", Hash: hash("x")}, ErrInvalid, ""},
			{"no name", Token{ID: "tok-x", Role: "viewer", Hash: hash("x")}, ErrInvalid, ""},
			{"no role", Token{ID: "tok-x", Name: "x", Hash: hash("x")}, ErrInvalid, ""},
			{"no hash", Token{ID: "tok-x", Name: "x", Role: "viewer"}, ErrInvalid, ""},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) { wantErr(t, s.CreateToken(ctx, tt.tok), tt.target, tt.msg) })
		}
		if n, _ := s.CountTokens(ctx); n != 3 {
			t.Errorf("CountTokens after failed creates = %d, want 3", n)
		}
	})
}
