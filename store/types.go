package store

import (
	"time"

	"github.com/slipway-dev/slipway/api"
	"github.com/slipway-dev/slipway/scan"
	"github.com/slipway-dev/slipway/secretbox"
)

// Project groups components and owns the ordered list of environments they are promoted through.
type Project struct {
	// Name is the project's unique name; the store requires it to be non-empty.
	Name string `json:"name"`
	// ScanPolicy decides which scan findings stop the project's builds; zero is the default policy
	// (see scan.Policy).
	ScanPolicy scan.Policy `json:"scanPolicy"`
	// CreatedAt is when the project was created (UTC, microseconds). Zero on create means now.
	CreatedAt time.Time `json:"createdAt"`
}

// Environment is one deployment area of a project, in the project's promotion order.
type Environment struct {
	// Project names the project the environment belongs to.
	Project string `json:"-"`
	// Name is unique within the project; the store requires it to be non-empty.
	Name string `json:"name"`
	// Production marks a production environment; false means not production.
	Production bool `json:"production"`
	// Position is the 0-based place in the promotion order. It is assigned by the store: ignored on create.
	Position int `json:"position"`
	// Replicas is how many instances of each component's release run here; zero means 1.
	Replicas int `json:"replicas"`
	// CPUs and MemoryBytes limit each instance; zero means no limit. CPUs is kept to thousandths.
	CPUs        float64 `json:"cpus,omitempty"`
	MemoryBytes int64   `json:"memoryBytes,omitempty"`
	// DataPlane is where the environment's releases run: DataPlaneDocker ("docker", also what "" means) — the
	// worker's Docker Engine — or DataPlaneKubernetes ("kubernetes"). The store reads "" back as "docker".
	DataPlane string `json:"dataPlane"`
	// Kubernetes is how a "kubernetes" data plane is reached and what it runs with; nil for docker. The store
	// reads it back non-nil for kubernetes.
	Kubernetes *KubernetesBinding `json:"kubernetes,omitempty"`
	// DeployTimeoutSeconds is how long a release may take to get ready here; zero means the worker's
	// --ready-timeout. At most MaxDeployTimeoutSeconds.
	DeployTimeoutSeconds int `json:"deployTimeoutSeconds,omitempty"`
	// Rules are the environment's approval rule, freeze windows and freeze mode; zero means the defaults.
	// Rules.Stopped is read from the environment's stopped line (StopLine) and ignored on create and update.
	Rules ReleaseRules `json:"rules"`
	// CreatedAt is when the environment was created (UTC, microseconds). Zero on create means now.
	CreatedAt time.Time `json:"createdAt"`
}

// ReleaseRules are an environment's release rules (api.ReleaseRules).
type ReleaseRules = api.ReleaseRules

// Data planes an environment's releases run on.
const (
	// DataPlaneDocker is the worker's Docker Engine (Docker or Podman); "" means it too.
	DataPlaneDocker = "docker"
	// DataPlaneKubernetes is a Kubernetes cluster, reached as the environment's KubernetesBinding says.
	DataPlaneKubernetes = "kubernetes"
)

// KubernetesBinding is the cluster an environment deploys to. Its kubeconfig is stored apart, sealed
// (see Store.PutKubeconfig).
type KubernetesBinding struct {
	// Context is the kubeconfig context used; "" means the kubeconfig's current context.
	Context string `json:"context,omitempty"`
	// InCluster uses the worker's own service account instead of a kubeconfig; false means the kubeconfig.
	InCluster bool `json:"inCluster,omitempty"`
	// Namespace is where the environment's releases run (a DNS-1123 label); "" means
	// "slipway-<project>-<environment>".
	Namespace string `json:"namespace,omitempty"`
	// IngressNamespaces are the namespaces besides its own whose pods may reach the environment's pods (an
	// ingress controller's, say); nil means none.
	IngressNamespaces []string `json:"ingressNamespaces,omitempty"`
	// MaxSurge and MaxUnavailable shape rolling updates; nil means 1 and 0. Neither is negative and they are
	// not both 0.
	MaxSurge       *int `json:"maxSurge,omitempty"`
	MaxUnavailable *int `json:"maxUnavailable,omitempty"`
	// HasKubeconfig says a kubeconfig is stored (set by the store on read; ignored on write).
	HasKubeconfig bool `json:"hasKubeconfig"`
}

// KubeconfigAAD is the associated data an environment's kubeconfig is sealed with: it binds the ciphertext to its
// project and environment, so a sealed kubeconfig copied to another environment does not open.
func KubeconfigAAD(project, environment string) []byte {
	return secretbox.AAD("kubeconfig", project, environment)
}

// Component is one deployable unit of a project: a Git repository and branch and how to build its image.
type Component struct {
	// Project names the project the component belongs to.
	Project string `json:"project"`
	// Name is unique within the project; the store requires it to be non-empty.
	Name string `json:"name"`
	// Repo is the Git repository URL.
	Repo string `json:"repo"`
	// Branch is the deployment track.
	Branch string `json:"branch"`
	// Dockerfile is the path of the Dockerfile in the repo; "" means "Dockerfile".
	Dockerfile string `json:"dockerfile"`
	// Context is the build context directory in the repo; "" means ".".
	Context string `json:"context"`
	// AutoBuild builds every new commit on Branch; false means builds are triggered by hand.
	AutoBuild bool `json:"autoBuild"`
	// AutoDeploy deploys every successful build to the first environment; false means deploys are by hand.
	AutoDeploy bool `json:"autoDeploy"`
	// Paths filters auto-builds: a push builds only when a changed file matches one (a path.Match pattern, or
	// a directory ending in "/"). Nil means every push builds.
	Paths []string `json:"paths"`
	// Type is one of api's Component* types; "" is stored as api.ComponentService.
	Type string `json:"type"`
	// CreatedAt is set by the store on create (UTC, microseconds); ignored as input.
	CreatedAt time.Time `json:"createdAt"`
	// UpdatedAt is set by the store on create and moved forward by every update; ignored as input.
	UpdatedAt time.Time `json:"updatedAt"`
}

// ConfigValue is one config or secret of a component in an environment; the value is always encrypted at rest.
type ConfigValue struct {
	// Project, Component, Environment and Key say where the value belongs; all are required.
	Project, Component, Environment, Key string
	// Secret marks a value that the API never returns; false means a plain config value (still encrypted).
	Secret bool
	// Sealed is the encrypted value; the store requires KEKID, WrappedKey and Ciphertext to be non-empty.
	Sealed secretbox.Sealed
	// UpdatedAt is set by the store on every put and only ever moves forward; ignored as input.
	UpdatedAt time.Time
}

// ConfigAAD is the associated data every config value is sealed with: it binds the ciphertext to
// its project, component, environment and key, so a sealed value copied to another row does not open.
func ConfigAAD(project, component, environment, key string) []byte {
	return secretbox.AAD("config", project, component, environment, key)
}

// AAD returns ConfigAAD of the value's place.
func (v ConfigValue) AAD() []byte {
	return ConfigAAD(v.Project, v.Component, v.Environment, v.Key)
}

// Token is an API token as stored: only the SHA-256 hash of its secret is kept.
type Token struct {
	// ID identifies the token, e.g. "tok-…"; required.
	ID string
	// Name is unique among tokens; required.
	Name string
	// Role is "admin", "developer" or "viewer"; required, but not interpreted by the store.
	Role string
	// Hash is the SHA-256 of the token secret; required and unique.
	Hash []byte
	// CreatedAt is when the token was created (UTC, microseconds). Zero on create means now.
	CreatedAt time.Time
}
