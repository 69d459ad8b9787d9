package store

import (
	"context"
	"fmt"
)

// ListEnvironments returns the project's environments in promotion order. It fails with ErrNotFound when the
// project does not exist; a project without environments gives an empty slice.
func (s *Store) ListEnvironments(ctx context.Context, project string) ([]Environment, error) {
	envs, err := listEnvironments(ctx, s.db(), project)
	if err != nil {
		return nil, err
	}
	if len(envs) == 0 {
		if err := s.db().requireProject(ctx, project, lockNone); err != nil {
			return nil, err
		}
	}
	return envs, nil
}

// CreateEnvironment appends e to the end of its project's promotion order and returns it as stored. It fails with
// ErrNotFound when the project does not exist, ErrExists when the name is taken and ErrInvalid when it is empty.
func (s *Store) CreateEnvironment(ctx context.Context, e Environment) (Environment, error) {
	if e.Name == "" {
		return Environment{}, invalid("environment name in project %q is empty", e.Project)
	}
	var out Environment
	err := s.inTx(ctx, func(c conn) error {
		if err := c.requireProject(ctx, e.Project, lockUpdate); err != nil {
			return err
		}
		var next int
		if err := c.queryRow(ctx, "SELECT COALESCE(MAX(position) + 1, 0) FROM environments WHERE project = ?",
			e.Project).Scan(&next); err != nil {
			return fmt.Errorf("creating %s: %w", environmentRef(e.Project, e.Name), err)
		}
		var err error
		out, err = insertEnvironment(ctx, c, e.Project, e, next)
		return err
	})
	if err != nil {
		return Environment{}, err
	}
	return out, nil
}

// ReorderEnvironments sets the project's promotion order to order, which must name each of its environments
// exactly once (otherwise ErrInvalid, saying which name is unknown, repeated or left out), and returns the
// environments in the new order. It fails with ErrNotFound when the project does not exist.
func (s *Store) ReorderEnvironments(ctx context.Context, project string, order []string) ([]Environment, error) {
	var out []Environment
	err := s.inTx(ctx, func(c conn) error {
		if err := c.requireProject(ctx, project, lockUpdate); err != nil {
			return err
		}
		current, err := listEnvironments(ctx, c, project)
		if err != nil {
			return err
		}
		if err := checkPermutation(project, current, order); err != nil {
			return err
		}
		// Positions are unique per project, so move every row out of the way (to -1-position) first.
		if _, err := c.exec(ctx, "UPDATE environments SET position = -1 - position WHERE project = ?", project); err != nil {
			return fmt.Errorf("reordering environments of %s: %w", projectRef(project), err)
		}
		for i, name := range order {
			if _, err := c.exec(ctx, "UPDATE environments SET position = ? WHERE project = ? AND name = ?",
				i, project, name); err != nil {
				return fmt.Errorf("reordering environments of %s: %w", projectRef(project), err)
			}
		}
		out, err = listEnvironments(ctx, c, project)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// checkPermutation fails with ErrInvalid unless order names every environment in current exactly once.
func checkPermutation(project string, current []Environment, order []string) error {
	known := make(map[string]bool, len(current))
	for _, e := range current {
		known[e.Name] = true
	}
	seen := make(map[string]bool, len(order))
	for _, name := range order {
		if !known[name] {
			return invalid("order names environment %q, which %s does not have", name, projectRef(project))
		}
		if seen[name] {
			return invalid("order names environment %q more than once", name)
		}
		seen[name] = true
	}
	for _, e := range current {
		if !seen[e.Name] {
			return invalid("order leaves out environment %q of %s", e.Name, projectRef(project))
		}
	}
	return nil
}

// insertEnvironment inserts e into project at position and returns it as stored.
func insertEnvironment(ctx context.Context, c conn, project string, e Environment, position int) (Environment, error) {
	e.Project, e.Position, e.CreatedAt = project, position, normalize(e.CreatedAt)
	if _, err := c.exec(ctx,
		"INSERT INTO environments (project, name, production, position, created_at) VALUES (?, ?, ?, ?, ?)",
		project, e.Name, e.Production, position, toDB(e.CreatedAt)); err != nil {
		if isUniqueViolation(err) {
			return Environment{}, exists(environmentRef(project, e.Name))
		}
		return Environment{}, fmt.Errorf("creating %s: %w", environmentRef(project, e.Name), err)
	}
	return e, nil
}

// listEnvironments returns the project's environments in promotion order.
func listEnvironments(ctx context.Context, c conn, project string) ([]Environment, error) {
	rows, err := c.query(ctx, `SELECT name, production, position, created_at FROM environments
		WHERE project = ? ORDER BY position`, project)
	if err != nil {
		return nil, fmt.Errorf("listing environments of %s: %w", projectRef(project), err)
	}
	defer rows.Close()
	out := []Environment{}
	for rows.Next() {
		e := Environment{Project: project}
		var created int64
		if err := rows.Scan(&e.Name, &e.Production, &e.Position, &created); err != nil {
			return nil, fmt.Errorf("listing environments of %s: %w", projectRef(project), err)
		}
		e.CreatedAt = fromDB(created)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing environments of %s: %w", projectRef(project), err)
	}
	return out, nil
}
