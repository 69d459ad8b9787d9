package worker

import (
	"slices"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"

	"github.com/slipway-dev/slipway/activities"
	"github.com/slipway-dev/slipway/workflows"
)

// Deps are the clients the activities use.
type Deps struct {
	Store   activities.SealedStore
	Keyring activities.Keyring
	// Builds runs the build pipeline's steps; nil registers no build activities (the worker then
	// only runs workflows and key rotation).
	Builds *activities.Builds
	// Deploys runs deployments; nil registers no deploy activities.
	Deploys *activities.Deploys
	// Promotions runs promotion requests' steps; nil registers no promotion activities.
	Promotions *activities.Promotions
	// Notifications delivers notifications; nil registers no notification activities.
	Notifications *activities.Notifications
	// DataPlanes are the data planes (workflows.DataPlanes) whose task queues this worker polls with the
	// deploy activities that reach them; nil serves none (its Deploys then run only the steps that read and
	// write the store). One worker alone serves docker: its edge holds the entries.
	DataPlanes []string
}

// New returns the workers of one slipway worker process, not started: one polling workflows.TaskQueue with
// every slipway workflow and the activities any worker may run, with sessions enabled when it builds (build
// steps share one worker's disk), and one per data plane in d.DataPlanes polling that plane's task queue
// (workflows.DataPlaneTaskQueue) with the activities that reach it.
func New(c client.Client, d Deps) Workers {
	def := sdkworker.New(c, workflows.TaskQueue, sdkworker.Options{
		EnableSessionWorker: d.Builds != nil,
		// A cancel reaches an activity in a heartbeat's answer; without a cap the SDK holds
		// heartbeats for 80% of the heartbeat timeout (48 s for a build), so a cancelled build
		// would go on that long.
		MaxHeartbeatThrottleInterval: 3 * time.Second,
	})
	Register(def, d)
	ws := Workers{def}
	if d.Deploys == nil {
		return ws
	}
	if slices.Contains(d.DataPlanes, workflows.DataPlaneDocker) {
		// Runs recorded before the data planes had task queues of their own schedule those steps here; the
		// Docker host's worker takes them, as the only worker did then.
		RegisterDataPlane(def, d.Deploys)
	}
	for _, plane := range d.DataPlanes {
		w := sdkworker.New(c, workflows.DataPlaneTaskQueue(plane), sdkworker.Options{MaxHeartbeatThrottleInterval: 3 * time.Second})
		RegisterDataPlane(w, d.Deploys)
		ws = append(ws, w)
	}
	return ws
}

// Workers are the Temporal workers of one process, each polling its task queue.
type Workers []sdkworker.Worker

// Start starts every worker; when one fails to start, those started are stopped again.
func (ws Workers) Start() error {
	for i, w := range ws {
		if err := w.Start(); err != nil {
			Workers(ws[:i]).Stop()
			return err
		}
	}
	return nil
}

// Stop stops every worker, waiting for the activities under way (up to the SDK's stop timeout).
func (ws Workers) Stop() {
	for _, w := range ws {
		w.Stop()
	}
}

// Register registers every slipway workflow, and every activity any worker may run (those of d's non-nil
// clients), on r under their shared names.
func Register(r sdkworker.Registry, d Deps) {
	r.RegisterWorkflow(workflows.RotateKeys)
	r.RegisterWorkflow(workflows.BuildPipeline)
	r.RegisterWorkflow(workflows.DeployQueue)
	r.RegisterWorkflow(workflows.Undeploy)
	r.RegisterWorkflow(workflows.TaskRun)
	r.RegisterWorkflow(workflows.Promotion)
	r.RegisterWorkflow(workflows.AutoPromotion)
	r.RegisterWorkflow(workflows.Notify)
	keys := &activities.Keys{Store: d.Store, Keyring: d.Keyring}
	r.RegisterActivityWithOptions(keys.RewrapDataKeys, activity.RegisterOptions{Name: workflows.ActivityRewrapDataKeys})
	if b := d.Builds; b != nil {
		for name, fn := range map[string]any{
			workflows.ActivityStartBuild:      b.StartBuild,
			workflows.ActivityCheckout:        b.Checkout,
			workflows.ActivityBuildImage:      b.BuildImage,
			workflows.ActivityScanImage:       b.ScanImage,
			workflows.ActivityPushImage:       b.PushImage,
			workflows.ActivityUpdateSpec:      b.UpdateSpec,
			workflows.ActivityRemoveWorkspace: b.RemoveWorkspace,
			workflows.ActivityFinishBuild:     b.FinishBuild,
			// Outside any session, on the default task queue: it needs the scanner, not a workspace.
			workflows.ActivityRescanPromotion: b.RescanPromotion,
		} {
			r.RegisterActivityWithOptions(fn, activity.RegisterOptions{Name: name})
		}
	}
	if d := d.Deploys; d != nil {
		// The deploy steps that only read and write the store; RegisterDataPlane has those that reach a data plane.
		for name, fn := range map[string]any{
			workflows.ActivityCheckRequired:    d.CheckRequired,
			workflows.ActivityFailDeployment:   d.FailDeployment,
			workflows.ActivityRequestDeploy:    d.RequestDeploy,
			workflows.ActivityStartTaskRun:     d.StartTaskRun,
			workflows.ActivityFailTaskRun:      d.FailTaskRun,
			workflows.ActivityRollBack:         d.RollBack,
			workflows.ActivityPassVerification: d.PassVerification,
			workflows.ActivityRolledBack:       d.RolledBack,
		} {
			r.RegisterActivityWithOptions(fn, activity.RegisterOptions{Name: name})
		}
	}
	if n := d.Notifications; n != nil {
		r.RegisterActivityWithOptions(n.DeliverNotification, activity.RegisterOptions{Name: workflows.ActivityDeliverNotification})
		r.RegisterActivityWithOptions(n.FailNotification, activity.RegisterOptions{Name: workflows.ActivityFailNotification})
	}
	if p := d.Promotions; p != nil {
		for name, fn := range map[string]any{
			workflows.ActivityPromotionState: p.PromotionState,
			workflows.ActivityCheckPromotion: p.CheckPromotion,
			workflows.ActivityQueuePromotion: p.QueuePromotion,
			workflows.ActivityEndPromotion:   p.EndPromotion,
			workflows.ActivityOfferPromotion: p.OfferPromotion,
			workflows.ActivityAutoPromote:    p.AutoPromote,
		} {
			r.RegisterActivityWithOptions(fn, activity.RegisterOptions{Name: name})
		}
	}
}

// RegisterDataPlane registers the activities that must run where a data plane is reachable (rollouts,
// retirements, verifications, task runs, undeploys) on r, a worker polling a data plane's task queue.
func RegisterDataPlane(r sdkworker.Registry, d *activities.Deploys) {
	for name, fn := range map[string]any{
		workflows.ActivityRollout:        d.Rollout,
		workflows.ActivityRetireReplaced: d.RetireReplaced,
		workflows.ActivityUndeploy:       d.Undeploy,
		workflows.ActivityRunTask:        d.RunTask,
		workflows.ActivityVerify:         d.Verify,
	} {
		r.RegisterActivityWithOptions(fn, activity.RegisterOptions{Name: name})
	}
}
