package delivery

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/slipway-dev/slipway/api"
	"github.com/slipway-dev/slipway/store"
	"github.com/slipway-dev/slipway/workflows"
)

// AutoActor is the actor of the deployments builds queue of themselves (auto-deploy).
const AutoActor = "auto"

// DeployStore is the part of the metadata store queueing deployments uses.
type DeployStore interface {
	GetBuild(ctx context.Context, id string) (store.Build, error)
	ListConfigs(ctx context.Context, project, component, environment string) ([]store.ConfigValue, error)
	ListEnvironments(ctx context.Context, project string) ([]store.Environment, error)
	GetDeployment(ctx context.Context, id string) (store.Deployment, error)
	CreateDeployment(ctx context.Context, d store.Deployment) (store.Deployment, error)
	UpdateDeployment(ctx context.Context, id string, update func(*store.Deployment) error) (store.Deployment, error)
	Quarantines(ctx context.Context, ids ...string) (map[string]api.Quarantine, error)
	CurrentDeployment(ctx context.Context, project, component, environment string) (store.Deployment, error)
	HoldPromotion(ctx context.Context, project, component, environment string, h api.Hold) (api.Hold, error)
	AppendAudit(ctx context.Context, e store.AuditEntry) (store.AuditEntry, error)
}

// Signaller queues deployments on their environments' deploy workflows (client.Client).
type Signaller interface {
	SignalWithStartWorkflow(ctx context.Context, workflowID, signalName string, signalArg any,
		options client.StartWorkflowOptions, workflow any, workflowArgs ...any) (client.WorkflowRun, error)
}

// Deploys records deployments and queues them, one environment's at a time in order, on its DeployQueue
// workflow, after checking the build may go there. The zero Deploys is not usable: Store is required.
type Deploys struct {
	Store DeployStore
	// Temporal queues the deployments; nil refuses every deploy as Unavailable.
	Temporal Signaller
	// Log receives what a deploy does not return; nil means slog.Default().
	Log *slog.Logger
}

func (d *Deploys) log() *slog.Logger {
	if d.Log == nil {
		return slog.Default()
	}
	return d.Log
}

// MayDeployTo refuses (Forbidden) a caller that is not an admin when env is a production environment: every
// way into one — a manual deploy, a rollback or redeploy, a promotion — needs an admin. what names the way,
// e.g. "deploying".
func MayDeployTo(env store.Environment, admin bool, what string) error {
	if env.Production && !admin {
		return refuse(Forbidden, "forbidden", "", "%s is a production environment: %s there needs an admin token", env.Name, what)
	}
	return nil
}

// MayRequest refuses (MayDeployTo) a caller that is not an admin asking for a deploy into a production
// environment that does not need approvals: where approvals are required, a developer may ask, and the
// approvers decide.
func MayRequest(env store.Environment, admin bool, what string) error {
	if ApprovalOf(env).Required {
		return nil
	}
	return MayDeployTo(env, admin, what)
}

// refuseAutoToProduction refuses (CodeAutoDeployToProduction) when env is a production environment: a
// build's auto-deploy never goes there, however the project's environments were set up or reordered.
func refuseAutoToProduction(env store.Environment, buildID string) error {
	if !env.Production {
		return nil
	}
	return refuse(Forbidden, CodeAutoDeployToProduction, "",
		"auto-deploy never deploys into production environment %s, so build %s was not deployed: an admin deploys or promotes it there "+
			"(put a non-production environment first to auto-deploy, or turn autoDeploy off)", env.Name, buildID)
}

// Deployable refuses a build that cannot be deployed: one that did not succeed or has no image
// (CodeNotDeployable, a Conflict).
func Deployable(b store.Build) error {
	if b.Status != api.BuildSucceeded || b.Digest == "" {
		return refuse(Conflict, CodeNotDeployable, "build", "build %s is %s: only a succeeded build is deployed", b.ID, b.Status)
	}
	return nil
}

// CheckConfigs refuses (CodeMissingConfig, Invalid) naming every config and secret the build's descriptor
// requires that the environment lacks.
func (d *Deploys) CheckConfigs(ctx context.Context, b store.Build, environment string) error {
	if b.Descriptor == nil {
		return nil
	}
	values, err := d.Store.ListConfigs(ctx, b.Project, b.Component, environment)
	if err != nil {
		return err
	}
	missing := b.Descriptor.Missing(func(name string) bool {
		return slices.ContainsFunc(values, func(v store.ConfigValue) bool { return v.Key == name })
	})
	if len(missing) > 0 {
		return refuse(Invalid, CodeMissingConfig, "build", "environment %s lacks what build %s requires: %s",
			environment, b.ID, strings.Join(missing, ", "))
	}
	return nil
}

// Deploy checks that the caller may deploy to the environment (MayDeployTo) and that the build of comp can go
// there (Deployable, CheckConfigs), records the deployment by actor and queues it. Nothing is recorded when it
// is refused; a deployment that could not be queued is recorded failed. A build older than the one serving,
// into an environment builds are promoted into by themselves, holds that (HoldIfOlder): the answer's Message
// says so.
func (d *Deploys) Deploy(ctx context.Context, comp store.Component, env store.Environment, buildID, actor string, admin bool) (store.Deployment, error) {
	if err := MayDeployTo(env, admin, "deploying"); err != nil {
		return store.Deployment{}, err
	}
	b, err := d.Store.GetBuild(ctx, buildID)
	if errors.Is(err, store.ErrNotFound) || err == nil && (b.Project != comp.Project || b.Component != comp.Name) {
		return store.Deployment{}, refuse(Invalid, "invalid", "build", "build %s is not a build of %s", buildID, comp.Name)
	}
	if err != nil {
		return store.Deployment{}, err
	}
	if err := Deployable(b); err != nil {
		return store.Deployment{}, err
	}
	if err := d.notQuarantined(ctx, b.ID); err != nil {
		return store.Deployment{}, err
	}
	if err := d.CheckConfigs(ctx, b, env.Name); err != nil {
		return store.Deployment{}, err
	}
	if d.Temporal == nil {
		return store.Deployment{}, errTemporalUnavailable("Temporal is not configured: deployments cannot run")
	}
	dep, err := d.Store.CreateDeployment(ctx, store.Deployment{ID: newDeploymentID(), Project: comp.Project, Component: comp.Name,
		Environment: env.Name, BuildID: b.ID, Digest: b.Digest, Actor: actor})
	if err != nil {
		return store.Deployment{}, err
	}
	if err := d.queue(ctx, dep); err != nil {
		d.failUnqueued(ctx, dep.ID, err)
		if Unreachable(err) {
			e := errTemporalUnavailable("deployment %s could not be queued: Temporal is unreachable", dep.ID)
			e.Err = err
			return store.Deployment{}, e
		}
		return store.Deployment{}, err
	}
	dep.Message = HoldIfOlder(ctx, d.Store, env, b, actor)
	return dep, nil
}

// deployAs records the deployment id of b to environment by actor, once (a repeat finds it), and queues it. The
// caller has checked the build may go there.
func (d *Deploys) deployAs(ctx context.Context, id string, b store.Build, environment, actor string) (store.Deployment, error) {
	if d.Temporal == nil {
		return store.Deployment{}, errTemporalUnavailable("Temporal is not configured: deployments cannot run")
	}
	dep, err := d.Store.CreateDeployment(ctx, store.Deployment{ID: id, Project: b.Project, Component: b.Component,
		Environment: environment, BuildID: b.ID, Digest: b.Digest, Actor: actor})
	if errors.Is(err, store.ErrExists) {
		dep, err = d.Store.GetDeployment(ctx, id)
	}
	if err != nil {
		return store.Deployment{}, err
	}
	if err := d.queue(ctx, dep); err != nil {
		if Unreachable(err) {
			e := errTemporalUnavailable("deployment %s could not be queued: Temporal is unreachable", dep.ID)
			e.Err = err
			return store.Deployment{}, e
		}
		return store.Deployment{}, err
	}
	return dep, nil
}

// AutoDeploy queues the deployment of a build (pushed, about to be recorded succeeded) to its project's first
// environment, after checking that environment is not a production one (CodeAutoDeployToProduction: nothing is
// recorded or queued, a build never deploys itself there) and has every value the build requires
// (CodeMissingConfig). The deployment's ID comes from the build's, so repeating it queues the same deployment
// again, which then finds it ended or runs it once.
func (d *Deploys) AutoDeploy(ctx context.Context, project, component, buildID, digest string) (store.Deployment, error) {
	envs, err := d.Store.ListEnvironments(ctx, project)
	if err != nil {
		return store.Deployment{}, err
	}
	if len(envs) == 0 {
		return store.Deployment{}, refuse(Conflict, CodeNoEnvironment, "", "project %s has no environment", project)
	}
	if err := refuseAutoToProduction(envs[0], buildID); err != nil {
		return store.Deployment{}, err
	}
	b, err := d.Store.GetBuild(ctx, buildID)
	if err != nil {
		return store.Deployment{}, err
	}
	if err := d.CheckConfigs(ctx, b, envs[0].Name); err != nil {
		return store.Deployment{}, err
	}
	id := "d-auto-" + strings.TrimPrefix(b.ID, "b-")
	dep, err := d.Store.CreateDeployment(ctx, store.Deployment{ID: id, Project: project,
		Component: component, Environment: envs[0].Name, BuildID: b.ID, Digest: digest, Actor: AutoActor})
	if errors.Is(err, store.ErrExists) {
		dep, err = d.Store.GetDeployment(ctx, id)
	}
	if err != nil {
		return store.Deployment{}, err
	}
	if d.Temporal == nil {
		return store.Deployment{}, errTemporalUnavailable("Temporal is not configured: deployments cannot run")
	}
	if err := d.queue(ctx, dep); err != nil {
		return store.Deployment{}, err
	}
	return dep, nil
}

// CheckQueued checks, when its turn comes, that a queued deployment of the build to the environment may still
// run: the build exists and succeeded (CodeNotDeployable), or is the build whose own auto-deploy this is; the
// environment has every value it requires (CodeMissingConfig); and an auto-deploy's environment has not become
// a production one since it was queued (CodeAutoDeployToProduction). deploymentID "" checks the build alone. A
// build still running for another reason is an error worth retrying.
func (d *Deploys) CheckQueued(ctx context.Context, buildID, deploymentID, environment string) error {
	b, err := d.Store.GetBuild(ctx, buildID)
	if errors.Is(err, store.ErrNotFound) {
		return &Error{Kind: NotFound, Code: CodeNotDeployable, Message: "build " + buildID + " does not exist", Err: err}
	}
	if err != nil {
		return err
	}
	var dep store.Deployment
	if deploymentID != "" {
		if dep, err = d.Store.GetDeployment(ctx, deploymentID); err != nil {
			return err
		}
		if dep.Actor == AutoActor {
			env, err := Environment(ctx, d.Store, b.Project, environment)
			if err != nil {
				return err
			}
			if err := refuseAutoToProduction(env, b.ID); err != nil {
				return err
			}
		}
	}
	if b.Status == api.BuildQueued || b.Status == api.BuildRunning {
		// The build's own auto-deploy: it was queued once the image was pushed and the spec stored, and its
		// deployment records the digest; the build is recorded succeeded only after this step of its own.
		if dep.BuildID == b.ID && dep.Actor == AutoActor && dep.Digest != "" {
			return d.CheckConfigs(ctx, b, environment)
		}
		return fmt.Errorf("build %s is still %s", b.ID, b.Status)
	}
	if err := Deployable(b); err != nil {
		return err
	}
	if err := d.notQuarantined(ctx, b.ID); err != nil {
		return err
	}
	return d.CheckConfigs(ctx, b, environment)
}

// notQuarantined refuses (CodeQuarantined, Conflict) a quarantined build, naming who quarantined it and why.
func (d *Deploys) notQuarantined(ctx context.Context, buildID string) error {
	qs, err := d.Store.Quarantines(ctx, buildID)
	if err != nil {
		return err
	}
	if q, ok := qs[buildID]; ok {
		return refuse(Conflict, CodeQuarantined, "build", "build %s is quarantined by %s: %s", buildID, q.Actor, q.Reason)
	}
	return nil
}

// EnvironmentLister reads a project's environments in promotion order.
type EnvironmentLister interface {
	ListEnvironments(ctx context.Context, project string) ([]store.Environment, error)
}

// Environment reads the environment of the project named name, refusing (CodeNoEnvironment) one the project
// does not have.
func Environment(ctx context.Context, st EnvironmentLister, project, name string) (store.Environment, error) {
	envs, err := st.ListEnvironments(ctx, project)
	if err != nil {
		return store.Environment{}, err
	}
	i := slices.IndexFunc(envs, func(e store.Environment) bool { return e.Name == name })
	if i < 0 {
		return store.Environment{}, refuse(NotFound, CodeNoEnvironment, "environment", "project %s has no environment %s", project, name)
	}
	return envs[i], nil
}

// queue signals the environment's deploy workflow, starting it when it does not run.
func (d *Deploys) queue(ctx context.Context, dep store.Deployment) error {
	ctx, cancel := context.WithTimeout(ctx, TemporalTimeout)
	defer cancel()
	id, opts, in := workflows.DeployStart(dep.Project, dep.Component, dep.Environment)
	_, err := d.Temporal.SignalWithStartWorkflow(ctx, id, workflows.SignalDeploy,
		workflows.DeployRequest{DeploymentID: dep.ID, BuildID: dep.BuildID}, opts, workflows.DeployQueue, in)
	if err != nil {
		return fmt.Errorf("queueing deployment %s on %s: %w", dep.ID, id, err)
	}
	return nil
}

// failUnqueued records a deployment whose workflow could not be signalled as failed, so it does not wait
// forever. Every token reads the message recorded, so it names no address or network detail of the cause
// (WithoutHostDetail); a cause the answer does not carry (Temporal unreachable) is logged here.
func (d *Deploys) failUnqueued(ctx context.Context, id string, cause error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), TemporalTimeout)
	defer cancel()
	if Unreachable(cause) {
		d.log().WarnContext(ctx, "a deployment could not be queued: Temporal is unreachable", "deployment", id, "error", cause)
	}
	_, err := d.Store.UpdateDeployment(ctx, id, func(dep *store.Deployment) error {
		now := time.Now().UTC()
		dep.Status, dep.Message, dep.EndedAt = api.DeploymentFailed, "could not be queued: "+WithoutHostDetail(cause.Error()), &now
		return nil
	})
	if err != nil {
		d.log().WarnContext(ctx, "recording an unqueued deployment", "deployment", id, "err", err)
	}
}

func newDeploymentID() string {
	b := make([]byte, 8)
	rand.Read(b)
	return "d-" + hex.EncodeToString(b)
}
