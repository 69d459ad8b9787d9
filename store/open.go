package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	_ "modernc.org/sqlite"             // registers the "sqlite" database/sql driver
)

// Store is the metadata store. It is safe for concurrent use. The zero Store is not usable; get one from Open.
type Store struct {
	sqlDB *sql.DB
	d     dialect
}

// SQLite settings. WAL lets readers run alongside the one writer; synchronous NORMAL makes commits not wait for
// fsync (the database survives a crash; a power cut may lose the last commits); busy_timeout makes a second
// writer wait for the first (up to 15 s, for a loaded machine) instead of failing; IMMEDIATE transactions take
// the write lock at BEGIN, so a transaction that reads and then writes never fails to upgrade its lock. More
// connections than a few add no write throughput on one file.
const (
	sqliteParams   = "?_pragma=busy_timeout(15000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(1)&_txlock=immediate"
	sqliteMaxConns = 4

	// sqliteOpenPatience bounds how long Open retries while other connections switch a new file to WAL.
	sqliteOpenPatience = 10 * time.Second

	postgresMaxConns    = 16
	postgresMaxIdleTime = 5 * time.Minute
)

// Open connects to the store named by dsn and applies any pending migrations:
//
//   - "sqlite:///abs/path.db" or "sqlite://relative.db": a SQLite file (created when missing; its directory must
//     exist), in WAL mode with a busy timeout and foreign keys on. No parameters are accepted.
//   - "postgres://…" or "postgresql://…": PostgreSQL through pgx, the DSN passed as is (e.g. with sslmode or
//     search_path parameters).
//
// Errors never repeat the DSN, which may hold a password.
func Open(ctx context.Context, dsn string) (*Store, error) {
	driver, driverDSN, d, err := parseDSN(dsn)
	if err != nil {
		return nil, err
	}
	db, err := sql.Open(driver, driverDSN)
	if err != nil {
		return nil, fmt.Errorf("opening %s store: %w", d.name, err)
	}
	s := &Store{sqlDB: db, d: d}
	if err := s.init(ctx); err != nil {
		return nil, errors.Join(err, db.Close())
	}
	return s, nil
}

// parseDSN returns the database/sql driver name and DSN, and the dialect, for a store DSN.
func parseDSN(dsn string) (driver, driverDSN string, d dialect, err error) {
	switch {
	case strings.HasPrefix(dsn, "sqlite://"):
		path := strings.TrimPrefix(dsn, "sqlite://")
		if path == "" {
			return "", "", dialect{}, errors.New("opening store: sqlite DSN has no file path")
		}
		if strings.ContainsAny(path, "?#") {
			return "", "", dialect{}, errors.New("opening store: sqlite DSN takes no parameters")
		}
		// A plain path, not a file: URI, so that no character of the path is taken for URI syntax.
		return "sqlite", path + sqliteParams, sqliteDialect(), nil
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		return "pgx", dsn, postgresDialect(), nil
	}
	scheme, _, ok := strings.Cut(dsn, "://")
	if !ok {
		scheme = "(none)"
	}
	return "", "", dialect{}, fmt.Errorf("opening store: unsupported DSN scheme %q, want sqlite:// or postgres://", scheme)
}

// init sets up the connection pool, checks the connection and applies migrations.
func (s *Store) init(ctx context.Context) error {
	switch s.d.name {
	case "sqlite":
		s.sqlDB.SetMaxOpenConns(sqliteMaxConns)
		s.sqlDB.SetMaxIdleConns(sqliteMaxConns)
	default:
		s.sqlDB.SetMaxOpenConns(postgresMaxConns)
		s.sqlDB.SetMaxIdleConns(postgresMaxConns / 4)
		s.sqlDB.SetConnMaxIdleTime(postgresMaxIdleTime)
	}
	if s.d.name == "sqlite" {
		if err := s.checkWAL(ctx); err != nil {
			return err
		}
	} else if err := s.Ping(ctx); err != nil {
		return err
	}
	return s.migrate(ctx)
}

// checkWAL opens the first SQLite connection, which switches the file to WAL, and checks that it did. SQLite
// answers SQLITE_BUSY at once, without waiting out busy_timeout, when two connections switch a new file to WAL at
// the same moment (two processes starting on a fresh data directory), so that is retried until
// sqliteOpenPatience has passed. Once the file is in WAL mode, connections open without taking that lock.
func (s *Store) checkWAL(ctx context.Context) error {
	deadline := time.Now().Add(sqliteOpenPatience)
	wait := 5 * time.Millisecond
	for {
		var mode string
		err := s.sqlDB.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode)
		switch {
		case err == nil && strings.EqualFold(mode, "wal"):
			return nil
		case err == nil:
			return fmt.Errorf("opening sqlite store: journal mode is %q, want wal (in-memory databases are not supported)", mode)
		case !isBusy(err) || time.Now().After(deadline):
			return fmt.Errorf("opening sqlite store: %w", err)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("opening sqlite store: %w (after %v)", ctx.Err(), err)
		case <-t.C:
		}
		wait = min(2*wait, 200*time.Millisecond)
	}
}

// Close closes the store's connections after the queries in flight have finished; calls after Close fail.
func (s *Store) Close() error {
	if err := s.sqlDB.Close(); err != nil {
		return fmt.Errorf("closing %s store: %w", s.d.name, err)
	}
	return nil
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.sqlDB.PingContext(ctx); err != nil {
		return fmt.Errorf("pinging %s store: %w", s.d.name, err)
	}
	return nil
}
