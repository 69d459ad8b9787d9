package projectfile

import (
	"context"
	"fmt"

	"github.com/slipway-dev/slipway/api"
)

// Export reads, through c, the named projects (every project of the install when none is named) and returns them
// as a File: non-secret config values inlined, secrets by key only, fields at the API's defaults left out, no
// kubeconfig. Parsing what Marshal makes of it and diffing that against the same install gives no changes.
func Export(ctx context.Context, c Client, projects ...string) (*File, error) {
	if len(projects) == 0 {
		names, err := projectNames(ctx, c)
		if err != nil {
			return nil, err
		}
		projects = names
	}
	f := &File{}
	for _, name := range projects {
		in, err := readProject(ctx, c, name)
		if err != nil {
			return nil, err
		}
		if in == nil {
			return nil, fmt.Errorf("exporting project %s: there is no such project", name)
		}
		f.Projects = append(f.Projects, exportProject(in))
	}
	return f, nil
}

// exportProject is in as a declared project.
func exportProject(in *installed) Project {
	p := Project{Name: in.project.Name, ScanPolicy: in.project.ScanPolicy}
	for _, e := range in.envs {
		p.Environments = append(p.Environments, exportEnvironment(e))
	}
	for _, comp := range in.comps {
		p.Components = append(p.Components, exportComponent(comp, in.envs, in.configs[comp.Name]))
	}
	return p
}

// exportEnvironment is e as a declared environment.
func exportEnvironment(e api.Environment) Environment {
	out := Environment{Name: e.Name, Production: e.Production, Replicas: e.Replicas, CPUs: e.CPUs, MemoryBytes: e.MemoryBytes,
		DeployTimeoutSeconds: e.DeployTimeoutSeconds}
	if e.DataPlane != DataPlaneKubernetes {
		return out
	}
	out.DataPlane = DataPlaneKubernetes
	if k := e.Kubernetes; k != nil {
		b := Kubernetes{Context: k.Context, InCluster: k.InCluster, Namespace: k.Namespace,
			IngressNamespaces: k.IngressNamespaces, MaxSurge: k.MaxSurge, MaxUnavailable: k.MaxUnavailable}
		if b.Context != "" || b.InCluster || b.Namespace != "" || len(b.IngressNamespaces) > 0 || b.MaxSurge != nil || b.MaxUnavailable != nil {
			out.Kubernetes = &b
		}
	}
	return out
}

// exportComponent is c, with its configs in envs (environment → configs), as a declared component.
func exportComponent(c api.Component, envs []api.Environment, configs map[string][]api.Config) Component {
	out := Component{Name: c.Name, Repo: c.Repo, Branch: c.Branch, Dockerfile: c.Dockerfile, Context: c.Context,
		Type: c.Type, Paths: c.Paths, AutoBuild: c.AutoBuild, AutoDeploy: c.AutoDeploy}
	if out.Type == defaultType {
		out.Type = ""
	}
	if out.Branch == defaultBranch {
		out.Branch = ""
	}
	if out.Dockerfile == defaultDockerfile {
		out.Dockerfile = ""
	}
	if out.Context == defaultContext {
		out.Context = ""
	}
	if len(out.Paths) == 0 {
		out.Paths = nil
	}
	for _, env := range envs {
		for _, cfg := range configs[env.Name] {
			switch {
			case cfg.Secret:
				if out.Secrets == nil {
					out.Secrets = map[string][]string{}
				}
				out.Secrets[env.Name] = append(out.Secrets[env.Name], cfg.Key)
			case cfg.Value != nil:
				if out.Configs == nil {
					out.Configs = map[string]map[string]string{}
				}
				if out.Configs[env.Name] == nil {
					out.Configs[env.Name] = map[string]string{}
				}
				out.Configs[env.Name][cfg.Key] = *cfg.Value
			}
		}
	}
	return out
}
