package projectfile

import (
	"github.com/slipway-dev/slipway/api"
	"github.com/slipway-dev/slipway/scan"
)

// APIVersion is the only apiVersion a file may have.
const APIVersion = "slipway.dev/v1"

// File is a projects-as-code file: the projects it declares, as Parse read them or Export made them. The zero
// File declares nothing.
type File struct {
	// Projects are the declared projects; Diff and Apply touch these and no others.
	Projects []Project

	// name is the file's name in errors; "" for a File that Export made.
	name string
	// lines maps a field's path (as in errors, "projects[0].components[1].repo") to its line in the file; nil
	// for a File that Export made.
	lines map[string]int
}

// Project is a declared project. The zero value of a field is the API's default.
type Project struct {
	// Name is the project's name, a DNS-1123 label; required.
	Name string
	// ScanPolicy decides which scan findings stop the project's builds; zero is the default policy.
	ScanPolicy scan.Policy
	// Environments are the project's environments in promotion order; empty declares none (the project keeps
	// the ones it has, and a new one gets the API's development and production).
	Environments []Environment
	// Components are the project's components; empty declares none.
	Components []Component

	// path is the project's place in the file, "projects[0]"; "" for a File that Export made.
	path string
}

// Environment is a declared environment of a project. The zero value of a field is the API's default.
type Environment struct {
	// Name is the environment's name, a DNS-1123 label unique in the project; required.
	Name string
	// Production marks a production environment; false means not production (creating or changing one needs an
	// admin token).
	Production bool
	// Replicas is how many instances of each release run; zero means one.
	Replicas int
	// CPUs limits each instance, in steps of 0.001; zero means no limit.
	CPUs float64
	// MemoryBytes limits each instance; zero means no limit.
	MemoryBytes int64
	// DeployTimeoutSeconds is how long a release may take to get ready; zero means the worker's default.
	DeployTimeoutSeconds int
	// DataPlane is where releases run, DataPlaneDocker or DataPlaneKubernetes; "" means docker.
	DataPlane string
	// Kubernetes is how a kubernetes data plane is reached; nil means the API's defaults. Only with
	// DataPlaneKubernetes. The kubeconfig is a secret and never in a file.
	Kubernetes *Kubernetes

	path string
}

// Data planes of an Environment.
const (
	DataPlaneDocker     = "docker"
	DataPlaneKubernetes = "kubernetes"
)

// Kubernetes is how a kubernetes environment reaches its cluster. The zero value of a field is the API's default.
type Kubernetes struct {
	// Context is the kubeconfig context used; "" means the kubeconfig's current context.
	Context string
	// InCluster uses the worker's own service account instead of a kubeconfig; false means the kubeconfig.
	InCluster bool
	// Namespace is where releases run; "" means "slipway-<project>-<environment>".
	Namespace string
	// IngressNamespaces are the namespaces whose pods may reach the environment's; empty means none.
	IngressNamespaces []string
	// MaxSurge is how many instances a rolling update may add; nil means 1.
	MaxSurge *int
	// MaxUnavailable is how many instances a rolling update may take down; nil means 0.
	MaxUnavailable *int
}

// Component is a declared component of a project. The zero value of a field is the API's default.
type Component struct {
	// Name is the component's name, a DNS-1123 label unique in the project; required.
	Name string
	// Repo is the Git repository URL; required.
	Repo string
	// Branch is the deployment track; "" means "main".
	Branch string
	// Dockerfile is the Dockerfile's path in the repository; "" means "Dockerfile".
	Dockerfile string
	// Context is the build context directory in the repository; "" means ".".
	Context string
	// Type is what the component is (service, web-app, scheduled-task, manual-task); "" means "service".
	Type string
	// Paths filters auto-builds; empty means every push builds.
	Paths []string
	// AutoBuild builds every new commit pushed to Branch; false means builds are started by hand.
	AutoBuild bool
	// AutoDeploy deploys every successful build to the first environment; false means deploys are by hand.
	AutoDeploy bool
	// Configs are the non-secret configs, environment name → key → value; nil declares none.
	Configs map[string]map[string]string
	// Secrets are the keys of the secrets that must be set, environment name → keys; their values are never in a
	// file. Nil declares none.
	Secrets map[string][]string

	path string
}

// Component defaults, as the API fills them in.
const (
	defaultBranch     = "main"
	defaultDockerfile = "Dockerfile"
	defaultContext    = "."
	defaultType       = api.ComponentService
)
