package activities

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"

	"github.com/slipway-dev/slipway/api"
	"github.com/slipway-dev/slipway/dataplane"
	"github.com/slipway-dev/slipway/dataplane/kubernetes"
	"github.com/slipway-dev/slipway/delivery"
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
// delivery.Deploys.CheckQueued.
func (d *Deploys) CheckRequired(ctx context.Context, in workflows.CheckRequiredInput) error {
	return asActivityError(d.queue().CheckQueued(ctx, in.BuildID, in.DeploymentID, in.Environment))
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

// Rollout starts the deployment's release beside the one serving, waits until it is ready, switches the
// entry to it, drains and removes the old one. A release that does not get ready is removed and never
// switched in: the previous release keeps serving and the deployment is recorded failed with the last
// check. Repeating it (a retried activity) picks up where it stopped; a deployment already ended is
// answered as recorded.
func (d *Deploys) Rollout(ctx context.Context, in workflows.RolloutInput) (workflows.RolloutResult, error) {
	dep, err := d.Store.GetDeployment(ctx, in.DeploymentID)
	if err != nil {
		return workflows.RolloutResult{}, err
	}
	if dep.Status == api.DeploymentSucceeded || dep.Status == api.DeploymentFailed {
		return workflows.RolloutResult{Status: dep.Status, URL: dep.URL, Message: dep.Message}, nil
	}
	env, err := d.environment(ctx, dep.Project, dep.Environment)
	if err != nil {
		return workflows.RolloutResult{}, err
	}
	timeout := orDefault(time.Duration(env.DeployTimeoutSeconds)*time.Second, orDefault(d.ReadyTimeout, 2*time.Minute))
	driver, err := d.DriverFor(ctx, env, timeout)
	if err != nil {
		return workflows.RolloutResult{}, err
	}
	b, err := d.Store.GetBuild(ctx, dep.BuildID)
	if err != nil {
		return workflows.RolloutResult{}, err
	}
	rel, hash, err := d.release(ctx, dep, b, env)
	if err != nil {
		return workflows.RolloutResult{}, err
	}
	sealed := dep.ReleaseConfig
	if sealed == nil {
		if sealed, err = d.sealConfig(dep.ID, rel); err != nil {
			return workflows.RolloutResult{}, err
		}
	}
	dep, err = d.Store.UpdateDeployment(ctx, dep.ID, func(x *store.Deployment) error {
		if x.StartedAt == nil {
			now := time.Now().UTC()
			x.StartedAt = &now
		}
		x.Status, x.ConfigHash, x.ReleaseConfig, x.DataPlane = api.DeploymentRunning, hash, sealed, plane(env.DataPlane)
		return nil
	})
	if err != nil {
		return workflows.RolloutResult{}, err
	}

	var progress atomic.Pointer[string] // what the heartbeats say
	progress.Store(new("starting " + dep.BuildID))
	// A previous attempt that got as far as restoring said so in its last heartbeat: this one restores
	// at once rather than rolling the release that failed out again.
	var failed string
	if activity.HasHeartbeatDetails(ctx) {
		var said string
		if activity.GetHeartbeatDetails(ctx, &said) == nil {
			if rest, ok := strings.CutPrefix(said, restoringAfter); ok {
				failed = rest
				progress.Store(&said)
			}
		}
	}
	stop := heartbeatEvery(heartbeatInterval, func() { activity.RecordHeartbeat(ctx, *progress.Load()) })
	defer stop()
	var insts []dataplane.Instance
	var last dataplane.Probe
	if failed == "" {
		if insts, err = driver.Apply(ctx, rel); err != nil {
			return workflows.RolloutResult{}, classifyDataPlane(fmt.Errorf("starting the release: %w", err))
		}
		wait := timeout
		if _, ok := driver.(dataplane.SelfRouted); ok {
			// The cluster judges the progress deadline itself; give its verdict time to arrive.
			wait += 15 * time.Second
		}
		wctx, cancel := context.WithTimeout(ctx, wait)
		last, err = driver.WaitReady(wctx, rel, func(p dataplane.Probe) { progress.Store(&p.Message) })
		cancel()
		if ctx.Err() != nil {
			return workflows.RolloutResult{}, ctx.Err()
		}
		if !last.Ready {
			failed = "not ready: " + last.Message
			if err != nil && !errors.Is(err, context.DeadlineExceeded) && !strings.Contains(last.Message, err.Error()) {
				failed = "not ready: " + err.Error()
			}
		}
	}
	if failed != "" {
		progress.Store(new(restoringAfter + failed))
		return d.restore(ctx, driver, dep, env, rel, failed)
	}

	url := ""
	if sr, ok := driver.(dataplane.SelfRouted); ok {
		url = sr.URL(rel)
	} else if rel.Port() > 0 {
		url, err = d.switchEntry(ctx, dep, insts)
		if err != nil {
			return workflows.RolloutResult{}, err
		}
	}
	d.leaveOtherPlane(ctx, activity.GetLogger(ctx), dep, env)
	replaced, err := d.replaced(ctx, driver, dep)
	if err != nil {
		return workflows.RolloutResult{}, err
	}
	if !in.RetireLater {
		if err := d.retire(ctx, driver, dep, replaced); err != nil {
			return workflows.RolloutResult{}, err
		}
		replaced = nil
	}
	// The release serves: that is the deployment's outcome. What it replaced goes in RetireReplaced.
	res, err := d.end(ctx, dep, api.DeploymentSucceeded, url, "ready: "+last.Message)
	res.Replaced = replaced
	return res, err
}

// replaced names the builds whose releases run beside the deployment's on the data plane; on one that
// replaces releases in place (a cluster) it removes what the old ones left (their configs) at once and names none.
func (d *Deploys) replaced(ctx context.Context, driver dataplane.Driver, dep store.Deployment) ([]string, error) {
	if _, inPlace := driver.(dataplane.SelfRouted); inPlace {
		if err := driver.Remove(ctx, dep.Project, dep.Component, dep.Environment, "", 0); err != nil {
			return nil, fmt.Errorf("removing what the previous releases left: %w", err)
		}
		return nil, nil
	}
	running, err := driver.Describe(ctx, dep.Project, dep.Component, dep.Environment)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, i := range running {
		if i.BuildID != dep.BuildID && !slices.Contains(out, i.BuildID) {
			out = append(out, i.BuildID)
		}
	}
	slices.Sort(out)
	return out, nil
}

// RetireReplaced stops and removes the releases of the builds a succeeded deployment replaced, each with
// DrainTimeout to finish what it serves (the entry sends them nothing any more). It runs beside the next
// deployments of the environment, so it never removes the build serving there now, and it does nothing once
// the environment has moved to another data plane. Repeating it removes what is left.
func (d *Deploys) RetireReplaced(ctx context.Context, in workflows.RetireReplacedInput) error {
	dep, err := d.Store.GetDeployment(ctx, in.DeploymentID)
	if err != nil {
		return err
	}
	env, err := d.environment(ctx, dep.Project, dep.Environment)
	if err != nil {
		return err
	}
	if plane(dep.DataPlane) != plane(env.DataPlane) {
		return nil
	}
	driver, err := d.DriverFor(ctx, env, 0)
	if err != nil {
		return err
	}
	builds := slices.Clone(in.Builds)
	if cur, err := d.Store.CurrentDeployment(ctx, dep.Project, dep.Component, dep.Environment); err == nil {
		builds = slices.DeleteFunc(builds, func(b string) bool { return b == cur.BuildID })
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	stop := heartbeatEvery(heartbeatInterval, func() { activity.RecordHeartbeat(ctx, "retiring what "+dep.BuildID+" replaced") })
	defer stop()
	return d.retire(ctx, driver, dep, builds)
}

// retire removes the releases of builds from the deployment's component and environment.
func (d *Deploys) retire(ctx context.Context, driver dataplane.Driver, dep store.Deployment, builds []string) error {
	for _, id := range builds {
		if id == dep.BuildID {
			continue
		}
		if err := driver.Remove(ctx, dep.Project, dep.Component, dep.Environment, id, orDefault(d.DrainTimeout, 30*time.Second)); err != nil {
			return fmt.Errorf("removing the previous release %s: %w", id, err)
		}
	}
	return nil
}

// restoringAfter begins the heartbeat of a rollout restoring the previous release; the not-ready
// message follows it.
const restoringAfter = "restoring the previous release after: "

// restore undoes a release that did not get ready so the previous one serves, and records the
// deployment failed with why. The Docker driver only removes the new containers (the old ones never
// stopped), so it goes on without the previous release when that cannot be read; a driver that
// replaces releases in place needs it.
func (d *Deploys) restore(ctx context.Context, driver dataplane.Driver, dep store.Deployment, env store.Environment,
	rel dataplane.Release, failed string) (workflows.RolloutResult, error) {
	prev, err := d.previous(ctx, dep, env)
	if err != nil {
		if _, inPlace := driver.(dataplane.SelfRouted); inPlace {
			return workflows.RolloutResult{}, err
		}
		activity.GetLogger(ctx).Warn("reading the previous release", "deployment", dep.ID, "error", err)
		prev = nil
	}
	if err := driver.Restore(ctx, rel, prev); err != nil {
		return workflows.RolloutResult{}, classifyDataPlane(fmt.Errorf("restoring the previous release: %w", err))
	}
	msg := failed + "; removed: nothing served before"
	if prev != nil {
		msg = failed + "; rolled back: the previous release " + prev.BuildID + " keeps serving"
	}
	return d.end(ctx, dep, api.DeploymentFailed, "", msg)
}

// classifyDataPlane makes an answer of the data plane that will not change (dataplane.ErrRefused)
// non-retryable.
func classifyDataPlane(err error) error {
	if errors.Is(err, dataplane.ErrRefused) {
		return temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeDataPlaneRefused, nil)
	}
	return err
}

// previous is the release serving in the deployment's environment before it (nil when none): its
// build with the configs it was released with when they were recorded, else the environment's.
func (d *Deploys) previous(ctx context.Context, dep store.Deployment, env store.Environment) (*dataplane.Release, error) {
	cur, err := d.Store.CurrentDeployment(ctx, dep.Project, dep.Component, dep.Environment)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if plane(cur.DataPlane) != plane(env.DataPlane) {
		return nil, nil // it ran on the data plane the environment left: nothing of it to go back to here
	}
	b, err := d.Store.GetBuild(ctx, cur.BuildID)
	if err != nil {
		return nil, err
	}
	rel, _, err := d.release(ctx, cur, b, env)
	if err != nil {
		return nil, err
	}
	return &rel, nil
}

// plane is a data plane's name, "" (recorded before there was a choice) being docker.
func plane(name string) string {
	if name == "" {
		return store.DataPlaneDocker
	}
	return name
}

// leaveOtherPlane stops the release an environment ran on the worker's Docker Engine before it moved to
// another data plane, once the first release there serves: its containers (and the values in them)
// go, and its entry serves nothing. A release that ran on a cluster the environment left is not
// reachable any more (its kubeconfig went with the binding); it is logged.
func (d *Deploys) leaveOtherPlane(ctx context.Context, log log.Logger, dep store.Deployment, env store.Environment) {
	cur, err := d.Store.CurrentDeployment(ctx, dep.Project, dep.Component, dep.Environment)
	if err != nil || plane(cur.DataPlane) == plane(env.DataPlane) {
		return
	}
	if plane(cur.DataPlane) != store.DataPlaneDocker || d.Driver == nil {
		log.Warn("the release of the data plane the environment left is not removed: remove it by hand",
			"deployment", cur.ID, "dataPlane", cur.DataPlane)
		return
	}
	if err := d.Driver.Remove(ctx, cur.Project, cur.Component, cur.Environment, cur.BuildID, orDefault(d.DrainTimeout, 30*time.Second)); err != nil {
		log.Warn("removing the Docker release the environment left", "deployment", cur.ID, "error", err)
	}
	key := entry.Key{Project: cur.Project, Component: cur.Component, Environment: cur.Environment}
	if d.Router != nil && len(d.Router.Backends(key)) > 0 {
		if err := d.Router.Switch(ctx, key, nil); err != nil {
			log.Warn("emptying the entry the environment left", "deployment", cur.ID, "error", err)
		}
	}
}

// environment reads the environment a deployment goes to; one the project lacks fails non-retryably
// (ErrTypeNotDeployable).
func (d *Deploys) environment(ctx context.Context, project, name string) (store.Environment, error) {
	env, err := delivery.Environment(ctx, d.Store, project, name)
	return env, asActivityError(err)
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

// Drift reports what was changed by hand on the data plane of env since component's current release
// was deployed there; nil when the data plane does not tell (docker).
func (d *Deploys) Drift(ctx context.Context, env store.Environment, component string) (*dataplane.Drift, error) {
	if env.DataPlane != store.DataPlaneKubernetes {
		return nil, nil
	}
	drv, err := d.DriverFor(ctx, env, 0)
	if err != nil {
		return nil, err
	}
	dd, ok := drv.(dataplane.DriftDetector)
	if !ok {
		return nil, nil
	}
	drift, err := dd.Drift(ctx, env.Project, component, env.Name)
	if err != nil {
		return nil, err
	}
	return &drift, nil
}

// releaseConfig is what a release got from its environment's configs, sealed into its deployment.
type releaseConfig struct {
	Env   map[string]string `json:"env,omitempty"`
	Files map[string][]byte `json:"files,omitempty"`
}

func (d *Deploys) sealConfig(deploymentID string, rel dataplane.Release) (*secretbox.Sealed, error) {
	plain, err := json.Marshal(releaseConfig{Env: rel.Env, Files: rel.Files})
	if err != nil {
		return nil, err
	}
	s, err := d.Keyring.Seal(store.DeploymentConfigAAD(deploymentID), plain)
	if err != nil {
		return nil, fmt.Errorf("sealing the configs of deployment %s: %w", deploymentID, err)
	}
	return &s, nil
}

// switchEntry opens the entry (at the address the current release was served at, if any) and switches
// it to the new instances, draining the old ones.
func (d *Deploys) switchEntry(ctx context.Context, dep store.Deployment, insts []dataplane.Instance) (string, error) {
	key := entry.Key{Project: dep.Project, Component: dep.Component, Environment: dep.Environment}
	addr := ""
	if cur, err := d.Store.CurrentDeployment(ctx, dep.Project, dep.Component, dep.Environment); err == nil {
		addr = strings.TrimPrefix(cur.URL, "http://")
	}
	url, err := d.Router.Open(key, addr)
	if err != nil && addr != "" {
		url, err = d.Router.Open(key, "") // the recorded port is taken: a new one
	}
	if err != nil {
		return "", err
	}
	var addrs []string
	for _, i := range insts {
		if i.Address != "" {
			addrs = append(addrs, i.Address)
		}
	}
	dctx, cancel := context.WithTimeout(ctx, orDefault(d.DrainTimeout, 30*time.Second))
	defer cancel()
	if err := d.Router.Switch(dctx, key, addrs); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return "", err
	}
	return url, nil
}

func (d *Deploys) end(ctx context.Context, dep store.Deployment, status, url, msg string) (workflows.RolloutResult, error) {
	_, err := d.Store.UpdateDeployment(ctx, dep.ID, func(x *store.Deployment) error {
		now := time.Now().UTC()
		x.Status, x.URL, x.Message, x.EndedAt = status, url, msg, &now
		return nil
	})
	if err != nil && !errors.Is(err, store.ErrInvalid) {
		return workflows.RolloutResult{}, err
	}
	return workflows.RolloutResult{Status: status, URL: url, Message: msg}, nil
}

// release assembles what the data plane runs: the configs recorded with the deployment when they
// were (a retried or restored release gets exactly those), else the environment's configs and
// secrets, opened, and a hash of their sealed values (never of the values) that says which they were.
func (d *Deploys) release(ctx context.Context, dep store.Deployment, b store.Build, target store.Environment) (dataplane.Release, string, error) {
	desc := descriptor.Descriptor{}
	if b.Descriptor != nil {
		desc = *b.Descriptor
	}
	// The deployment records the digest it deploys; a build's own auto-deploy runs before the build is
	// recorded with it.
	digest := dep.Digest
	if digest == "" {
		digest = b.Digest
	}
	rel := dataplane.Release{
		Project: dep.Project, Component: dep.Component, Environment: dep.Environment, BuildID: b.ID, Digest: digest,
		Image:  d.Registry + "/" + dep.Project + "/" + dep.Component + "@" + digest,
		Commit: b.Commit, Endpoints: desc.Endpoints,
		Readiness: desc.Health.Readiness, Liveness: desc.Health.Liveness,
		Replicas: target.Replicas, CPUs: target.CPUs, MemoryBytes: target.MemoryBytes,
	}
	if dep.ReleaseConfig != nil {
		plain, err := d.Keyring.Open(store.DeploymentConfigAAD(dep.ID), *dep.ReleaseConfig)
		if err != nil {
			return dataplane.Release{}, "", temporal.NewNonRetryableApplicationError("the configs of deployment "+dep.ID+" cannot be decrypted", ErrTypeUndecryptable, err)
		}
		var rc releaseConfig
		if err := json.Unmarshal(plain, &rc); err != nil {
			return dataplane.Release{}, "", temporal.NewNonRetryableApplicationError("the configs of deployment "+dep.ID+" do not decode", ErrTypeUndecryptable, err)
		}
		rel.Env, rel.Files = rc.Env, rc.Files
		return rel, dep.ConfigHash, nil
	}
	values, err := d.Store.ListConfigs(ctx, dep.Project, dep.Component, dep.Environment)
	if err != nil {
		return dataplane.Release{}, "", err
	}
	envName, fileName := map[string]string{}, map[string]string{}
	for _, r := range slices.Concat(desc.Required.Configs, desc.Required.Secrets) {
		if r.File != "" {
			fileName[r.Name] = r.File
		} else if r.Env != "" {
			envName[r.Name] = r.Env
		}
	}
	env, files := map[string]string{}, map[string][]byte{}
	h := sha256.New()
	for _, v := range values {
		pt, err := d.Keyring.Open(v.AAD(), v.Sealed)
		if errors.Is(err, secretbox.ErrDecrypt) {
			return dataplane.Release{}, "", temporal.NewNonRetryableApplicationError("config "+v.Key+" cannot be decrypted", ErrTypeUndecryptable, err)
		}
		if err != nil {
			return dataplane.Release{}, "", err
		}
		switch {
		case fileName[v.Key] != "":
			files[fileName[v.Key]] = pt
		case envName[v.Key] != "":
			env[envName[v.Key]] = string(pt)
		default:
			env[v.Key] = string(pt)
		}
		fmt.Fprintf(h, "%s\x00%x\x00", v.Key, v.Sealed.Ciphertext)
	}
	rel.Env, rel.Files = env, files
	return rel, hex.EncodeToString(h.Sum(nil))[:16], nil
}

// Reattach points every entry back at the release recorded as serving it, after a restart: the
// containers kept running, the proxy did not.
func (d *Deploys) Reattach(ctx context.Context, current []store.Deployment) error {
	if d.Driver == nil {
		return nil
	}
	var errs []error
	for _, dep := range current {
		if dep.URL == "" || plane(dep.DataPlane) != store.DataPlaneDocker {
			continue // nothing served, or served by its cluster rather than by an entry
		}
		insts, err := d.Driver.Describe(ctx, dep.Project, dep.Component, dep.Environment)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		var addrs []string
		for _, i := range insts {
			if i.BuildID == dep.BuildID && i.Address != "" {
				addrs = append(addrs, i.Address)
			}
		}
		key := entry.Key{Project: dep.Project, Component: dep.Component, Environment: dep.Environment}
		if _, err := d.Router.Open(key, strings.TrimPrefix(dep.URL, "http://")); err != nil {
			errs = append(errs, err)
			continue
		}
		errs = append(errs, d.Router.Switch(ctx, key, addrs))
	}
	return errors.Join(errs...)
}
