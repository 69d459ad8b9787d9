package store

import (
	"context"
	"fmt"
)

const configColumns = "project, component, environment, key, secret, kek_id, wrapped_key, ciphertext, updated_at"

// PutConfig stores v, replacing any value under the same (project, component, environment, key), and returns it
// as stored, with UpdatedAt moved forward (to now, or by a microsecond past the previous put). It fails with
// ErrNotFound when the component, the environment or the project does not exist and with ErrInvalid when the key
// is empty or v.Sealed is incomplete.
func (s *Store) PutConfig(ctx context.Context, v ConfigValue) (ConfigValue, error) {
	ref := configRef(v.Project, v.Component, v.Environment, v.Key)
	if v.Key == "" {
		return ConfigValue{}, invalid("config key of component %q in environment %q of project %q is empty",
			v.Component, v.Environment, v.Project)
	}
	if v.Sealed.KEKID == "" || len(v.Sealed.WrappedKey) == 0 || len(v.Sealed.Ciphertext) == 0 {
		return ConfigValue{}, invalid("%s: sealed value is incomplete", ref)
	}
	err := s.inTx(ctx, func(c conn) error {
		if err := c.requireConfigParents(ctx, v.Project, v.Component, v.Environment, lockShare); err != nil {
			return err
		}
		var updated int64
		err := c.queryRow(ctx, `INSERT INTO configs (`+configColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (project, component, environment, key) DO UPDATE SET
				secret = excluded.secret,
				kek_id = excluded.kek_id,
				wrapped_key = excluded.wrapped_key,
				ciphertext = excluded.ciphertext,
				updated_at = CASE WHEN configs.updated_at < excluded.updated_at
					THEN excluded.updated_at ELSE configs.updated_at + 1 END
			RETURNING updated_at`,
			v.Project, v.Component, v.Environment, v.Key, v.Secret,
			v.Sealed.KEKID, v.Sealed.WrappedKey, v.Sealed.Ciphertext, toDB(now())).Scan(&updated)
		if err != nil {
			return fmt.Errorf("putting %s: %w", ref, err)
		}
		v.UpdatedAt = fromDB(updated)
		return nil
	})
	if err != nil {
		return ConfigValue{}, err
	}
	return v, nil
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
	ref := configRef(project, component, environment, key)
	res, err := s.db().exec(ctx, "DELETE FROM configs WHERE project = ? AND component = ? AND environment = ? AND key = ?",
		project, component, environment, key)
	if err != nil {
		return fmt.Errorf("deleting %s: %w", ref, err)
	}
	n, err := affected(res)
	if err != nil {
		return fmt.Errorf("deleting %s: %w", ref, err)
	}
	if n == 0 {
		if err := s.db().requireConfigParents(ctx, project, component, environment, lockNone); err != nil {
			return err
		}
		return notFound(ref)
	}
	return nil
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
