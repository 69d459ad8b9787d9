package api

import "time"

// EnvironmentRequest is the body of POST /api/v1/projects/{p}/environments; the new environment goes last in the
// promotion order.
type EnvironmentRequest struct {
	// Name is the environment's name, unique in the project; required.
	Name string `json:"name"`
	// Production marks a production environment (creating one needs an admin token); false means not production.
	Production bool `json:"production"`
	// Replicas is how many instances of each release run; zero means one.
	Replicas int `json:"replicas"`
	// CPUs limits each instance; zero means no limit.
	CPUs float64 `json:"cpus"`
	// MemoryBytes limits each instance; zero means no limit.
	MemoryBytes int64 `json:"memoryBytes"`
}

// EnvironmentUpdate is the body of PATCH /api/v1/projects/{p}/environments/{e}: a nil (absent) field stays as it
// is. Running releases take the new settings at their next deployment.
type EnvironmentUpdate struct {
	// Production sets whether the environment is production; setting it, either way, needs an admin token.
	Production *bool `json:"production"`
	// Replicas sets how many instances of each release run; zero means one.
	Replicas *int `json:"replicas"`
	// CPUs sets each instance's CPU limit; zero means no limit.
	CPUs *float64 `json:"cpus"`
	// MemoryBytes sets each instance's memory limit; zero means no limit.
	MemoryBytes *int64 `json:"memoryBytes"`
	// DataPlane sets where releases run, "docker" or "kubernetes"; needs an admin token. Switching to "docker"
	// drops the kubernetes binding and deletes the kubeconfig.
	DataPlane *string `json:"dataPlane"`
	// Kubernetes changes how a kubernetes data plane is reached; needs an admin token.
	Kubernetes *KubernetesUpdate `json:"kubernetes"`
	// Kubeconfig is the kubeconfig's YAML, sealed and never shown again; "" deletes the stored one. Needs an
	// admin token.
	Kubeconfig *string `json:"kubeconfig"`
	// DeployTimeoutSeconds sets how long a release may take to get ready; zero means the worker's default.
	DeployTimeoutSeconds *int `json:"deployTimeoutSeconds"`
	// ReleaseRulesUpdate sets the environment's release rules (approval, freezeWindows, freezeMode, stopped).
	ReleaseRulesUpdate
}

// KubernetesUpdate changes an environment's KubernetesBinding: a nil (absent) field stays as it is.
type KubernetesUpdate struct {
	// Context sets the kubeconfig context used; "" means the kubeconfig's current context.
	Context *string `json:"context"`
	// InCluster sets whether the worker's own service account is used instead of a kubeconfig.
	InCluster *bool `json:"inCluster"`
	// Namespace sets where releases run; "" means "slipway-<project>-<environment>".
	Namespace *string `json:"namespace"`
	// IngressNamespaces sets the namespaces whose pods may reach the environment's; [] means none.
	IngressNamespaces *[]string `json:"ingressNamespaces"`
	// MaxSurge sets how many instances a rolling update may add.
	MaxSurge *int `json:"maxSurge"`
	// MaxUnavailable sets how many instances a rolling update may take down.
	MaxUnavailable *int `json:"maxUnavailable"`
}

// EnvironmentOrder is the body of PUT /api/v1/projects/{p}/environments/order.
type EnvironmentOrder struct {
	// Order names every environment of the project exactly once, in the new promotion order; required.
	Order []string `json:"order"`
}

// Environment is an environment of a project as the API shows it.
type Environment struct {
	// Name is unique within the project.
	Name string `json:"name"`
	// Production marks a production environment; false means not production.
	Production bool `json:"production"`
	// Position is the 0-based place in the project's promotion order.
	Position int `json:"position"`
	// Replicas is how many instances of each release run here; zero means one.
	Replicas int `json:"replicas"`
	// CPUs limits each instance; zero (and absent) means no limit.
	CPUs float64 `json:"cpus,omitempty"`
	// MemoryBytes limits each instance; zero (and absent) means no limit.
	MemoryBytes int64 `json:"memoryBytes,omitempty"`
	// DataPlane is where the releases run: "docker" (the worker's Docker Engine) or "kubernetes".
	DataPlane string `json:"dataPlane"`
	// Kubernetes is how a kubernetes data plane is reached; nil (and absent) for docker.
	Kubernetes *KubernetesBinding `json:"kubernetes,omitempty"`
	// DeployTimeoutSeconds is how long a release may take to get ready here; zero (and absent) means the
	// worker's --ready-timeout.
	DeployTimeoutSeconds int `json:"deployTimeoutSeconds,omitempty"`
	// ReleaseRules are the environment's approval rule, freeze windows and stopped line.
	ReleaseRules
	// ApprovalRequired says promotions and deploys into the environment wait for MinApprovals approvals (the
	// effective rule: Approval's, or the default).
	ApprovalRequired bool `json:"approvalRequired"`
	// CreatedAt is when the environment was created (UTC).
	CreatedAt time.Time `json:"createdAt"`
}

// KubernetesBinding is the cluster a kubernetes environment deploys to. Its kubeconfig is never shown, only
// whether one is stored.
type KubernetesBinding struct {
	// Context is the kubeconfig context used; "" (and absent) means the kubeconfig's current context.
	Context string `json:"context,omitempty"`
	// InCluster says the worker's own service account is used instead of a kubeconfig; false (and absent)
	// means the kubeconfig.
	InCluster bool `json:"inCluster,omitempty"`
	// Namespace is where the releases run; "" (and absent) means "slipway-<project>-<environment>".
	Namespace string `json:"namespace,omitempty"`
	// IngressNamespaces are the namespaces besides its own whose pods may reach the environment's pods;
	// empty (and absent) means none.
	IngressNamespaces []string `json:"ingressNamespaces,omitempty"`
	// MaxSurge shapes rolling updates; nil (and absent) means 1.
	MaxSurge *int `json:"maxSurge,omitempty"`
	// MaxUnavailable shapes rolling updates; nil (and absent) means 0.
	MaxUnavailable *int `json:"maxUnavailable,omitempty"`
	// HasKubeconfig says a kubeconfig is stored for the environment.
	HasKubeconfig bool `json:"hasKubeconfig"`
}
