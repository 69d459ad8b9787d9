package store

import (
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// ErrNotFound is wrapped by every error about something that does not exist; the message says what it is looked
// for, e.g. `component "api" in project "shop": not found`. When a parent is missing, the error names the parent.
var ErrNotFound = errors.New("not found")

// ErrExists is wrapped when a create would duplicate a name, e.g. `project "shop": already exists`.
var ErrExists = errors.New("already exists")

// ErrInvalid is wrapped when an argument cannot be stored as given, e.g. an environment order that is not a
// permutation of the project's environments; the message names the problem.
var ErrInvalid = errors.New("invalid")

func notFound(what string) error { return fmt.Errorf("%s: %w", what, ErrNotFound) }

func exists(what string) error { return fmt.Errorf("%s: %w", what, ErrExists) }

func invalid(format string, args ...any) error {
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), ErrInvalid)
}

func projectRef(project string) string { return fmt.Sprintf("project %q", project) }

func environmentRef(project, env string) string {
	return fmt.Sprintf("environment %q in project %q", env, project)
}

func componentRef(project, component string) string {
	return fmt.Sprintf("component %q in project %q", component, project)
}

func configRef(project, component, env, key string) string {
	return fmt.Sprintf("config %q of component %q in environment %q of project %q", key, component, env, project)
}

func tokenRef(name string) string { return fmt.Sprintf("token %q", name) }

// isUniqueViolation reports whether err is a unique or primary-key constraint violation on either driver.
func isUniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "23505" // unique_violation
	}
	var sqErr *sqlite.Error
	if errors.As(err, &sqErr) {
		switch sqErr.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return true
		}
	}
	return false
}

// isBusy reports whether err is SQLite's "database is locked" (SQLITE_BUSY or one of its extended codes).
func isBusy(err error) bool {
	var sqErr *sqlite.Error
	return errors.As(err, &sqErr) && sqErr.Code()&0xff == sqlite3.SQLITE_BUSY
}
