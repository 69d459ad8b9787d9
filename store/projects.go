package store

import (
	"context"
	"database/sql"
	"encoding/json"
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
	policy, err := encodePolicy(p)
	if err != nil {
		return Project{}, err
	}
	err = s.inTx(ctx, func(c conn) error {
		if _, err := c.exec(ctx, "INSERT INTO projects (name, scan_policy, created_at) VALUES (?, ?, ?)",
			p.Name, policy, toDB(p.CreatedAt)); err != nil {
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
		return appendEvent(ctx, c, projectEvent(p.Name))
	})
	if err != nil {
		return Project{}, err
	}
	return p, nil
}

// GetProject returns the project with the given name, or an error wrapping ErrNotFound.
func (s *Store) GetProject(ctx context.Context, name string) (Project, error) {
	return getProject(ctx, s.db(), name, lockNone)
}

func getProject(ctx context.Context, c conn, name string, l lock) (Project, error) {
	p, err := scanProject(c.queryRow(ctx, "SELECT "+projectColumns+" FROM projects WHERE name = ?"+c.d.suffix(l), name))
	if errors.Is(err, sql.ErrNoRows) {
		return Project{}, notFound(projectRef(name))
	}
	if err != nil {
		return Project{}, fmt.Errorf("getting %s: %w", projectRef(name), err)
	}
	return p, nil
}

// UpdateProject reads the project, lets update change it and writes it back, in one transaction; update may
// change only the scan policy. It fails with ErrNotFound when there is no such project and with ErrInvalid when
// the policy is not valid.
func (s *Store) UpdateProject(ctx context.Context, name string, update func(*Project) error) (Project, error) {
	var out Project
	err := s.inTx(ctx, func(c conn) error {
		p, err := getProject(ctx, c, name, lockUpdate)
		if err != nil {
			return err
		}
		orig := p
		if err := update(&p); err != nil {
			return err
		}
		if p.Name != orig.Name || !p.CreatedAt.Equal(orig.CreatedAt) {
			return invalid("update of %s changed its identity", projectRef(name))
		}
		policy, err := encodePolicy(p)
		if err != nil {
			return err
		}
		if _, err := c.exec(ctx, "UPDATE projects SET scan_policy = ? WHERE name = ?", policy, name); err != nil {
			return fmt.Errorf("updating %s: %w", projectRef(name), err)
		}
		out = p
		return appendEvent(ctx, c, projectEvent(name))
	})
	return out, err
}

const projectColumns = "name, scan_policy, created_at"

func scanProject(row interface{ Scan(...any) error }) (Project, error) {
	var p Project
	var policy string
	var created int64
	if err := row.Scan(&p.Name, &policy, &created); err != nil {
		return Project{}, err
	}
	if err := json.Unmarshal([]byte(policy), &p.ScanPolicy); err != nil {
		return Project{}, fmt.Errorf("decoding the scan policy of %s: %w", projectRef(p.Name), err)
	}
	p.CreatedAt = fromDB(created)
	return p, nil
}

// encodePolicy checks and encodes the project's scan policy.
func encodePolicy(p Project) (string, error) {
	if err := p.ScanPolicy.Validate(); err != nil {
		return "", invalid("scan policy of %s: %v", projectRef(p.Name), err)
	}
	data, err := json.Marshal(p.ScanPolicy)
	if err != nil {
		return "", fmt.Errorf("encoding the scan policy of %s: %w", projectRef(p.Name), err)
	}
	return string(data), nil
}

// ListProjects returns projects ordered by name whose names sort after after ("" means from the start), at most
// limit of them; limit <= 0 means no limit. Pass the last name of one page as after to get the next.
func (s *Store) ListProjects(ctx context.Context, after string, limit int) ([]Project, error) {
	q, args := "SELECT "+projectColumns+" FROM projects WHERE name > ? ORDER BY name", []any{after}
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
		p, err := scanProject(rows)
		if err != nil {
			return nil, fmt.Errorf("listing projects: %w", err)
		}
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
	return s.deleteOne(ctx, projectRef(name), projectEvent(name), func(conn) error { return nil },
		"DELETE FROM projects WHERE name = ?", name)
}
