package server

import (
	"context"
	"errors"
	"fmt"
	"regexp"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/slipway-dev/slipway/api"
	"github.com/slipway-dev/slipway/dataplane/kubernetes"
	"github.com/slipway-dev/slipway/secretbox"
	"github.com/slipway-dev/slipway/store"
)

// yamlLineRE finds the line number in a YAML parse error, the only part of such an error safe to repeat: the rest
// may quote the kubeconfig, which holds credentials.
var yamlLineRE = regexp.MustCompile(`line \d+`)

// parseKubeconfig parses a kubeconfig given to PATCH environment, or answers 422 saying why it does not parse
// without repeating any of its content.
func parseKubeconfig(content string) (*clientcmdapi.Config, *APIError) {
	cfg, err := clientcmd.Load([]byte(content))
	if err != nil {
		where := ""
		if m := yamlLineRE.FindString(err.Error()); m != "" {
			where = " (at " + m + ")"
		}
		return nil, invalid("kubeconfig", "kubeconfig is not a kubeconfig: it does not parse as one%s", where)
	}
	return cfg, nil
}

// checkKubeContext answers 422 unless cfg has the context named (its current context when name is "") and that
// context's cluster, with a server address, and user. The names it gives are names, never credentials.
func checkKubeContext(cfg *clientcmdapi.Config, name string) *APIError {
	if name == "" {
		name = cfg.CurrentContext
		if name == "" {
			return invalid("kubeconfig", "kubeconfig has no current-context: set kubernetes.context to one of its contexts")
		}
	}
	ctx, ok := cfg.Contexts[name]
	if !ok || ctx == nil {
		return invalid("kubeconfig", "kubeconfig has no context %q", name)
	}
	cluster, ok := cfg.Clusters[ctx.Cluster]
	switch {
	case !ok || cluster == nil:
		return invalid("kubeconfig", "context %q of the kubeconfig names cluster %q, which the kubeconfig lacks", name, ctx.Cluster)
	case cluster.Server == "":
		return invalid("kubeconfig", "cluster %q of the kubeconfig has no server address", ctx.Cluster)
	}
	if user, ok := cfg.AuthInfos[ctx.AuthInfo]; !ok || user == nil {
		return invalid("kubeconfig", "context %q of the kubeconfig names user %q, which the kubeconfig lacks", name, ctx.AuthInfo)
	}
	if err := kubernetes.CheckCredentials(cfg, name); err != nil {
		return invalid("kubeconfig", "%s", err)
	}
	return nil
}

// kubeconfigChange is what a PATCH does to an environment's kubeconfig, worked out before anything is stored.
type kubeconfigChange struct {
	// given is the request's kubeconfig, parsed; nil when it has none or deletes it.
	given *clientcmdapi.Config
	// sealed is given, sealed for the environment.
	sealed secretbox.Sealed
	// remove says the request deletes the stored kubeconfig: "kubeconfig": "", or a data plane other than kubernetes.
	remove bool
	// stored is the kubeconfig stored now, parsed, when the request changes the binding without giving one;
	// nil when none is stored or the request does not change the binding.
	stored *clientcmdapi.Config
}

// kubeconfigChange parses and seals the request's kubeconfig, or reads the stored one when the request changes how
// the cluster is reached without giving one, so that apply can check the context used against it.
func (s *Server) kubeconfigChange(ctx context.Context, project, env string, req api.EnvironmentUpdate) (kubeconfigChange, error) {
	kc := kubeconfigChange{remove: req.DataPlane != nil && *req.DataPlane != store.DataPlaneKubernetes}
	switch {
	case req.Kubeconfig != nil && *req.Kubeconfig == "":
		kc.remove = true
	case req.Kubeconfig != nil:
		cfg, apiErr := parseKubeconfig(*req.Kubeconfig)
		if apiErr != nil {
			return kc, apiErr
		}
		sealed, err := s.keys.Seal(store.KubeconfigAAD(project, env), []byte(*req.Kubeconfig))
		if err != nil {
			return kc, fmt.Errorf("sealing the kubeconfig of environment %s/%s: %w", project, env, err)
		}
		kc.given, kc.sealed = cfg, sealed
	case req.Kubernetes != nil: // the context used may change: check it against the stored kubeconfig
		sealed, err := s.store.GetKubeconfig(ctx, project, env)
		if errors.Is(err, store.ErrNotFound) {
			return kc, nil // no kubeconfig stored, or no such environment: UpdateEnvironment says which
		}
		if err != nil {
			return kc, err
		}
		plain, err := s.keys.Open(store.KubeconfigAAD(project, env), sealed)
		if err != nil {
			return kc, fmt.Errorf("opening the kubeconfig of environment %s/%s: %w", project, env, err)
		}
		cfg, apiErr := parseKubeconfig(string(plain))
		if apiErr != nil {
			return kc, fmt.Errorf("the stored kubeconfig of environment %s/%s does not parse", project, env)
		}
		kc.stored = cfg
	}
	return kc, nil
}

// apply makes the request's data-plane changes to e, inside UpdateEnvironment, and answers 422 when the result
// cannot reach its cluster: kubernetes needs inCluster or a kubeconfig with the context used.
func (kc kubeconfigChange) apply(e *store.Environment, req api.EnvironmentUpdate) error {
	if req.DataPlane != nil {
		e.DataPlane = *req.DataPlane
		if e.DataPlane != store.DataPlaneKubernetes {
			e.Kubernetes = nil // docker, or invalid: the store says which
		}
	}
	if req.Kubernetes != nil {
		k := store.KubernetesBinding{}
		if e.Kubernetes != nil {
			k = *e.Kubernetes
		}
		applyKubernetes(*req.Kubernetes, &k)
		e.Kubernetes = &k
	}
	if e.DataPlane != store.DataPlaneKubernetes {
		if kc.given != nil {
			return invalid("kubeconfig", "a kubeconfig is only for the %q data plane; environment %s is on %q",
				store.DataPlaneKubernetes, e.Name, e.DataPlane)
		}
		return nil
	}
	if e.Kubernetes == nil {
		e.Kubernetes = &store.KubernetesBinding{}
	}
	if !e.Kubernetes.InCluster && !kc.has(*e) {
		return invalid("kubeconfig", "environment %s on kubernetes needs a kubeconfig or inCluster", e.Name)
	}
	cfg := kc.given
	if cfg == nil && !kc.remove {
		cfg = kc.stored
	}
	if cfg != nil {
		if apiErr := checkKubeContext(cfg, e.Kubernetes.Context); apiErr != nil {
			return apiErr
		}
	}
	return nil
}

// has says whether e has a kubeconfig once the change is stored.
func (kc kubeconfigChange) has(e store.Environment) bool {
	switch {
	case e.DataPlane != store.DataPlaneKubernetes || kc.remove:
		return false
	case kc.given != nil:
		return true
	}
	return e.Kubernetes != nil && e.Kubernetes.HasKubeconfig
}

// save puts or deletes the environment's kubeconfig as the change says, once the environment is updated.
func (kc kubeconfigChange) save(ctx context.Context, st *store.Store, project, name string) error {
	switch {
	case kc.given != nil:
		return st.PutKubeconfig(ctx, project, name, kc.sealed)
	case kc.remove:
		if err := st.DeleteKubeconfig(ctx, project, name); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
	}
	return nil
}
