package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/slipway-dev/slipway/secretbox"
)

// RepoCredentialAAD is the associated data a component's Git credential is sealed with: it binds the ciphertext
// to its project and component, so a sealed credential copied to another component (or to a config) does not open.
func RepoCredentialAAD(project, component string) []byte {
	return secretbox.AAD("repo-credential", project, component)
}

func repoCredentialRef(project, component string) string {
	return fmt.Sprintf("repo credential of component %q in project %q", component, project)
}

// PutRepoCredential stores sealed as the component's Git credential, replacing any it had, and returns when it was
// stored (UTC, microseconds; never before the previous put). It fails with ErrNotFound when the component or the
// project does not exist and with ErrInvalid when sealed is incomplete.
func (s *Store) PutRepoCredential(ctx context.Context, project, component string, sealed secretbox.Sealed) (time.Time, error) {
	ref := repoCredentialRef(project, component)
	if incomplete(sealed) {
		return time.Time{}, invalid("%s: sealed value is incomplete", ref)
	}
	var updated int64
	err := s.inTx(ctx, func(c conn) error {
		if err := c.requireComponent(ctx, project, component, lockShare); err != nil {
			return err
		}
		at := toDB(now())
		err := c.queryRow(ctx, `INSERT INTO repo_credentials
				(project, component, kek_id, wrapped_key, ciphertext, updated_at) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (project, component) DO UPDATE SET
				kek_id = excluded.kek_id, wrapped_key = excluded.wrapped_key, ciphertext = excluded.ciphertext,
				updated_at = CASE WHEN repo_credentials.updated_at < excluded.updated_at
					THEN excluded.updated_at ELSE repo_credentials.updated_at + 1 END
			RETURNING updated_at`,
			project, component, sealed.KEKID, sealed.WrappedKey, sealed.Ciphertext, at).Scan(&updated)
		if err != nil {
			return fmt.Errorf("putting %s: %w", ref, err)
		}
		return appendEvent(ctx, c, componentEvent(project, component))
	})
	if err != nil {
		return time.Time{}, err
	}
	return fromDB(updated), nil
}

// GetRepoCredential returns the component's sealed Git credential and when it was stored. It fails with
// ErrNotFound when the component has none, or when the component or the project does not exist.
func (s *Store) GetRepoCredential(ctx context.Context, project, component string) (secretbox.Sealed, time.Time, error) {
	ref := repoCredentialRef(project, component)
	var sealed secretbox.Sealed
	var updated int64
	err := s.db().queryRow(ctx, `SELECT kek_id, wrapped_key, ciphertext, updated_at FROM repo_credentials
		WHERE project = ? AND component = ?`, project, component).
		Scan(&sealed.KEKID, &sealed.WrappedKey, &sealed.Ciphertext, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		if err := s.db().requireComponent(ctx, project, component, lockNone); err != nil {
			return secretbox.Sealed{}, time.Time{}, err
		}
		return secretbox.Sealed{}, time.Time{}, notFound(ref)
	}
	if err != nil {
		return secretbox.Sealed{}, time.Time{}, fmt.Errorf("getting %s: %w", ref, err)
	}
	return sealed, fromDB(updated), nil
}

// DeleteRepoCredential deletes the component's Git credential. It fails with ErrNotFound when the component has
// none, or when the component or the project does not exist.
func (s *Store) DeleteRepoCredential(ctx context.Context, project, component string) error {
	return s.deleteOne(ctx, repoCredentialRef(project, component), componentEvent(project, component),
		func(c conn) error { return c.requireComponent(ctx, project, component, lockNone) },
		"DELETE FROM repo_credentials WHERE project = ? AND component = ?", project, component)
}

// sealedTable is a table of sealed values keyed by some columns, walked by RewrapConfigs after the configs.
type sealedTable struct {
	name string
	keys []string
	// ref names a row by its key values, for errors.
	ref func(keys []string) string
	// prefix starts the names of the sealed value's columns: <prefix>kek_id, <prefix>wrapped_key and
	// <prefix>ciphertext. With a prefix the columns may be NULL, and rows where they are hold no sealed value.
	prefix string
}

// sealedTables are the tables RewrapConfigs walks after the configs.
var sealedTables = []sealedTable{
	{"repo_credentials", []string{"project", "component"}, func(k []string) string { return repoCredentialRef(k[0], k[1]) }, ""},
	{"webhooks", []string{"repo"}, func(k []string) string { return webhookRef(k[0]) }, ""},
	{"environment_kubeconfigs", []string{"project", "environment"}, func(k []string) string { return kubeconfigRef(k[0], k[1]) }, ""},
	{"deployments", []string{"id"}, func(k []string) string { return deploymentConfigRef(k[0]) }, "release_"},
}

// sealedColumns returns the table's sealed-value columns, "kek_id, wrapped_key, ciphertext" with its prefix.
func (t sealedTable) sealedColumns() string {
	return t.prefix + "kek_id, " + t.prefix + "wrapped_key, " + t.prefix + "ciphertext"
}

// present is a condition selecting the rows that hold a sealed value.
func (t sealedTable) present() string { return t.prefix + "kek_id IS NOT NULL" }

// rewrapTable is RewrapConfigs' walk over one table of sealed values, in key order.
func (s *Store) rewrapTable(ctx context.Context, t sealedTable, batch int, rewrap func(secretbox.Sealed) (secretbox.Sealed, bool, error)) (int, error) {
	type row struct {
		keys   []string
		sealed secretbox.Sealed
	}
	cols := strings.Join(t.keys, ", ")
	marks := strings.TrimSuffix(strings.Repeat("?, ", len(t.keys)), ", ")
	total := 0
	var last *row
	for {
		var n, seen int
		err := s.inTx(ctx, func(c conn) error {
			q, args := "SELECT "+cols+", "+t.sealedColumns()+" FROM "+t.name+" WHERE "+t.present(), []any{}
			if last != nil {
				q += " AND (" + cols + ") > (" + marks + ")"
				for _, k := range last.keys {
					args = append(args, k)
				}
			}
			q += " ORDER BY " + cols + " LIMIT ?"
			args = append(args, batch)
			rows, err := c.query(ctx, q, args...)
			if err != nil {
				return fmt.Errorf("reading a batch: %w", err)
			}
			var rs []row
			for rows.Next() {
				r := row{keys: make([]string, len(t.keys))}
				dest := make([]any, 0, len(t.keys)+3)
				for i := range r.keys {
					dest = append(dest, &r.keys[i])
				}
				dest = append(dest, &r.sealed.KEKID, &r.sealed.WrappedKey, &r.sealed.Ciphertext)
				if err := rows.Scan(dest...); err != nil {
					rows.Close()
					return fmt.Errorf("reading a batch: %w", err)
				}
				rs = append(rs, r)
			}
			if err := errors.Join(rows.Err(), rows.Close()); err != nil {
				return fmt.Errorf("reading a batch: %w", err)
			}
			seen, n = len(rs), 0
			for _, r := range rs {
				ref := t.ref(r.keys)
				next, changed, err := rewrap(r.sealed)
				if err != nil {
					return fmt.Errorf("%s: %w", ref, err)
				}
				if !changed {
					continue
				}
				if incomplete(next) {
					return fmt.Errorf("%s: rewrap returned an incomplete sealed value: %w", ref, ErrInvalid)
				}
				// As in rewrapOne, the wrapped key detects a concurrent put.
				where := strings.Join(t.keys, " = ? AND ") + " = ?"
				args := []any{next.KEKID, next.WrappedKey, next.Ciphertext}
				for _, k := range r.keys {
					args = append(args, k)
				}
				args = append(args, r.sealed.KEKID, r.sealed.WrappedKey)
				p := t.prefix
				res, err := c.exec(ctx, "UPDATE "+t.name+" SET "+p+"kek_id = ?, "+p+"wrapped_key = ?, "+p+"ciphertext = ? WHERE "+
					where+" AND "+p+"kek_id = ? AND "+p+"wrapped_key = ?", args...)
				if err != nil {
					return fmt.Errorf("updating %s: %w", ref, err)
				}
				k, err := affected(res)
				if err != nil {
					return fmt.Errorf("updating %s: %w", ref, err)
				}
				n += int(k)
			}
			if seen > 0 {
				last = &rs[seen-1]
			}
			return nil
		})
		if err != nil {
			return total, fmt.Errorf("rewrapping %s: %w", strings.ReplaceAll(t.name, "_", " "), err)
		}
		total += n
		if seen < batch {
			return total, nil
		}
	}
}
