package worker

import (
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
}

// New returns a worker polling workflows.TaskQueue with every slipway workflow and activity
// registered, with sessions enabled (build steps share one worker's disk). The caller starts and
// stops it.
func New(c client.Client, d Deps) sdkworker.Worker {
	w := sdkworker.New(c, workflows.TaskQueue, sdkworker.Options{
		EnableSessionWorker: d.Builds != nil,
		// A cancel reaches an activity in a heartbeat's answer; without a cap the SDK holds
		// heartbeats for 80% of the heartbeat timeout (48 s for a build), so a cancelled build
		// would go on that long.
		MaxHeartbeatThrottleInterval: 3 * time.Second,
	})
	Register(w, d)
	return w
}

// Register registers every slipway workflow and activity on r under their shared names.
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
		for name, fn := range map[string]any{
			workflows.ActivityCheckRequired:    d.CheckRequired,
			workflows.ActivityRollout:          d.Rollout,
			workflows.ActivityFailDeployment:   d.FailDeployment,
			workflows.ActivityRetireReplaced:   d.RetireReplaced,
			workflows.ActivityRequestDeploy:    d.RequestDeploy,
			workflows.ActivityUndeploy:         d.Undeploy,
			workflows.ActivityStartTaskRun:     d.StartTaskRun,
			workflows.ActivityRunTask:          d.RunTask,
			workflows.ActivityFailTaskRun:      d.FailTaskRun,
			workflows.ActivityVerify:           d.Verify,
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
