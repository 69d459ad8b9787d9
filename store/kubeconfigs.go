package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/slipway-dev/slipway/secretbox"
)

func kubeconfigRef(project, environment string) string {
	return fmt.Sprintf("kubeconfig of environment %q in project %q", environment, project)
}

// PutKubeconfig stores sealed (sealed with KubeconfigAAD) as the environment's kubeconfig, replacing any it had.
// It fails with ErrNotFound when the environment or the project does not exist and with ErrInvalid when sealed is
// incomplete.
func (s *Store) PutKubeconfig(ctx context.Context, project, environment string, sealed secretbox.Sealed) error {
	ref := kubeconfigRef(project, environment)
	if incomplete(sealed) {
		return invalid("%s: sealed value is incomplete", ref)
	}
	return s.inTx(ctx, func(c conn) error {
		if err := c.requireEnvironment(ctx, project, environment, lockShare); err != nil {
			return err
		}
		if _, err := c.exec(ctx, `INSERT INTO environment_kubeconfigs (project, environment, kek_id, wrapped_key, ciphertext)
			VALUES (?, ?, ?, ?, ?) ON CONFLICT (project, environment) DO UPDATE SET
				kek_id = excluded.kek_id, wrapped_key = excluded.wrapped_key, ciphertext = excluded.ciphertext`,
			project, environment, sealed.KEKID, sealed.WrappedKey, sealed.Ciphertext); err != nil {
			return fmt.Errorf("putting %s: %w", ref, err)
		}
		return appendEvent(ctx, c, environmentEvent(project, environment))
	})
}

// GetKubeconfig returns the environment's sealed kubeconfig. It fails with ErrNotFound when the environment has
// none, or when the environment or the project does not exist.
func (s *Store) GetKubeconfig(ctx context.Context, project, environment string) (secretbox.Sealed, error) {
	ref := kubeconfigRef(project, environment)
	var sealed secretbox.Sealed
	err := s.db().queryRow(ctx, `SELECT kek_id, wrapped_key, ciphertext FROM environment_kubeconfigs
		WHERE project = ? AND environment = ?`, project, environment).
		Scan(&sealed.KEKID, &sealed.WrappedKey, &sealed.Ciphertext)
	if errors.Is(err, sql.ErrNoRows) {
		if err := s.db().requireEnvironment(ctx, project, environment, lockNone); err != nil {
			return secretbox.Sealed{}, err
		}
		return secretbox.Sealed{}, notFound(ref)
	}
	if err != nil {
		return secretbox.Sealed{}, fmt.Errorf("getting %s: %w", ref, err)
	}
	return sealed, nil
}

// DeleteKubeconfig deletes the environment's kubeconfig. It fails with ErrNotFound when the environment has none,
// or when the environment or the project does not exist. Deleting the environment or its project deletes it too.
func (s *Store) DeleteKubeconfig(ctx context.Context, project, environment string) error {
	return s.deleteOne(ctx, kubeconfigRef(project, environment), environmentEvent(project, environment),
		func(c conn) error { return c.requireEnvironment(ctx, project, environment, lockNone) },
		"DELETE FROM environment_kubeconfigs WHERE project = ? AND environment = ?", project, environment)
}

// hasKubeconfig reports whether the environment has a kubeconfig stored.
func hasKubeconfig(ctx context.Context, c conn, project, environment string) (bool, error) {
	var n int
	if err := c.queryRow(ctx, "SELECT COUNT(*) FROM environment_kubeconfigs WHERE project = ? AND environment = ?",
		project, environment).Scan(&n); err != nil {
		return false, fmt.Errorf("looking up %s: %w", kubeconfigRef(project, environment), err)
	}
	return n > 0, nil
}
