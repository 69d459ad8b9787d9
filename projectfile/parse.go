package projectfile

import (
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/slipway-dev/slipway/api"
	"github.com/slipway-dev/slipway/scan"
)

// yamlLineRE finds the line in a YAML syntax error.
var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// Parse reads the file called name (used in errors; "" means "slipway.yaml") from data. It is strict: every
// problem — a YAML syntax error, an unknown field, a wrong type, a name given twice, an invalid name or value,
// configs or secrets of an environment the project does not declare, a key both a config and a secret, a missing
// or wrong apiVersion — is reported as "name:line: field: message", all of them, one per line (errors.Join).
func Parse(name string, data []byte) (*File, error) {
	if name == "" {
		name = "slipway.yaml"
	}
	d := &decoder{name: name, lines: map[string]int{}, failed: map[string]bool{}}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		line := 1
		if m := yamlLineRE.FindStringSubmatch(err.Error()); m != nil {
			line, _ = strconv.Atoi(m[1])
			msg = m[2]
			if isParserProblem(msg) {
				line++ // yaml.v3 names a parser error's line counting from 0, a scanner error's from 1
			}
		}
		d.failf(line, "", "%s", msg)
		return nil, d.err()
	}
	f := &File{name: name, lines: d.lines}
	root := &yaml.Node{Kind: yaml.MappingNode, Line: 1}
	if len(doc.Content) > 0 {
		root = doc.Content[0]
	}
	version := ""
	d.fields(root, "", map[string]func(*yaml.Node, string){
		"apiVersion": func(n *yaml.Node, path string) {
			if version = d.str(n, path); version != APIVersion {
				d.failf(n.Line, path, "must be %q, got %q", APIVersion, version)
			}
		},
		"projects": func(n *yaml.Node, path string) {
			d.list(n, path, func(i int, n *yaml.Node, path string) { f.Projects = append(f.Projects, d.project(n, path)) })
		},
	})
	if _, ok := d.lines["apiVersion"]; !ok {
		d.failf(root.Line, "apiVersion", "required (apiVersion: %s)", APIVersion)
	}
	if _, ok := d.lines["projects"]; !ok {
		d.failf(root.Line, "projects", "required")
	} else if len(f.Projects) == 0 && !d.failed["projects"] {
		d.failf(d.lines["projects"], "projects", "must list at least one project")
	}
	unique(d, f.Projects, "project", func(p Project) (string, string) { return p.Name, p.path })
	if err := d.err(); err != nil {
		return nil, err
	}
	return f, nil
}

// isParserProblem says msg is one of yaml.v3's parser errors (parserc.go), not a scanner error.
func isParserProblem(msg string) bool {
	switch msg {
	case "found duplicate %TAG directive", "found duplicate %YAML directive", "found incompatible YAML document",
		"found undefined tag handle":
		return true
	}
	return strings.HasPrefix(msg, "did not find expected ")
}

// unique reports every entity of xs whose name an earlier one has; of gives an entity's name and path.
func unique[T any](d *decoder, xs []T, what string, of func(T) (name, path string)) {
	first := map[string]int{}
	for _, x := range xs {
		name, path := of(x)
		if name == "" {
			continue
		}
		if line, ok := first[name]; ok {
			d.failf(d.lines[field(path, "name")], field(path, "name"), "%s %q is declared twice (first at line %d)", what, name, line)
			continue
		}
		first[name] = d.lines[field(path, "name")]
	}
}

// required reports key missing from the mapping n at path.
func (d *decoder) required(n *yaml.Node, path, key string) {
	if _, ok := d.lines[field(path, key)]; !ok {
		d.failf(n.Line, field(path, key), "required")
	}
}

// project decodes the project at path.
func (d *decoder) project(n *yaml.Node, path string) Project {
	p := Project{path: path}
	d.fields(n, path, map[string]func(*yaml.Node, string){
		"name": func(n *yaml.Node, path string) { p.Name = d.str(n, path); d.check(n, path, checkName(p.Name)) },
		"scanPolicy": func(n *yaml.Node, path string) {
			d.fields(n, path, map[string]func(*yaml.Node, string){
				"failOn": func(n *yaml.Node, path string) {
					p.ScanPolicy.FailOn = d.str(n, path)
					d.check(n, path, checkFailOn(p.ScanPolicy.FailOn))
				},
				"allowSecrets":  func(n *yaml.Node, path string) { p.ScanPolicy.AllowSecrets = d.boolean(n, path) },
				"requireVulnDB": func(n *yaml.Node, path string) { p.ScanPolicy.RequireVulnDB = d.boolean(n, path) },
			})
		},
		"environments": func(n *yaml.Node, path string) {
			d.list(n, path, func(i int, n *yaml.Node, path string) {
				p.Environments = append(p.Environments, d.environment(n, path))
			})
		},
		"components": func(n *yaml.Node, path string) {
			d.list(n, path, func(i int, n *yaml.Node, path string) { p.Components = append(p.Components, d.component(n, path)) })
		},
	})
	d.required(n, path, "name")
	unique(d, p.Environments, "environment", func(e Environment) (string, string) { return e.Name, e.path })
	unique(d, p.Components, "component", func(c Component) (string, string) { return c.Name, c.path })
	envs := map[string]bool{}
	for _, e := range p.Environments {
		envs[e.Name] = true
	}
	for _, c := range p.Components {
		d.environmentsOf(c, envs, path)
	}
	return p
}

// checkFailOn says what is wrong with a scan policy's failOn.
func checkFailOn(failOn string) string {
	if err := (scan.Policy{FailOn: failOn}).Validate(); err != nil {
		return strings.TrimPrefix(err.Error(), "failOn ")
	}
	return ""
}

// environment decodes the environment at path.
func (d *decoder) environment(n *yaml.Node, path string) Environment {
	e := Environment{path: path}
	d.fields(n, path, map[string]func(*yaml.Node, string){
		"name":       func(n *yaml.Node, path string) { e.Name = d.str(n, path); d.check(n, path, checkName(e.Name)) },
		"production": func(n *yaml.Node, path string) { e.Production = d.boolean(n, path) },
		"replicas":   func(n *yaml.Node, path string) { e.Replicas = d.intIn(n, path, 0, maxReplicas, "one") },
		"cpus":       func(n *yaml.Node, path string) { e.CPUs = d.number(n, path); d.check(n, path, checkCPUs(e.CPUs)) },
		"memoryBytes": func(n *yaml.Node, path string) {
			if e.MemoryBytes = d.integer(n, path); e.MemoryBytes < 0 || e.MemoryBytes > 0 && e.MemoryBytes < minMemoryBytes {
				d.failf(n.Line, path, "must be 0 (no limit) or at least %d, got %d", minMemoryBytes, e.MemoryBytes)
			}
		},
		"deployTimeoutSeconds": func(n *yaml.Node, path string) {
			e.DeployTimeoutSeconds = d.intIn(n, path, 0, maxDeployTimeoutSeconds, "the worker's default")
		},
		"dataPlane": func(n *yaml.Node, path string) {
			if e.DataPlane = d.str(n, path); e.DataPlane != DataPlaneDocker && e.DataPlane != DataPlaneKubernetes {
				d.failf(n.Line, path, "must be %q or %q, got %q", DataPlaneDocker, DataPlaneKubernetes, e.DataPlane)
			}
		},
		"kubernetes": func(n *yaml.Node, path string) { e.Kubernetes = d.kubernetes(n, path) },
	})
	d.required(n, path, "name")
	if e.Kubernetes != nil && e.DataPlane != DataPlaneKubernetes {
		d.failf(d.lines[field(path, "kubernetes")], field(path, "kubernetes"), "only for dataPlane: %s", DataPlaneKubernetes)
	}
	return e
}

// kubernetes decodes the kubernetes binding at path.
func (d *decoder) kubernetes(n *yaml.Node, path string) *Kubernetes {
	k := &Kubernetes{}
	count := func(n *yaml.Node, path string) *int {
		v := int(d.integer(n, path))
		if v < 0 {
			d.failf(n.Line, path, "must not be negative, got %d", v)
		}
		return &v
	}
	d.fields(n, path, map[string]func(*yaml.Node, string){
		"context":   func(n *yaml.Node, path string) { k.Context = d.str(n, path) },
		"inCluster": func(n *yaml.Node, path string) { k.InCluster = d.boolean(n, path) },
		"namespace": func(n *yaml.Node, path string) {
			if k.Namespace = d.str(n, path); k.Namespace != "" {
				d.check(n, path, checkName(k.Namespace))
			}
		},
		"ingressNamespaces": func(n *yaml.Node, path string) {
			d.list(n, path, func(i int, n *yaml.Node, path string) {
				ns := d.str(n, path)
				d.check(n, path, checkName(ns))
				k.IngressNamespaces = append(k.IngressNamespaces, ns)
			})
		},
		"maxSurge":       func(n *yaml.Node, path string) { k.MaxSurge = count(n, path) },
		"maxUnavailable": func(n *yaml.Node, path string) { k.MaxUnavailable = count(n, path) },
	})
	if orDefault(k.MaxSurge, 1) == 0 && orDefault(k.MaxUnavailable, 0) == 0 {
		d.failf(n.Line, field(path, "maxUnavailable"), "must be above 0 when maxSurge is 0, or a rolling update cannot progress")
	}
	return k
}

// orDefault is *p, or def when p is nil.
func orDefault(p *int, def int) int {
	if p == nil {
		return def
	}
	return *p
}

// component decodes the component at path.
func (d *decoder) component(n *yaml.Node, path string) Component {
	c := Component{path: path}
	d.fields(n, path, map[string]func(*yaml.Node, string){
		"name":   func(n *yaml.Node, path string) { c.Name = d.str(n, path); d.check(n, path, checkName(c.Name)) },
		"repo":   func(n *yaml.Node, path string) { c.Repo = d.str(n, path); d.check(n, path, checkRepo(c.Repo)) },
		"branch": func(n *yaml.Node, path string) { c.Branch = d.str(n, path); d.check(n, path, checkBranch(c.Branch)) },
		"dockerfile": func(n *yaml.Node, path string) {
			c.Dockerfile = d.str(n, path)
			d.check(n, path, checkRepoPath(c.Dockerfile, true))
		},
		"context": func(n *yaml.Node, path string) {
			c.Context = d.str(n, path)
			d.check(n, path, checkRepoPath(c.Context, false))
		},
		"type": func(n *yaml.Node, path string) {
			c.Type = d.str(n, path)
			if !slices.Contains(api.ComponentTypes, c.Type) {
				d.failf(n.Line, path, "type %q is none of %s", c.Type, strings.Join(api.ComponentTypes, ", "))
			}
		},
		"paths": func(n *yaml.Node, path string) {
			d.list(n, path, func(i int, n *yaml.Node, path string) {
				p := d.str(n, path)
				d.check(n, path, checkPathFilter(p))
				c.Paths = append(c.Paths, p)
			})
			if len(c.Paths) > maxPathFilters {
				d.failf(n.Line, path, "at most %d path filters, got %d", maxPathFilters, len(c.Paths))
			}
		},
		"autoBuild":  func(n *yaml.Node, path string) { c.AutoBuild = d.boolean(n, path) },
		"autoDeploy": func(n *yaml.Node, path string) { c.AutoDeploy = d.boolean(n, path) },
		"configs": func(n *yaml.Node, path string) {
			c.Configs = map[string]map[string]string{}
			d.mapping(n, path, func(env string, line int, n *yaml.Node) {
				path := field(path, env)
				values := map[string]string{}
				d.mapping(n, path, func(key string, line int, n *yaml.Node) {
					path := field(path, key)
					d.check(n, path, checkKey(key))
					v := d.str(n, path)
					d.check(n, path, checkValue(v))
					values[key] = v
				})
				c.Configs[env] = values
			})
		},
		"secrets": func(n *yaml.Node, path string) {
			c.Secrets = map[string][]string{}
			d.mapping(n, path, func(env string, line int, n *yaml.Node) {
				path := field(path, env)
				keys := []string{}
				d.list(n, path, func(i int, n *yaml.Node, path string) {
					key := d.str(n, path)
					d.check(n, path, checkKey(key))
					if j := slices.Index(keys, key); j >= 0 {
						d.failf(n.Line, path, "secret %s is listed twice (first at line %d)", key, d.lines[item(field(c.path, "secrets."+env), j)])
					}
					keys = append(keys, key)
				})
				c.Secrets[env] = keys
			})
		},
	})
	d.required(n, path, "name")
	d.required(n, path, "repo")
	return c
}

// environmentsOf reports the environments c's configs and secrets name that are not in envs (the project's, at
// projectPath), and the secrets also given as configs.
func (d *decoder) environmentsOf(c Component, envs map[string]bool, projectPath string) {
	for _, kind := range []string{"configs", "secrets"} {
		var names []string
		if kind == "configs" {
			names = slices.Sorted(maps.Keys(c.Configs))
		} else {
			names = slices.Sorted(maps.Keys(c.Secrets))
		}
		for _, env := range names {
			if !envs[env] {
				path := field(c.path, kind+"."+env)
				d.failf(d.lines[path], path, "environment %q is not among %s's environments", env, field(projectPath, "environments"))
			}
		}
	}
	for env, keys := range c.Secrets {
		for i, key := range keys {
			if _, ok := c.Configs[env][key]; ok {
				path := item(field(c.path, "secrets."+env), i)
				d.failf(d.lines[path], path, "%s is also given as a config (line %d): a key is a config or a secret, not both",
					key, d.lines[field(c.path, "configs."+env+"."+key)])
			}
		}
	}
}
