package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
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
		if out, err = insertEnvironment(ctx, c, e.Project, e, next); err != nil {
			return err
		}
		return appendEvent(ctx, c, environmentEvent(e.Project, e.Name))
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
		if out, err = listEnvironments(ctx, c, project); err != nil {
			return err
		}
		return appendEvent(ctx, c, environmentEvent(project, ""))
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// UpdateEnvironment reads the environment, lets update change it and writes it back, in one transaction; update
// may change Production, Replicas, CPUs, MemoryBytes, DataPlane, Kubernetes and DeployTimeoutSeconds (not
// Kubernetes.HasKubeconfig: the environment it returns says whether a kubeconfig is stored). It fails with
// ErrNotFound when there is no such environment and with ErrInvalid, naming the field, when a value is out of range.
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
		normalizeDataPlane(&e)
		if err := checkResources(e); err != nil {
			return err
		}
		binding, err := bindingJSON(e.Kubernetes)
		if err != nil {
			return fmt.Errorf("updating %s: %w", environmentRef(project, name), err)
		}
		rules, err := rulesJSON(e.Rules)
		if err != nil {
			return fmt.Errorf("updating %s: %w", environmentRef(project, name), err)
		}
		if _, err := c.exec(ctx, `UPDATE environments SET production = ?, replicas = ?, cpu_millis = ?, memory_bytes = ?,
			data_plane = ?, kubernetes = ?, deploy_timeout_s = ?, rules = ? WHERE project = ? AND name = ?`,
			e.Production, e.Replicas, int64(math.Round(e.CPUs*1000)), e.MemoryBytes, e.DataPlane, binding, e.DeployTimeoutSeconds,
			rules, project, name); err != nil {
			return fmt.Errorf("updating %s: %w", environmentRef(project, name), err)
		}
		if e.Kubernetes != nil {
			has, err := hasKubeconfig(ctx, c, project, name)
			if err != nil {
				return err
			}
			k := *e.Kubernetes
			k.HasKubeconfig = has
			e.Kubernetes = &k
		}
		out = e
		return appendEvent(ctx, c, environmentEvent(project, name))
	})
	return out, err
}

// Limits of an environment's settings.
const (
	MaxReplicas = 20
	MaxCPUs     = 64
	// MinMemoryBytes is the least memory limit Docker accepts (6 MiB).
	MinMemoryBytes = 6 << 20
	// MaxDeployTimeoutSeconds is the longest DeployTimeoutSeconds (20 minutes): a failed rollout
	// waits that long, then restores the previous release, all within the Rollout activity's 30.
	MaxDeployTimeoutSeconds = 1200
)

// labelRE is a DNS-1123 label (at most 63 characters, checked apart): a Kubernetes namespace name.
var labelRE = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

func isLabel(s string) bool { return len(s) <= 63 && labelRE.MatchString(s) }

// normalizeDataPlane stores "" as DataPlaneDocker and gives a kubernetes environment a binding.
func normalizeDataPlane(e *Environment) {
	if e.DataPlane == "" {
		e.DataPlane = DataPlaneDocker
	}
	if e.DataPlane == DataPlaneKubernetes && e.Kubernetes == nil {
		e.Kubernetes = &KubernetesBinding{}
	}
}

// checkResources fails with ErrInvalid, naming the field, when a setting of e is out of range.
func checkResources(e Environment) error {
	switch {
	case e.Replicas < 0 || e.Replicas > MaxReplicas:
		return invalid("replicas of %s must be between 0 (one) and %d, got %d", environmentRef(e.Project, e.Name), MaxReplicas, e.Replicas)
	case e.CPUs < 0 || e.CPUs > MaxCPUs:
		return invalid("cpus of %s must be between 0 (no limit) and %d, got %g", environmentRef(e.Project, e.Name), MaxCPUs, e.CPUs)
	case e.MemoryBytes < 0 || e.MemoryBytes > 0 && e.MemoryBytes < MinMemoryBytes:
		return invalid("memoryBytes of %s must be 0 (no limit) or at least %d, got %d", environmentRef(e.Project, e.Name), MinMemoryBytes, e.MemoryBytes)
	case e.DeployTimeoutSeconds < 0 || e.DeployTimeoutSeconds > MaxDeployTimeoutSeconds:
		return invalid("deployTimeoutSeconds of %s must be between 0 (the worker's --ready-timeout) and %d, got %d",
			environmentRef(e.Project, e.Name), MaxDeployTimeoutSeconds, e.DeployTimeoutSeconds)
	}
	return checkDataPlane(e)
}

// checkDataPlane fails with ErrInvalid, naming the field, when e's data plane or its binding is not valid.
func checkDataPlane(e Environment) error {
	ref := environmentRef(e.Project, e.Name)
	switch e.DataPlane {
	case "", DataPlaneDocker:
		if e.Kubernetes != nil {
			return invalid("kubernetes of %s is only for the %q data plane, not %q", ref, DataPlaneKubernetes, DataPlaneDocker)
		}
		return nil
	case DataPlaneKubernetes:
	default:
		return invalid("dataPlane of %s must be %q or %q, got %q", ref, DataPlaneDocker, DataPlaneKubernetes, e.DataPlane)
	}
	k := e.Kubernetes
	if k == nil {
		return nil
	}
	if k.Namespace != "" && !isLabel(k.Namespace) {
		return invalid("kubernetes.namespace of %s must be a DNS-1123 label of at most 63 characters, got %q", ref, k.Namespace)
	}
	for _, ns := range k.IngressNamespaces {
		if !isLabel(ns) {
			return invalid("kubernetes.ingressNamespaces of %s must be DNS-1123 labels of at most 63 characters, got %q", ref, ns)
		}
	}
	surge, unavailable := 1, 0
	if k.MaxSurge != nil {
		surge = *k.MaxSurge
	}
	if k.MaxUnavailable != nil {
		unavailable = *k.MaxUnavailable
	}
	switch {
	case surge < 0:
		return invalid("kubernetes.maxSurge of %s must not be negative, got %d", ref, surge)
	case unavailable < 0:
		return invalid("kubernetes.maxUnavailable of %s must not be negative, got %d", ref, unavailable)
	case surge == 0 && unavailable == 0:
		return invalid("kubernetes.maxUnavailable of %s must be above 0 when maxSurge is 0, or a rolling update cannot progress", ref)
	}
	return nil
}

// bindingJSON encodes a binding for the kubernetes column, without HasKubeconfig (which is not stored); nil is NULL.
func bindingJSON(k *KubernetesBinding) (sql.NullString, error) {
	if k == nil {
		return sql.NullString{}, nil
	}
	stored := *k
	stored.HasKubeconfig = false
	b, err := json.Marshal(stored)
	if err != nil {
		return sql.NullString{}, fmt.Errorf("encoding the kubernetes binding: %w", err)
	}
	return sql.NullString{String: string(b), Valid: true}, nil
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
	normalizeDataPlane(&e)
	if err := checkResources(e); err != nil {
		return Environment{}, err
	}
	binding, err := bindingJSON(e.Kubernetes)
	if err != nil {
		return Environment{}, fmt.Errorf("creating %s: %w", environmentRef(project, e.Name), err)
	}
	if e.Kubernetes != nil {
		k := *e.Kubernetes
		k.HasKubeconfig = false // a new environment has none
		e.Kubernetes = &k
	}
	rules, err := rulesJSON(e.Rules)
	if err != nil {
		return Environment{}, fmt.Errorf("creating %s: %w", environmentRef(project, e.Name), err)
	}
	if _, err := c.exec(ctx, `INSERT INTO environments (project, name, production, position, created_at, replicas, cpu_millis,
		memory_bytes, data_plane, kubernetes, deploy_timeout_s, rules) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		project, e.Name, e.Production, position, toDB(e.CreatedAt), e.Replicas, int64(math.Round(e.CPUs*1000)), e.MemoryBytes,
		e.DataPlane, binding, e.DeployTimeoutSeconds, rules); err != nil {
		if isUniqueViolation(err) {
			return Environment{}, exists(environmentRef(project, e.Name))
		}
		return Environment{}, fmt.Errorf("creating %s: %w", environmentRef(project, e.Name), err)
	}
	return e, nil
}

// listEnvironments returns the project's environments in promotion order.
func listEnvironments(ctx context.Context, c conn, project string) ([]Environment, error) {
	rows, err := c.query(ctx, `SELECT name, production, position, created_at, replicas, cpu_millis, memory_bytes,
			data_plane, kubernetes, deploy_timeout_s, (SELECT COUNT(*) FROM environment_kubeconfigs k
				WHERE k.project = environments.project AND k.environment = environments.name), rules
		FROM environments WHERE project = ? ORDER BY position`, project)
	if err != nil {
		return nil, fmt.Errorf("listing environments of %s: %w", projectRef(project), err)
	}
	defer rows.Close()
	out := []Environment{}
	for rows.Next() {
		e := Environment{Project: project}
		var created, cpuMillis int64
		var binding sql.NullString
		var kubeconfigs int
		var rules sql.NullString
		if err := rows.Scan(&e.Name, &e.Production, &e.Position, &created, &e.Replicas, &cpuMillis, &e.MemoryBytes,
			&e.DataPlane, &binding, &e.DeployTimeoutSeconds, &kubeconfigs, &rules); err != nil {
			return nil, fmt.Errorf("listing environments of %s: %w", projectRef(project), err)
		}
		if rules.Valid {
			if err := json.Unmarshal([]byte(rules.String), &e.Rules); err != nil {
				return nil, fmt.Errorf("reading the release rules of %s: %w", environmentRef(project, e.Name), err)
			}
		}
		e.CreatedAt, e.CPUs = fromDB(created), float64(cpuMillis)/1000
		if binding.Valid {
			e.Kubernetes = &KubernetesBinding{}
			if err := json.Unmarshal([]byte(binding.String), e.Kubernetes); err != nil {
				return nil, fmt.Errorf("reading the kubernetes binding of %s: %w", environmentRef(project, e.Name), err)
			}
		}
		normalizeDataPlane(&e)
		if e.Kubernetes != nil {
			e.Kubernetes.HasKubeconfig = kubeconfigs > 0
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing environments of %s: %w", projectRef(project), err)
	}
	rows.Close()
	stops, err := lineStops(ctx, c, project)
	if err != nil {
		return nil, err
	}
	for i := range out {
		if st, ok := stops[out[i].Name]; ok {
			out[i].Rules.Stopped = &st
		}
	}
	return out, nil
}

// rulesJSON is the rules column of r: NULL for the defaults. A stopped line is kept apart (line_stops).
func rulesJSON(r ReleaseRules) (any, error) {
	r.Stopped = nil
	if r.Approval == nil && len(r.FreezeWindows) == 0 && r.FreezeMode == "" && r.Promotion == nil && r.Verification == nil {
		return nil, nil
	}
	b, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("encoding the release rules: %w", err)
	}
	return string(b), nil
}
