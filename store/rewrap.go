package store

import (
	"context"
	"fmt"

	"github.com/slipway-dev/slipway/secretbox"
)

// defaultRewrapBatch is the batch size RewrapConfigs uses when given batch <= 0.
const defaultRewrapBatch = 100

// RewrapConfigs walks every stored sealed value — the config values, then the repo credentials, webhook secrets,
// kubeconfigs and deployments' release configs (see sealedTables) — in batches of batch rows (batch <= 0 means
// 100), in key order, and replaces each sealed value by rewrap(v) when rewrap says it changed; each batch is one
// transaction. It returns how many rows changed. It is idempotent: with a rewrap that reports values under the
// active KEK as unchanged, a second run changes nothing.
//
// A value replaced by PutConfig (or PutRepoCredential, PutKubeconfig, UpdateDeployment, …) while its batch is being
// rewrapped is left as that put wrote it. When rewrap fails, the batch it failed in is rolled back, earlier batches
// stay committed, and the error names the value (never its content); the count covers the committed batches.
func (s *Store) RewrapConfigs(ctx context.Context, batch int, rewrap func(secretbox.Sealed) (secretbox.Sealed, bool, error)) (int, error) {
	if batch <= 0 {
		batch = defaultRewrapBatch
	}
	total := 0
	var last *ConfigValue
	for {
		var n, seen int
		err := s.inTx(ctx, func(c conn) error {
			vs, err := rewrapBatch(ctx, c, last, batch)
			if err != nil {
				return err
			}
			seen, n = len(vs), 0
			for i := range vs {
				changed, err := rewrapOne(ctx, c, vs[i], rewrap)
				if err != nil {
					return err
				}
				if changed {
					n++
				}
			}
			if seen > 0 {
				last = &vs[seen-1]
			}
			return nil
		})
		if err != nil {
			return total, fmt.Errorf("rewrapping configs: %w", err)
		}
		total += n
		if seen < batch {
			break
		}
	}
	for _, t := range sealedTables {
		n, err := s.rewrapTable(ctx, t, batch, rewrap)
		total += n
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// rewrapBatch returns up to batch values that sort after last (nil means from the start).
func rewrapBatch(ctx context.Context, c conn, last *ConfigValue, batch int) ([]ConfigValue, error) {
	q, args := "SELECT "+configColumns+" FROM configs", []any{}
	if last != nil {
		q += " WHERE (project, component, environment, key) > (?, ?, ?, ?)"
		args = append(args, last.Project, last.Component, last.Environment, last.Key)
	}
	q += " ORDER BY project, component, environment, key LIMIT ?"
	args = append(args, batch)
	rows, err := c.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("reading a batch: %w", err)
	}
	defer rows.Close()
	var out []ConfigValue
	for rows.Next() {
		v, err := scanConfig(rows)
		if err != nil {
			return nil, fmt.Errorf("reading a batch: %w", err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading a batch: %w", err)
	}
	return out, nil
}

// rewrapOne replaces v's sealed value by rewrap's when it changed and v was not replaced meanwhile.
func rewrapOne(ctx context.Context, c conn, v ConfigValue, rewrap func(secretbox.Sealed) (secretbox.Sealed, bool, error)) (bool, error) {
	ref := configRef(v.Project, v.Component, v.Environment, v.Key)
	next, changed, err := rewrap(v.Sealed)
	if err != nil {
		return false, fmt.Errorf("%s: %w", ref, err)
	}
	if !changed {
		return false, nil
	}
	if incomplete(next) {
		return false, fmt.Errorf("%s: rewrap returned an incomplete sealed value: %w", ref, ErrInvalid)
	}
	// The wrapped key is fresh random bytes on every put, so comparing it detects a concurrent PutConfig.
	res, err := c.exec(ctx, `UPDATE configs SET kek_id = ?, wrapped_key = ?, ciphertext = ?
		WHERE project = ? AND component = ? AND environment = ? AND key = ? AND kek_id = ? AND wrapped_key = ?`,
		next.KEKID, next.WrappedKey, next.Ciphertext,
		v.Project, v.Component, v.Environment, v.Key, v.Sealed.KEKID, v.Sealed.WrappedKey)
	if err != nil {
		return false, fmt.Errorf("updating %s: %w", ref, err)
	}
	n, err := affected(res)
	if err != nil {
		return false, fmt.Errorf("updating %s: %w", ref, err)
	}
	return n == 1, nil
}
