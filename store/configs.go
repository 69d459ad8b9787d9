package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

const configColumns = "project, component, environment, key, secret, kek_id, wrapped_key, ciphertext, updated_at"

// PutConfig stores v, replacing any value under the same (project, component, environment, key), and returns it
// as stored, with UpdatedAt moved forward (to now, or by a microsecond past the previous put), and whether the
// key was new. When keepKind is true and the key exists, the stored Secret flag is kept and v.Secret is ignored;
// otherwise v.Secret is stored. The returned value carries the flag actually stored. The existing row is read
// and written in one transaction, so a concurrent delete or put of the key cannot change the kind or the
// answer in between. It fails with ErrNotFound when the component, the environment or the project does not
// exist and with ErrInvalid when the key is empty or v.Sealed is incomplete.
func (s *Store) PutConfig(ctx context.Context, v ConfigValue, keepKind bool) (ConfigValue, bool, error) {
	ref := configRef(v.Project, v.Component, v.Environment, v.Key)
	if v.Key == "" {
		return ConfigValue{}, false, invalid("config key of component %q in environment %q of project %q is empty",
			v.Component, v.Environment, v.Project)
	}
	if incomplete(v.Sealed) {
		return ConfigValue{}, false, invalid("%s: sealed value is incomplete", ref)
	}
	var created bool
	err := s.inTx(ctx, func(c conn) error {
		if err := c.requireConfigParents(ctx, v.Project, v.Component, v.Environment, lockShare); err != nil {
			return err
		}
		// On SQLite the first round decides: the transaction holds the database. On PostgreSQL the insert finds
		// the key taken only when another transaction inserted it after the update missed it (the insert waits
		// for that one to commit), and the next update, with a fresh snapshot (READ COMMITTED), replaces that
		// row unless it was deleted again meanwhile: every extra round means another put and delete of this key
		// completed.
		for {
			ok, err := updateConfig(ctx, c, &v, keepKind)
			if err != nil {
				return err
			}
			if !ok {
				if created, err = insertConfig(ctx, c, &v); err != nil {
					return err
				}
			}
			if ok || created {
				return appendEvent(ctx, c, configEvent(v.Project, v.Component, v.Environment, v.Key))
			}
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("putting %s: %w", ref, err)
			}
		}
	})
	if err != nil {
		return ConfigValue{}, false, err
	}
	return v, created, nil
}

// updateConfig replaces the row of v, if there is one, and sets v.Secret and v.UpdatedAt as stored. The UPDATE
// locks the row until commit (on PostgreSQL; on SQLite the transaction holds the database), so the kind it keeps
// is the kind it read. It reports false when there is no row.
func updateConfig(ctx context.Context, c conn, v *ConfigValue, keepKind bool) (bool, error) {
	var updated int64
	at := toDB(now())
	err := c.queryRow(ctx, `UPDATE configs SET
			secret = CASE WHEN ? THEN secret ELSE ? END,
			kek_id = ?, wrapped_key = ?, ciphertext = ?,
			updated_at = CASE WHEN updated_at < ? THEN ? ELSE updated_at + 1 END
		WHERE project = ? AND component = ? AND environment = ? AND key = ?
		RETURNING secret, updated_at`,
		keepKind, v.Secret,
		v.Sealed.KEKID, v.Sealed.WrappedKey, v.Sealed.Ciphertext,
		at, at,
		v.Project, v.Component, v.Environment, v.Key).Scan(&v.Secret, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("putting %s: %w", configRef(v.Project, v.Component, v.Environment, v.Key), err)
	}
	v.UpdatedAt = fromDB(updated)
	return true, nil
}

// insertConfig inserts v and sets v.UpdatedAt. It reports false, leaving the row alone, when the key exists:
// on PostgreSQL a concurrent transaction inserted it, and the insert waited for that one to commit.
func insertConfig(ctx context.Context, c conn, v *ConfigValue) (bool, error) {
	var updated int64
	err := c.queryRow(ctx, `INSERT INTO configs (`+configColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (project, component, environment, key) DO NOTHING
		RETURNING updated_at`,
		v.Project, v.Component, v.Environment, v.Key, v.Secret,
		v.Sealed.KEKID, v.Sealed.WrappedKey, v.Sealed.Ciphertext, toDB(now())).Scan(&updated)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("putting %s: %w", configRef(v.Project, v.Component, v.Environment, v.Key), err)
	}
	v.UpdatedAt = fromDB(updated)
	return true, nil
}

// ListConfigs returns the component's values in the environment, ordered by key. It fails with ErrNotFound when
// the component, the environment or the project does not exist; none set gives an empty slice.
func (s *Store) ListConfigs(ctx context.Context, project, component, environment string) ([]ConfigValue, error) {
	rows, err := s.db().query(ctx, "SELECT "+configColumns+` FROM configs
		WHERE project = ? AND component = ? AND environment = ? ORDER BY key`, project, component, environment)
	if err != nil {
		return nil, fmt.Errorf("listing configs of %s in environment %q: %w", componentRef(project, component), environment, err)
	}
	defer rows.Close()
	out := []ConfigValue{}
	for rows.Next() {
		v, err := scanConfig(rows)
		if err != nil {
			return nil, fmt.Errorf("listing configs of %s in environment %q: %w", componentRef(project, component), environment, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing configs of %s in environment %q: %w", componentRef(project, component), environment, err)
	}
	if len(out) == 0 {
		if err := s.db().requireConfigParents(ctx, project, component, environment, lockNone); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// DeleteConfig deletes one value. It fails with ErrNotFound when the value, or the component, environment or
// project it would belong to, does not exist.
func (s *Store) DeleteConfig(ctx context.Context, project, component, environment, key string) error {
	return s.deleteOne(ctx, configRef(project, component, environment, key), configEvent(project, component, environment, key),
		func(c conn) error { return c.requireConfigParents(ctx, project, component, environment, lockNone) },
		"DELETE FROM configs WHERE project = ? AND component = ? AND environment = ? AND key = ?",
		project, component, environment, key)
}

// scanConfig reads one row of configColumns.
func scanConfig(row interface{ Scan(...any) error }) (ConfigValue, error) {
	var v ConfigValue
	var updated int64
	if err := row.Scan(&v.Project, &v.Component, &v.Environment, &v.Key, &v.Secret,
		&v.Sealed.KEKID, &v.Sealed.WrappedKey, &v.Sealed.Ciphertext, &updated); err != nil {
		return ConfigValue{}, err
	}
	v.UpdatedAt = fromDB(updated)
	return v, nil
}
