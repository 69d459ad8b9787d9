package server

import (
	"context"
	"errors"
	"fmt"

	"github.com/slipway-dev/slipway/api"
	"github.com/slipway-dev/slipway/delivery"
	"github.com/slipway-dev/slipway/secretbox"
	"github.com/slipway-dev/slipway/store"
)

// kubeconfigChange is what a PATCH does to an environment's kubeconfig, worked out before anything is stored.
type kubeconfigChange struct {
	// given is the request's kubeconfig, parsed; nil when it has none or deletes it.
	given *delivery.Kubeconfig
	// sealed is given, sealed for the environment.
	sealed secretbox.Sealed
	// remove says the request deletes the stored kubeconfig: "kubeconfig": "", or a data plane other than kubernetes.
	remove bool
	// stored is the kubeconfig stored now, parsed, when the request changes the binding without giving one;
	// nil when none is stored or the request does not change the binding.
	stored *delivery.Kubeconfig
}

// kubeconfigChange parses and seals the request's kubeconfig, or reads the stored one when the request changes how
// the cluster is reached without giving one, so that apply can check the context used against it.
func (s *Server) kubeconfigChange(ctx context.Context, project, env string, req api.EnvironmentUpdate) (kubeconfigChange, error) {
	kc := kubeconfigChange{remove: req.DataPlane != nil && *req.DataPlane != store.DataPlaneKubernetes}
	switch {
	case req.Kubeconfig != nil && *req.Kubeconfig == "":
		kc.remove = true
	case req.Kubeconfig != nil:
		cfg, err := delivery.ParseKubeconfig(*req.Kubeconfig)
		if err != nil {
			return kc, err
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
		cfg, err := delivery.ParseKubeconfig(string(plain))
		if err != nil {
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
		if err := cfg.CheckContext(e.Kubernetes.Context); err != nil {
			return err
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
