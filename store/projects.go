package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// CreateProject creates p together with its environments, in one transaction. The environments are stored in the
// given order (positions 0..n-1; their Project and Position fields are ignored). It fails with ErrExists when the
// name is taken and with ErrInvalid when a name is empty or an environment is listed twice.
func (s *Store) CreateProject(ctx context.Context, p Project, envs []Environment) (Project, error) {
	if p.Name == "" {
		return Project{}, invalid("project name is empty")
	}
	seen := make(map[string]bool, len(envs))
	for i, e := range envs {
		if e.Name == "" {
			return Project{}, invalid("environment %d of project %q has an empty name", i, p.Name)
		}
		if seen[e.Name] {
			return Project{}, invalid("environment %q is listed twice for project %q", e.Name, p.Name)
		}
		seen[e.Name] = true
	}
	p.CreatedAt = normalize(p.CreatedAt)
	err := s.inTx(ctx, func(c conn) error {
		if _, err := c.exec(ctx, "INSERT INTO projects (name, created_at) VALUES (?, ?)",
			p.Name, toDB(p.CreatedAt)); err != nil {
			if isUniqueViolation(err) {
				return exists(projectRef(p.Name))
			}
			return fmt.Errorf("creating %s: %w", projectRef(p.Name), err)
		}
		for i, e := range envs {
			if _, err := insertEnvironment(ctx, c, p.Name, e, i); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return Project{}, err
	}
	return p, nil
}

// GetProject returns the project with the given name, or an error wrapping ErrNotFound.
func (s *Store) GetProject(ctx context.Context, name string) (Project, error) {
	var created int64
	err := s.db().queryRow(ctx, "SELECT created_at FROM projects WHERE name = ?", name).Scan(&created)
	if errors.Is(err, sql.ErrNoRows) {
		return Project{}, notFound(projectRef(name))
	}
	if err != nil {
		return Project{}, fmt.Errorf("getting %s: %w", projectRef(name), err)
	}
	return Project{Name: name, CreatedAt: fromDB(created)}, nil
}

// ListProjects returns projects ordered by name whose names sort after after ("" means from the start), at most
// limit of them; limit <= 0 means no limit. Pass the last name of one page as after to get the next.
func (s *Store) ListProjects(ctx context.Context, after string, limit int) ([]Project, error) {
	q, args := "SELECT name, created_at FROM projects WHERE name > ? ORDER BY name", []any{after}
	if limit > 0 {
		q += " LIMIT ?"
		args = append(args, limit)
	}
	rows, err := s.db().query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("listing projects: %w", err)
	}
	defer rows.Close()
	out := []Project{}
	for rows.Next() {
		var p Project
		var created int64
		if err := rows.Scan(&p.Name, &created); err != nil {
			return nil, fmt.Errorf("listing projects: %w", err)
		}
		p.CreatedAt = fromDB(created)
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing projects: %w", err)
	}
	return out, nil
}

// DeleteProject deletes the project and everything below it: environments, components, config values, builds and
// deployments. It fails with ErrNotFound when there is no such project.
func (s *Store) DeleteProject(ctx context.Context, name string) error {
	res, err := s.db().exec(ctx, "DELETE FROM projects WHERE name = ?", name)
	if err != nil {
		return fmt.Errorf("deleting %s: %w", projectRef(name), err)
	}
	n, err := affected(res)
	if err != nil {
		return fmt.Errorf("deleting %s: %w", projectRef(name), err)
	}
	if n == 0 {
		return notFound(projectRef(name))
	}
	return nil
}
