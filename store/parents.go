package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// Inside a write transaction these checks lock the parent row (see dialect.shareClause), so the parent cannot
// disappear between the check and the write: missing parents are reported from here, never from a foreign-key
// error. Each names the outermost thing missing: a missing project is reported as the project, not as its
// component.

// requireProject fails with ErrNotFound when the project does not exist.
func (c conn) requireProject(ctx context.Context, project string, l lock) error {
	return c.require(ctx, projectRef(project), "SELECT 1 FROM projects WHERE name = ?"+c.d.suffix(l), project)
}

// requireComponent fails with ErrNotFound when the component or its project does not exist.
func (c conn) requireComponent(ctx context.Context, project, component string, l lock) error {
	err := c.require(ctx, componentRef(project, component),
		"SELECT 1 FROM components WHERE project = ? AND name = ?"+c.d.suffix(l), project, component)
	return c.preferMissingProject(ctx, project, err)
}

// requireEnvironment fails with ErrNotFound when the environment or its project does not exist.
func (c conn) requireEnvironment(ctx context.Context, project, env string, l lock) error {
	err := c.require(ctx, environmentRef(project, env),
		"SELECT 1 FROM environments WHERE project = ? AND name = ?"+c.d.suffix(l), project, env)
	return c.preferMissingProject(ctx, project, err)
}

// requireConfigParents fails with ErrNotFound when the component, the environment or the project does not exist.
func (c conn) requireConfigParents(ctx context.Context, project, component, env string, l lock) error {
	if err := c.requireComponent(ctx, project, component, l); err != nil {
		return err
	}
	return c.requireEnvironment(ctx, project, env, l)
}

// require runs query, which selects at most one row, and fails with ErrNotFound naming what when there is none.
func (c conn) require(ctx context.Context, what, query string, args ...any) error {
	var one int
	err := c.queryRow(ctx, query, args...).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return notFound(what)
	}
	if err != nil {
		return fmt.Errorf("looking up %s: %w", what, err)
	}
	return nil
}

// preferMissingProject replaces a not-found err by the project's not-found error when the project is missing.
func (c conn) preferMissingProject(ctx context.Context, project string, err error) error {
	if !errors.Is(err, ErrNotFound) {
		return err
	}
	if perr := c.requireProject(ctx, project, lockNone); perr != nil {
		return perr
	}
	return err
}
