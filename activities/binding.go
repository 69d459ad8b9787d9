package activities

import (
	"context"
	"errors"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/slipway-dev/slipway/dataplane"
	"github.com/slipway-dev/slipway/dataplane/kubernetes"
	"github.com/slipway-dev/slipway/delivery"
	"github.com/slipway-dev/slipway/store"
)

// environment reads the environment a deployment goes to; one the project lacks fails non-retryably
// (ErrTypeNotDeployable).
func (d *Deploys) environment(ctx context.Context, project, name string) (store.Environment, error) {
	env, err := delivery.Environment(ctx, d.Store, project, name)
	return env, asActivityError(err)
}

// plane is a data plane's name, "" (recorded before there was a choice) being docker.
func plane(name string) string {
	if name == "" {
		return store.DataPlaneDocker
	}
	return name
}

// DriverFor returns the data plane the environment is bound to; a kubernetes one judges rollouts
// against timeout as their progress deadline.
func (d *Deploys) DriverFor(ctx context.Context, env store.Environment, timeout time.Duration) (dataplane.Driver, error) {
	if env.DataPlane != store.DataPlaneKubernetes {
		if d.Driver == nil {
			return nil, temporal.NewNonRetryableApplicationError("this worker has no data plane (no Docker Engine answered when it started)", ErrTypeNoDataPlane, nil)
		}
		return d.Driver, nil
	}
	drv, err := d.cluster(ctx, env, timeout)
	if err != nil {
		return nil, err // not a nil *kubernetes.Driver in a non-nil Driver
	}
	return drv, nil
}

// cluster returns the driver of the cluster a kubernetes environment is bound to, its kubeconfig
// decrypted; it judges rollouts against timeout as their progress deadline (zero: two minutes).
func (d *Deploys) cluster(ctx context.Context, env store.Environment, timeout time.Duration) (*kubernetes.Driver, error) {
	if d.Kubernetes == nil {
		return nil, temporal.NewNonRetryableApplicationError("this worker does not deploy to Kubernetes", ErrTypeNoDataPlane, nil)
	}
	b := kubernetes.Binding{ProgressDeadline: timeout}
	if k := env.Kubernetes; k != nil {
		b.Context, b.InCluster, b.Namespace, b.IngressNamespaces = k.Context, k.InCluster, k.Namespace, k.IngressNamespaces
		b.MaxSurge, b.MaxUnavailable = k.MaxSurge, k.MaxUnavailable
	}
	if !b.InCluster {
		sealed, err := d.Store.GetKubeconfig(ctx, env.Project, env.Name)
		if errors.Is(err, store.ErrNotFound) {
			return nil, temporal.NewNonRetryableApplicationError("environment "+env.Name+" on kubernetes has no kubeconfig", ErrTypeNoDataPlane, err)
		}
		if err != nil {
			return nil, err
		}
		if b.Kubeconfig, err = d.Keyring.Open(store.KubeconfigAAD(env.Project, env.Name), sealed); err != nil {
			return nil, temporal.NewNonRetryableApplicationError("the kubeconfig of environment "+env.Name+" cannot be decrypted", ErrTypeUndecryptable, err)
		}
	}
	drv, err := d.Kubernetes.Driver(b)
	if err != nil {
		return nil, temporal.NewNonRetryableApplicationError("environment "+env.Name+": "+err.Error(), ErrTypeNoDataPlane, nil)
	}
	return drv, nil
}
