package store

import "testing"

func TestRebind(t *testing.T) {
	tests := []struct {
		name, in, sqlite, postgres string
	}{
		{"none", "SELECT 1", "SELECT 1", "SELECT 1"},
		{"several", "a = ? AND b = ? OR c IN (?, ?)", "a = ? AND b = ? OR c IN (?, ?)", "a = $1 AND b = $2 OR c IN ($3, $4)"},
		{"in literal", "x = '?' AND y = ?", "x = '?' AND y = ?", "x = '?' AND y = $1"},
		{"escaped quote", "x = 'it''s ?' AND y = ?", "x = 'it''s ?' AND y = ?", "x = 'it''s ?' AND y = $1"},
		{"ten and more", "?,?,?,?,?,?,?,?,?,?,?", "?,?,?,?,?,?,?,?,?,?,?", "$1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11"},
		{"unicode", "'é' = ?", "'é' = ?", "'é' = $1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := sqliteDialect().rebind(tt.in); got != tt.sqlite {
				t.Errorf("sqlite rebind(%q) = %q, want %q", tt.in, got, tt.sqlite)
			}
			if got := postgresDialect().rebind(tt.in); got != tt.postgres {
				t.Errorf("postgres rebind(%q) = %q, want %q", tt.in, got, tt.postgres)
			}
		})
	}
}

func TestSchemaTypes(t *testing.T) {
	if got := sqliteDialect().schema("x {{blob}}, y {{blob}}, z {{text}}"); got != "x BLOB, y BLOB, z TEXT" {
		t.Errorf("sqlite schema = %q", got)
	}
	if got := postgresDialect().schema("x {{blob}}, z {{text}}"); got != `x BYTEA, z TEXT COLLATE "C"` {
		t.Errorf("postgres schema = %q", got)
	}
}

func TestMigrationsAreNumberedWithoutGaps(t *testing.T) {
	ms, err := loadMigrations()
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) == 0 || ms[0].version != 1 || ms[0].name != "init" {
		t.Fatalf("migrations = %+v, want 0001_init first", ms)
	}
}
