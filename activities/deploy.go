package activities

import (
	"context"
	"errors"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/slipway-dev/slipway/api"
	"github.com/slipway-dev/slipway/dataplane"
	"github.com/slipway-dev/slipway/dataplane/kubernetes"
	"github.com/slipway-dev/slipway/delivery"
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
	GetComponent(ctx context.Context, project, name string) (store.Component, error)
	CreateTaskRun(ctx context.Context, r store.TaskRun) (store.TaskRun, error)
	GetTaskRun(ctx context.Context, id string) (store.TaskRun, error)
	UpdateTaskRun(ctx context.Context, id string, update func(*store.TaskRun) error) (store.TaskRun, error)
	AppendTaskRunLog(ctx context.Context, id string, texts ...string) error
	TaskRunLog(ctx context.Context, id string, after int64, limit int) ([]store.LogLine, error)
	Quarantines(ctx context.Context, ids ...string) (map[string]api.Quarantine, error)
	HoldPromotion(ctx context.Context, project, component, environment string, h api.Hold) (api.Hold, error)
	AppendAudit(ctx context.Context, e store.AuditEntry) (store.AuditEntry, error)
	ListDeployments(ctx context.Context, project, component, environment string, limit int) ([]store.Deployment, error)
	VerifyDeployment(ctx context.Context, id, state, msg string) (store.Deployment, error)
	RollBackDeployment(ctx context.Context, id, msg string) (store.Deployment, error)
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

// drainTimeout is DrainTimeout, 30 seconds when zero.
func (d *Deploys) drainTimeout() time.Duration { return orDefault(d.DrainTimeout, 30*time.Second) }

// autoActor is the actor of the deployments builds queue of themselves (auto-deploy).
const autoActor = delivery.AutoActor

// queue is the deployment use case over the activities' store and Temporal client.
func (d *Deploys) queue() *delivery.Deploys {
	q := &delivery.Deploys{Store: d.Store}
	if d.Temporal != nil {
		q.Temporal = d.Temporal
	}
	return q
}

// CheckRequired fails, non-retryably, naming every config and secret the build's descriptor requires
// that the environment lacks, and refuses (ErrTypeAutoDeployToProduction) an auto-deploy whose environment
// is a production one by now (it was flagged or moved after the deployment was queued); see
// delivery.Deploys.CheckQueued. It names the data plane the environment is on, where the rollout goes.
func (d *Deploys) CheckRequired(ctx context.Context, in workflows.CheckRequiredInput) (workflows.CheckRequiredResult, error) {
	if err := d.queue().CheckQueued(ctx, in.BuildID, in.DeploymentID, in.Environment); err != nil {
		return workflows.CheckRequiredResult{}, asActivityError(err)
	}
	env, err := d.environment(ctx, in.Project, in.Environment)
	if err != nil {
		return workflows.CheckRequiredResult{}, err
	}
	return workflows.CheckRequiredResult{DataPlane: plane(env.DataPlane)}, nil
}

// RequestDeploy queues the deployment of a build (pushed, about to be recorded succeeded) to the
// project's first environment, after checking that environment is not a production one (refused with
// ErrTypeAutoDeployToProduction, nothing recorded or queued: a build never deploys itself there) and has
// every value the build requires: a missing one fails the build, naming it, rather than the release at
// runtime. Repeating it queues the same deployment again, which then finds it ended or runs it once.
func (d *Deploys) RequestDeploy(ctx context.Context, in workflows.RequestDeployInput) (workflows.RequestDeployResult, error) {
	dep, err := d.queue().AutoDeploy(ctx, in.Project, in.Component, in.BuildID, in.Digest)
	if err != nil {
		return workflows.RequestDeployResult{}, asActivityError(err)
	}
	return workflows.RequestDeployResult{DeploymentID: dep.ID, Environment: dep.Environment}, nil
}

// asActivityError turns a use case's refusal into the non-retryable error of its stable type; other
// errors (the store, Temporal) stay retryable.
func asActivityError(err error) error {
	var refused *delivery.Error
	if !errors.As(err, &refused) {
		return err
	}
	typ := map[string]string{
		delivery.CodeNotDeployable:          ErrTypeNotDeployable,
		delivery.CodeNoEnvironment:          ErrTypeNotDeployable,
		delivery.CodeQuarantined:            ErrTypeNotDeployable,
		delivery.CodeMissingConfig:          ErrTypeMissingConfig,
		delivery.CodeAutoDeployToProduction: ErrTypeAutoDeployToProduction,
	}[refused.Code]
	if typ == "" {
		return err
	}
	return temporal.NewNonRetryableApplicationError(refused.Message, typ, refused.Err)
}

// FailDeployment records a deployment that ended before or in its rollout with an error.
func (d *Deploys) FailDeployment(ctx context.Context, in workflows.FailDeploymentInput) error {
	_, err := d.Store.UpdateDeployment(ctx, in.DeploymentID, func(dep *store.Deployment) error {
		now := time.Now().UTC()
		dep.Status, dep.Message, dep.EndedAt = api.DeploymentFailed, in.Message, &now
		return nil
	})
	if errors.Is(err, store.ErrInvalid) {
		return nil // already ended
	}
	return err
}
