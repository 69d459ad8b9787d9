package store

import (
	"context"
	"fmt"
	"slices"
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

// UpdateEnvironment reads the environment, lets update change it and writes it back, in one transaction; update
// may change Production, Replicas, CPUs and MemoryBytes. It fails with ErrNotFound when there is no such
// environment and with ErrInvalid when a value is out of range.
func (s *Store) UpdateEnvironment(ctx context.Context, project, name string, update func(*Environment) error) (Environment, error) {
	var out Environment
	err := s.inTx(ctx, func(c conn) error {
		if err := c.requireEnvironment(ctx, project, name, lockUpdate); err != nil {
			return err
		}
		envs, err := listEnvironments(ctx, c, project)
		if err != nil {
			return err
		}
		i := slices.IndexFunc(envs, func(e Environment) bool { return e.Name == name })
		e := envs[i]
		orig := e
		if err := update(&e); err != nil {
			return err
		}
		if e.Name != orig.Name || e.Project != orig.Project || e.Position != orig.Position || !e.CreatedAt.Equal(orig.CreatedAt) {
			return invalid("update of %s changed its identity", environmentRef(project, name))
		}
		if err := checkResources(e); err != nil {
			return err
		}
		if _, err := c.exec(ctx, `UPDATE environments SET production = ?, replicas = ?, cpu_millis = ?, memory_bytes = ?
			WHERE project = ? AND name = ?`, e.Production, e.Replicas, int64(e.CPUs*1000), e.MemoryBytes, project, name); err != nil {
			return fmt.Errorf("updating %s: %w", environmentRef(project, name), err)
		}
		out = e
		return nil
	})
	return out, err
}

// Limits of an environment's settings.
const (
	MaxReplicas = 20
	MaxCPUs     = 64
	// MinMemoryBytes is the least memory limit Docker accepts (6 MiB).
	MinMemoryBytes = 6 << 20
)

// checkResources fails with ErrInvalid, naming the field, when a setting of e is out of range.
func checkResources(e Environment) error {
	switch {
	case e.Replicas < 0 || e.Replicas > MaxReplicas:
		return invalid("replicas of %s must be between 0 (one) and %d, got %d", environmentRef(e.Project, e.Name), MaxReplicas, e.Replicas)
	case e.CPUs < 0 || e.CPUs > MaxCPUs:
		return invalid("cpus of %s must be between 0 (no limit) and %d, got %g", environmentRef(e.Project, e.Name), MaxCPUs, e.CPUs)
	case e.MemoryBytes < 0 || e.MemoryBytes > 0 && e.MemoryBytes < MinMemoryBytes:
		return invalid("memoryBytes of %s must be 0 (no limit) or at least %d, got %d", environmentRef(e.Project, e.Name), MinMemoryBytes, e.MemoryBytes)
	}
	return nil
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
	if err := checkResources(e); err != nil {
		return Environment{}, err
	}
	if _, err := c.exec(ctx, `INSERT INTO environments (project, name, production, position, created_at, replicas, cpu_millis,
		memory_bytes) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, project, e.Name, e.Production, position, toDB(e.CreatedAt),
		e.Replicas, int64(e.CPUs*1000), e.MemoryBytes); err != nil {
		if isUniqueViolation(err) {
			return Environment{}, exists(environmentRef(project, e.Name))
		}
		return Environment{}, fmt.Errorf("creating %s: %w", environmentRef(project, e.Name), err)
	}
	return e, nil
}

// listEnvironments returns the project's environments in promotion order.
func listEnvironments(ctx context.Context, c conn, project string) ([]Environment, error) {
	rows, err := c.query(ctx, `SELECT name, production, position, created_at, replicas, cpu_millis, memory_bytes
		FROM environments WHERE project = ? ORDER BY position`, project)
	if err != nil {
		return nil, fmt.Errorf("listing environments of %s: %w", projectRef(project), err)
	}
	defer rows.Close()
	out := []Environment{}
	for rows.Next() {
		e := Environment{Project: project}
		var created, cpuMillis int64
		if err := rows.Scan(&e.Name, &e.Production, &e.Position, &created, &e.Replicas, &cpuMillis, &e.MemoryBytes); err != nil {
			return nil, fmt.Errorf("listing environments of %s: %w", projectRef(project), err)
		}
		e.CreatedAt, e.CPUs = fromDB(created), float64(cpuMillis)/1000
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing environments of %s: %w", projectRef(project), err)
	}
	return out, nil
}
