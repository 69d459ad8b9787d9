package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/slipway-dev/slipway/api"
)

const componentColumns = "project, name, repo, branch, dockerfile, context, auto_build, auto_deploy, created_at, updated_at, paths, type"

// CreateComponent stores c with CreatedAt and UpdatedAt set to now and returns it as stored. It fails with
// ErrNotFound when the project does not exist, ErrExists when the name is taken in the project and ErrInvalid
// when the name is empty. Defaults (branch, Dockerfile, context) are the caller's business: fields are stored as
// given.
func (s *Store) CreateComponent(ctx context.Context, c Component) (Component, error) {
	if c.Name == "" {
		return Component{}, invalid("component name in project %q is empty", c.Project)
	}
	c.CreatedAt = now()
	c.UpdatedAt = c.CreatedAt
	c.Type = componentType(c.Type)
	err := s.inTx(ctx, func(tx conn) error {
		if err := tx.requireProject(ctx, c.Project, lockShare); err != nil {
			return err
		}
		_, err := tx.exec(ctx, "INSERT INTO components ("+componentColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
			c.Project, c.Name, c.Repo, c.Branch, c.Dockerfile, c.Context, c.AutoBuild, c.AutoDeploy,
			toDB(c.CreatedAt), toDB(c.UpdatedAt), pathsJSON(c.Paths), c.Type)
		if isUniqueViolation(err) {
			return exists(componentRef(c.Project, c.Name))
		}
		if err != nil {
			return fmt.Errorf("creating %s: %w", componentRef(c.Project, c.Name), err)
		}
		return appendEvent(ctx, tx, componentEvent(c.Project, c.Name))
	})
	if err != nil {
		return Component{}, err
	}
	return c, nil
}

// GetComponent returns the named component of the project, or an error wrapping ErrNotFound that names the
// project when the project is missing and the component otherwise.
func (s *Store) GetComponent(ctx context.Context, project, name string) (Component, error) {
	row := s.db().queryRow(ctx, "SELECT "+componentColumns+" FROM components WHERE project = ? AND name = ?",
		project, name)
	c, err := scanComponent(row)
	if errors.Is(err, sql.ErrNoRows) {
		return Component{}, s.db().preferMissingProject(ctx, project, notFound(componentRef(project, name)))
	}
	if err != nil {
		return Component{}, fmt.Errorf("getting %s: %w", componentRef(project, name), err)
	}
	return c, nil
}

// ListComponents returns the project's components ordered by name. It fails with ErrNotFound when the project
// does not exist; a project without components gives an empty slice.
func (s *Store) ListComponents(ctx context.Context, project string) ([]Component, error) {
	rows, err := s.db().query(ctx, "SELECT "+componentColumns+" FROM components WHERE project = ? ORDER BY name", project)
	if err != nil {
		return nil, fmt.Errorf("listing components of %s: %w", projectRef(project), err)
	}
	defer rows.Close()
	out := []Component{}
	for rows.Next() {
		c, err := scanComponent(rows)
		if err != nil {
			return nil, fmt.Errorf("listing components of %s: %w", projectRef(project), err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing components of %s: %w", projectRef(project), err)
	}
	if len(out) == 0 {
		if err := s.db().requireProject(ctx, project, lockNone); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// UpdateComponent replaces the mutable fields of the component named by c.Project and c.Name (Repo, Branch,
// Dockerfile, Context, AutoBuild, AutoDeploy, Paths, Type), moves UpdatedAt forward (to now, or by a microsecond if the clock
// has not moved past the last update) and returns the component as stored. It fails with ErrNotFound when the
// component or its project does not exist.
func (s *Store) UpdateComponent(ctx context.Context, c Component) (Component, error) {
	var out Component
	err := s.inTx(ctx, func(tx conn) error {
		t := toDB(now())
		row := tx.queryRow(ctx, `UPDATE components
			SET repo = ?, branch = ?, dockerfile = ?, context = ?, auto_build = ?, auto_deploy = ?, paths = ?, type = ?,
				updated_at = CASE WHEN updated_at < ? THEN ? ELSE updated_at + 1 END
			WHERE project = ? AND name = ?
			RETURNING `+componentColumns,
			c.Repo, c.Branch, c.Dockerfile, c.Context, c.AutoBuild, c.AutoDeploy, pathsJSON(c.Paths), componentType(c.Type), t, t, c.Project, c.Name)
		var err error
		out, err = scanComponent(row)
		if errors.Is(err, sql.ErrNoRows) {
			return tx.preferMissingProject(ctx, c.Project, notFound(componentRef(c.Project, c.Name)))
		}
		if err != nil {
			return fmt.Errorf("updating %s: %w", componentRef(c.Project, c.Name), err)
		}
		return appendEvent(ctx, tx, componentEvent(c.Project, c.Name))
	})
	if err != nil {
		return Component{}, err
	}
	return out, nil
}

// DeleteComponent deletes the component and its config values, builds and deployments. It fails with ErrNotFound
// when the component or its project does not exist.
func (s *Store) DeleteComponent(ctx context.Context, project, name string) error {
	return s.deleteOne(ctx, componentRef(project, name), componentEvent(project, name),
		func(c conn) error { return c.requireProject(ctx, project, lockNone) },
		"DELETE FROM components WHERE project = ? AND name = ?", project, name)
}

// scanComponent reads one row of componentColumns.
func scanComponent(row interface{ Scan(...any) error }) (Component, error) {
	var c Component
	var created, updated int64
	var paths string
	if err := row.Scan(&c.Project, &c.Name, &c.Repo, &c.Branch, &c.Dockerfile, &c.Context,
		&c.AutoBuild, &c.AutoDeploy, &created, &updated, &paths, &c.Type); err != nil {
		return Component{}, err
	}
	if err := json.Unmarshal([]byte(paths), &c.Paths); err != nil {
		return Component{}, fmt.Errorf("decoding the path filters of %s: %w", componentRef(c.Project, c.Name), err)
	}
	if len(c.Paths) == 0 {
		c.Paths = nil
	}
	c.CreatedAt, c.UpdatedAt = fromDB(created), fromDB(updated)
	return c, nil
}

// componentType is t as stored: "" is api.ComponentService.
func componentType(t string) string {
	if t == "" {
		return api.ComponentService
	}
	return t
}

// pathsJSON encodes path filters for the paths column; nil is "[]".
func pathsJSON(paths []string) string {
	if len(paths) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(paths) // a []string always encodes
	return string(b)
}

// ListAutoBuildComponents returns every component, of every project, whose AutoBuild is on, by project and name.
func (s *Store) ListAutoBuildComponents(ctx context.Context) ([]Component, error) {
	rows, err := s.db().query(ctx, "SELECT "+componentColumns+" FROM components WHERE auto_build = ? ORDER BY project, name", true)
	if err != nil {
		return nil, fmt.Errorf("listing auto-built components: %w", err)
	}
	defer rows.Close()
	out := []Component{}
	for rows.Next() {
		c, err := scanComponent(rows)
		if err != nil {
			return nil, fmt.Errorf("listing auto-built components: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}
