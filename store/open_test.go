package store

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestOpenAppliesMigrationsOnceAndKeepsData(t *testing.T) {
	ms, err := loadMigrations()
	must(t, err)
	forEachDSN(t, func(t *testing.T, dsn string) {
		ctx := t.Context()
		first, err := Open(ctx, dsn)
		must(t, err)
		mustCreateProject(t, first, "shop")
		appliedAt := func(s *Store) map[int]int64 {
			t.Helper()
			rows, err := s.db().query(ctx, "SELECT version, applied_at FROM schema_migrations")
			must(t, err)
			defer rows.Close()
			out := map[int]int64{}
			for rows.Next() {
				var v int
				var at int64
				must(t, rows.Scan(&v, &at))
				out[v] = at
			}
			must(t, rows.Err())
			return out
		}
		before := appliedAt(first)
		if len(before) != len(ms) {
			t.Fatalf("schema_migrations holds %d rows, want %d", len(before), len(ms))
		}

		// A second Open while the first is still open (another process) applies nothing.
		second := openStore(t, dsn)
		if got := appliedAt(second); !equalMaps(got, before) {
			t.Errorf("after second Open schema_migrations = %v, want %v", got, before)
		}
		must(t, first.Close())

		third := openStore(t, dsn)
		if got := appliedAt(third); !equalMaps(got, before) {
			t.Errorf("after reopen schema_migrations = %v, want %v", got, before)
		}
		p, err := third.GetProject(ctx, "shop")
		must(t, err)
		if envs, err := third.ListEnvironments(ctx, p.Name); err != nil || len(envs) != 2 {
			t.Fatalf("after reopen environments = %v, %v; want 2", envs, err)
		}
	})
}

func equalMaps(a, b map[int]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	forEachDSN(t, func(t *testing.T, dsn string) {
		s := openStore(t, dsn)
		_, err := s.db().exec(t.Context(), "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
			999, "from the future", 0)
		must(t, err)
		_, err = Open(t.Context(), dsn)
		if err == nil || !strings.Contains(err.Error(), "newer") {
			t.Fatalf("Open of a newer schema: err = %v, want one saying it is newer", err)
		}
	})
}

func TestOpenSQLiteSettings(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "slipway.db")
	s := openStore(t, "sqlite://"+path)
	ctx := t.Context()
	// Every pooled connection must have the settings, so hold several at once.
	conns := make([]interface{ Close() error }, 0, sqliteMaxConns)
	for range sqliteMaxConns {
		c, err := s.sqlDB.Conn(ctx)
		must(t, err)
		conns = append(conns, c)
		for _, pragma := range []struct{ name, want string }{
			{"journal_mode", "wal"},
			{"foreign_keys", "1"},
			{"busy_timeout", "15000"},
			{"synchronous", "1"}, // NORMAL: in WAL mode a crash loses no committed transaction, a power cut may lose the last ones
		} {
			var got string
			must(t, c.QueryRowContext(ctx, "PRAGMA "+pragma.name).Scan(&got))
			if got != pragma.want {
				t.Errorf("PRAGMA %s = %q, want %q", pragma.name, got, pragma.want)
			}
		}
	}
	for _, c := range conns {
		must(t, c.Close())
	}
	if _, err := os.Stat(path + "-wal"); err != nil {
		t.Errorf("no WAL file next to the database: %v", err)
	}
}

func TestOpenRelativeSQLitePath(t *testing.T) {
	t.Chdir(t.TempDir())
	s := openStore(t, "sqlite://relative.db")
	mustCreateProject(t, s, "shop")
	if _, err := os.Stat("relative.db"); err != nil {
		t.Fatalf("relative.db not created in the working directory: %v", err)
	}
}

func TestOpenRejectsBadDSNs(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, dsn string
	}{
		{"empty", ""},
		{"unknown scheme", "mysql://root:topsecret@localhost/db"},
		{"sqlite without path", "sqlite://"},
		{"sqlite with parameters", "sqlite://" + filepath.Join(dir, "x.db") + "?mode=ro"},
		{"sqlite in missing directory", "sqlite://" + filepath.Join(dir, "missing", "x.db")},
		{"sqlite in memory", "sqlite://:memory:"},
		{"postgres refusing connections", "postgres://slipway:topsecret@127.0.0.1:1/db?sslmode=disable&connect_timeout=5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Open(t.Context(), tt.dsn)
			if err == nil {
				s.Close()
				t.Fatalf("Open(%q) succeeded", tt.dsn)
			}
			t.Logf("Open(%q): %v", tt.dsn, err)
			if strings.Contains(err.Error(), "topsecret") {
				t.Errorf("error repeats the password: %v", err)
			}
		})
	}
}

func TestPingAndClose(t *testing.T) {
	forEachDSN(t, func(t *testing.T, dsn string) {
		s, err := Open(t.Context(), dsn)
		must(t, err)
		must(t, s.Ping(t.Context()))
		must(t, s.Close())
		if err := s.Ping(t.Context()); err == nil {
			t.Fatal("Ping after Close succeeded")
		}
		if _, err := s.GetProject(t.Context(), "shop"); err == nil {
			t.Fatal("GetProject after Close succeeded")
		}
	})
}

func TestConcurrentOpensMigrateOnce(t *testing.T) {
	ms, err := loadMigrations()
	must(t, err)
	forEachDSN(t, func(t *testing.T, dsn string) {
		const n = 4
		stores := make([]*Store, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { stores[i], errs[i] = Open(t.Context(), dsn) })
		}
		wg.Wait()
		for i := range n {
			if errs[i] != nil {
				t.Errorf("Open %d: %v", i, errs[i])
				continue
			}
			defer stores[i].Close()
		}
		if t.Failed() {
			return
		}
		if got := count(t, stores[0], "SELECT * FROM schema_migrations"); got != len(ms) {
			t.Errorf("schema_migrations holds %d rows, want %d", got, len(ms))
		}
	})
}
