package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/slipway-dev/slipway/secretbox"
)

// querier is what *sql.DB and *sql.Tx have in common.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// conn runs queries written with ? placeholders on a *sql.DB or *sql.Tx, rebinding them for the dialect.
type conn struct {
	q querier
	d dialect
}

func (c conn) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return c.q.ExecContext(ctx, c.d.rebind(query), args...)
}

func (c conn) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return c.q.QueryContext(ctx, c.d.rebind(query), args...)
}

func (c conn) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	return c.q.QueryRowContext(ctx, c.d.rebind(query), args...)
}

// db returns a conn outside any transaction.
func (s *Store) db() conn { return conn{q: s.sqlDB, d: s.d} }

// inTx runs fn in one transaction, committing when it returns nil and rolling back otherwise. On SQLite the
// transaction begins IMMEDIATE (see Open), so write transactions run one at a time.
func (s *Store) inTx(ctx context.Context, fn func(c conn) error) error {
	tx, err := s.sqlDB.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("beginning transaction: %w", err)
	}
	if err := fn(conn{q: tx, d: s.d}); err != nil {
		_ = tx.Rollback() // the error from fn says what went wrong; a failed rollback only ends the transaction
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("committing transaction: %w", err)
	}
	return nil
}

// affected returns how many rows res changed.
// incomplete says s lacks a part every sealed value has: a KEK ID, a wrapped key or a ciphertext.
func incomplete(s secretbox.Sealed) bool {
	return s.KEKID == "" || len(s.WrappedKey) == 0 || len(s.Ciphertext) == 0
}

// deleteOne runs query, a DELETE of the one row ref names, and appends ev to the change feed, in one
// transaction. When it deleted nothing, it fails with what requireOwner says (the row's project, component or
// environment is missing), else with ErrNotFound for ref.
func (s *Store) deleteOne(ctx context.Context, ref string, ev Event, requireOwner func(conn) error, query string, args ...any) error {
	return s.inTx(ctx, func(c conn) error {
		res, err := c.exec(ctx, query, args...)
		if err != nil {
			return fmt.Errorf("deleting %s: %w", ref, err)
		}
		n, err := affected(res)
		if err != nil {
			return fmt.Errorf("deleting %s: %w", ref, err)
		}
		if n == 0 {
			if err := requireOwner(c); err != nil {
				return err
			}
			return notFound(ref)
		}
		return appendEvent(ctx, c, ev)
	})
}

func affected(res sql.Result) (int64, error) {
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("reading affected rows: %w", err)
	}
	return n, nil
}
