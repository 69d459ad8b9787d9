package projectfile

import (
	"bytes"
	"fmt"

	"gopkg.in/yaml.v3"
)

// exportHeader opens every file Marshal writes.
const exportHeader = "# slipway projects as code: apply with `slipway apply -f FILE`.\n" +
	"# Secrets are listed by key only; set their values with `slipway secret set`. Kubeconfigs are never in it.\n"

// Marshal is f as YAML, in the format Parse reads; fields at the API's defaults are left out.
func (f *File) Marshal() ([]byte, error) {
	out := fileYAML{APIVersion: APIVersion}
	for _, p := range f.Projects {
		py := projectYAML{Name: p.Name}
		if pol := p.ScanPolicy; pol.FailOn != "" || pol.AllowSecrets || pol.RequireVulnDB {
			py.ScanPolicy = &policyYAML{FailOn: pol.FailOn, AllowSecrets: pol.AllowSecrets, RequireVulnDB: pol.RequireVulnDB}
		}
		for _, e := range p.Environments {
			ey := environmentYAML{Name: e.Name, Production: e.Production, Replicas: e.Replicas, CPUs: e.CPUs,
				MemoryBytes: e.MemoryBytes, DeployTimeoutSeconds: e.DeployTimeoutSeconds, DataPlane: e.DataPlane}
			if e.DataPlane == DataPlaneDocker {
				ey.DataPlane = ""
			}
			if k := e.Kubernetes; k != nil {
				ey.Kubernetes = &kubernetesYAML{Context: k.Context, InCluster: k.InCluster, Namespace: k.Namespace,
					IngressNamespaces: k.IngressNamespaces, MaxSurge: k.MaxSurge, MaxUnavailable: k.MaxUnavailable}
			}
			py.Environments = append(py.Environments, ey)
		}
		for _, c := range p.Components {
			py.Components = append(py.Components, componentYAML{Name: c.Name, Repo: c.Repo, Branch: c.Branch,
				Dockerfile: c.Dockerfile, Context: c.Context, Type: c.Type, Paths: c.Paths, AutoBuild: c.AutoBuild, AutoDeploy: c.AutoDeploy,
				Configs: c.Configs, Secrets: c.Secrets})
		}
		out.Projects = append(out.Projects, py)
	}
	var b bytes.Buffer
	b.WriteString(exportHeader)
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(out); err != nil {
		return nil, fmt.Errorf("encoding the projects as YAML: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encoding the projects as YAML: %w", err)
	}
	return b.Bytes(), nil
}

// The shapes Marshal encodes, field for field the format Parse reads.
type (
	fileYAML struct {
		APIVersion string        `yaml:"apiVersion"`
		Projects   []projectYAML `yaml:"projects"`
	}
	projectYAML struct {
		Name         string            `yaml:"name"`
		ScanPolicy   *policyYAML       `yaml:"scanPolicy,omitempty"`
		Environments []environmentYAML `yaml:"environments,omitempty"`
		Components   []componentYAML   `yaml:"components,omitempty"`
	}
	policyYAML struct {
		FailOn        string `yaml:"failOn,omitempty"`
		AllowSecrets  bool   `yaml:"allowSecrets,omitempty"`
		RequireVulnDB bool   `yaml:"requireVulnDB,omitempty"`
	}
	environmentYAML struct {
		Name                 string          `yaml:"name"`
		Production           bool            `yaml:"production,omitempty"`
		Replicas             int             `yaml:"replicas,omitempty"`
		CPUs                 float64         `yaml:"cpus,omitempty"`
		MemoryBytes          int64           `yaml:"memoryBytes,omitempty"`
		DeployTimeoutSeconds int             `yaml:"deployTimeoutSeconds,omitempty"`
		DataPlane            string          `yaml:"dataPlane,omitempty"`
		Kubernetes           *kubernetesYAML `yaml:"kubernetes,omitempty"`
	}
	kubernetesYAML struct {
		Context           string   `yaml:"context,omitempty"`
		InCluster         bool     `yaml:"inCluster,omitempty"`
		Namespace         string   `yaml:"namespace,omitempty"`
		IngressNamespaces []string `yaml:"ingressNamespaces,omitempty,flow"`
		MaxSurge          *int     `yaml:"maxSurge,omitempty"`
		MaxUnavailable    *int     `yaml:"maxUnavailable,omitempty"`
	}
	componentYAML struct {
		Name       string                       `yaml:"name"`
		Repo       string                       `yaml:"repo"`
		Branch     string                       `yaml:"branch,omitempty"`
		Dockerfile string                       `yaml:"dockerfile,omitempty"`
		Context    string                       `yaml:"context,omitempty"`
		Type       string                       `yaml:"type,omitempty"`
		Paths      []string                     `yaml:"paths,omitempty,flow"`
		AutoBuild  bool                         `yaml:"autoBuild,omitempty"`
		AutoDeploy bool                         `yaml:"autoDeploy,omitempty"`
		Configs    map[string]map[string]string `yaml:"configs,omitempty"`
		Secrets    map[string][]string          `yaml:"secrets,omitempty"`
	}
)
