package activities

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/slipway-dev/slipway/dataplane"
	"github.com/slipway-dev/slipway/dataplane/kubernetes"
	"github.com/slipway-dev/slipway/descriptor"
	"github.com/slipway-dev/slipway/entry"
	"github.com/slipway-dev/slipway/gitcred"
	"github.com/slipway-dev/slipway/secretbox"
	"github.com/slipway-dev/slipway/store"
	"github.com/slipway-dev/slipway/workflows"
)

// Stable types of the deploy activities' non-retryable errors.
const (
	// ErrTypeMissingConfig means the environment lacks configs or secrets the build requires; the
	// message names every one.
	ErrTypeMissingConfig = "MissingConfig"
	// ErrTypeNotDeployable means the build cannot be deployed: it did not succeed, or has no image.
	ErrTypeNotDeployable = "NotDeployable"
	// ErrTypeNoDataPlane means this worker has no data plane to deploy to (no Docker Engine answered).
	ErrTypeNoDataPlane = "NoDataPlane"
	// ErrTypeDataPlaneRefused means the data plane refused the release for good: it is invalid there, or
	// slipway may not touch what it would have to (RBAC), or it belongs to another environment.
	ErrTypeDataPlaneRefused = "DataPlaneRefused"
	// ErrTypeAutoDeployToProduction means a build's auto-deploy would have gone into a production environment,
	// which it never does: only an admin deploys or promotes there. The message names the environment.
	ErrTypeAutoDeployToProduction = "AutoDeployToProduction"
)

// DeployStore is the part of the metadata store the deploy activities use.
type DeployStore interface {
	GetBuild(ctx context.Context, id string) (store.Build, error)
	ListConfigs(ctx context.Context, project, component, environment string) ([]store.ConfigValue, error)
	GetDeployment(ctx context.Context, id string) (store.Deployment, error)
	GetKubeconfig(ctx context.Context, project, environment string) (secretbox.Sealed, error)
	UpdateDeployment(ctx context.Context, id string, update func(*store.Deployment) error) (store.Deployment, error)
	CurrentDeployment(ctx context.Context, project, component, environment string) (store.Deployment, error)
	ListEnvironments(ctx context.Context, project string) ([]store.Environment, error)
	CreateDeployment(ctx context.Context, d store.Deployment) (store.Deployment, error)
	CurrentDeployments(ctx context.Context) ([]store.Deployment, error)
}

// Signaller queues deployments on their deploy workflows (client.Client).
type Signaller interface {
	SignalWithStartWorkflow(ctx context.Context, workflowID, signalName string, signalArg any,
		options client.StartWorkflowOptions, workflow any, workflowArgs ...any) (client.WorkflowRun, error)
}

// Deploys holds the deploy activities. Rollout runs on the worker whose Router serves the entries.
type Deploys struct {
	Store DeployStore
	// Keyring opens the environment's configs and secrets and its cluster's kubeconfig, and seals the
	// configs each release got (Deployment.ReleaseConfig), only inside the deploy activities.
	Keyring interface {
		gitcred.Opener
		gitcred.Sealer
	}
	// Driver is the data plane of environments on "docker"; nil fails their rollouts with
	// ErrTypeNoDataPlane.
	Driver dataplane.Driver
	// Kubernetes reaches the clusters of environments on "kubernetes"; nil fails their rollouts with
	// ErrTypeNoDataPlane.
	Kubernetes *kubernetes.Clients
	// Router serves the entry addresses.
	Router *entry.Router
	// Temporal queues the deployments builds ask for (RequestDeploy).
	Temporal Signaller
	// Registry is the host[:port] images are pulled from by digest.
	Registry string
	// ReadyTimeout is how long a release may take to get ready; zero means two minutes.
	ReadyTimeout time.Duration
	// DrainTimeout is how long requests to the old release may take to finish after the switch, and
	// the old containers to stop; zero means 30 seconds.
	DrainTimeout time.Duration
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// autoActor is the actor of the deployments builds queue of themselves (auto-deploy).
const autoActor = "auto"

// CheckRequired fails, non-retryably, naming every config and secret the build's descriptor requires
// that the environment lacks, and refuses (ErrTypeAutoDeployToProduction) an auto-deploy whose environment
// is a production one by now (it was flagged or moved after the deployment was queued).
func (d *Deploys) CheckRequired(ctx context.Context, in workflows.CheckRequiredInput) error {
	b, err := d.Store.GetBuild(ctx, in.BuildID)
	if errors.Is(err, store.ErrNotFound) {
		return temporal.NewNonRetryableApplicationError("build "+in.BuildID+" does not exist", ErrTypeNotDeployable, err)
	}
	if err != nil {
		return err
	}
	var dep store.Deployment
	if in.DeploymentID != "" {
		if dep, err = d.Store.GetDeployment(ctx, in.DeploymentID); err != nil {
			return err
		}
		if dep.Actor == autoActor {
			env, err := d.environment(ctx, b.Project, in.Environment)
			if err != nil {
				return err
			}
			if err := refuseProduction(env, b.ID); err != nil {
				return err
			}
		}
	}
	if b.Status == store.BuildQueued || b.Status == store.BuildRunning {
		// The build's own auto-deploy: it was queued once the image was pushed and the spec stored, and its
		// deployment records the digest; the build is recorded succeeded only after this step of its own.
		if dep.BuildID == b.ID && dep.Actor == autoActor && dep.Digest != "" {
			return d.checkConfigs(ctx, b, in.Environment)
		}
		return fmt.Errorf("build %s is still %s", b.ID, b.Status)
	}
	if b.Status != store.BuildSucceeded || b.Digest == "" {
		return temporal.NewNonRetryableApplicationError(fmt.Sprintf("build %s is %s: only a succeeded build is deployed", b.ID, b.Status), ErrTypeNotDeployable, nil)
	}
	return d.checkConfigs(ctx, b, in.Environment)
}

// checkConfigs fails, non-retryably, naming every value the build requires that the environment lacks.
func (d *Deploys) checkConfigs(ctx context.Context, b store.Build, environment string) error {
	values, err := d.Store.ListConfigs(ctx, b.Project, b.Component, environment)
	if err != nil {
		return err
	}
	if missing := missingRequired(b.Descriptor, values); len(missing) > 0 {
		return temporal.NewNonRetryableApplicationError(fmt.Sprintf("environment %s lacks what build %s requires: %s",
			environment, b.ID, strings.Join(missing, ", ")), ErrTypeMissingConfig, nil)
	}
	return nil
}

// refuseProduction fails, non-retryably (ErrTypeAutoDeployToProduction), when env is a production environment:
// a build's auto-deploy never goes there, however the project's environments were set up or reordered.
func refuseProduction(env store.Environment, buildID string) error {
	if !env.Production {
		return nil
	}
	return temporal.NewNonRetryableApplicationError(fmt.Sprintf(
		"auto-deploy never deploys into production environment %s, so build %s was not deployed: an admin deploys or promotes it there "+
			"(put a non-production environment first to auto-deploy, or turn autoDeploy off)", env.Name, buildID),
		ErrTypeAutoDeployToProduction, nil)
}

// RequestDeploy queues the deployment of a build (pushed, about to be recorded succeeded) to the
// project's first environment, after checking that environment is not a production one (refused with
// ErrTypeAutoDeployToProduction, nothing recorded or queued: a build never deploys itself there) and has
// every value the build requires: a missing one fails the build, naming it, rather than the release at
// runtime. Repeating it queues the same deployment again, which then finds it ended or runs it once.
func (d *Deploys) RequestDeploy(ctx context.Context, in workflows.RequestDeployInput) (workflows.RequestDeployResult, error) {
	envs, err := d.Store.ListEnvironments(ctx, in.Project)
	if err != nil {
		return workflows.RequestDeployResult{}, err
	}
	if len(envs) == 0 {
		return workflows.RequestDeployResult{}, temporal.NewNonRetryableApplicationError("project "+in.Project+" has no environment", ErrTypeNotDeployable, nil)
	}
	env := envs[0].Name
	if err := refuseProduction(envs[0], in.BuildID); err != nil {
		return workflows.RequestDeployResult{}, err
	}
	b, err := d.Store.GetBuild(ctx, in.BuildID)
	if err != nil {
		return workflows.RequestDeployResult{}, err
	}
	if err := d.checkConfigs(ctx, b, env); err != nil {
		return workflows.RequestDeployResult{}, err
	}
	dep, err := d.Store.CreateDeployment(ctx, store.Deployment{ID: "d-auto-" + strings.TrimPrefix(b.ID, "b-"), Project: in.Project,
		Component: in.Component, Environment: env, BuildID: b.ID, Digest: in.Digest, Actor: autoActor})
	if errors.Is(err, store.ErrExists) {
		dep, err = d.Store.GetDeployment(ctx, "d-auto-"+strings.TrimPrefix(b.ID, "b-"))
	}
	if err != nil {
		return workflows.RequestDeployResult{}, err
	}
	id, opts, qin := workflows.DeployStart(dep.Project, dep.Component, dep.Environment)
	if _, err := d.Temporal.SignalWithStartWorkflow(ctx, id, workflows.SignalDeploy,
		workflows.DeployRequest{DeploymentID: dep.ID, BuildID: dep.BuildID}, opts, workflows.DeployQueue, qin); err != nil {
		return workflows.RequestDeployResult{}, fmt.Errorf("queueing deployment %s: %w", dep.ID, err)
	}
	return workflows.RequestDeployResult{DeploymentID: dep.ID, Environment: env}, nil
}

// missingRequired names the descriptor's required values the environment lacks, e.g. "GREETING (config)".
func missingRequired(desc *descriptor.Descriptor, values []store.ConfigValue) []string {
	if desc == nil {
		return nil
	}
	return desc.Missing(func(name string) bool {
		return slices.ContainsFunc(values, func(v store.ConfigValue) bool { return v.Key == name })
	})
}

// FailDeployment records a deployment that ended before or in its rollout with an error.
func (d *Deploys) FailDeployment(ctx context.Context, in workflows.FailDeploymentInput) error {
	_, err := d.Store.UpdateDeployment(ctx, in.DeploymentID, func(dep *store.Deployment) error {
		now := time.Now().UTC()
		dep.Status, dep.Message, dep.EndedAt = store.DeploymentFailed, in.Message, &now
		return nil
	})
	if errors.Is(err, store.ErrInvalid) {
		return nil // already ended
	}
	return err
}
