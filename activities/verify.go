package activities

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/slipway-dev/slipway/api"
	"github.com/slipway-dev/slipway/delivery"
	"github.com/slipway-dev/slipway/entry"
	"github.com/slipway-dev/slipway/store"
	"github.com/slipway-dev/slipway/verify"
	"github.com/slipway-dev/slipway/workflows"
)

// RollbackActor is the actor of the deployments that put back the release before one that failed its
// verification.
const RollbackActor = "slipway"

// Verify runs the environment's verification of a deployment whose release serves: its HTTP checks against the
// release's URL for the window, heartbeating how they stand. It records the deployment verifying and, when the
// checks pass, passed — or, when the environment has a verification task, answers that it runs next (the
// workflow runs it, then PassVerification); a failure is the RollBack activity's to record. An environment that verifies nothing, or
// a release without a URL to check (no public endpoint), answers "" at once. A deployment already verified is
// answered as recorded.
func (d *Deploys) Verify(ctx context.Context, in workflows.VerifyInput) (workflows.VerifyResult, error) {
	dep, err := d.Store.GetDeployment(ctx, in.DeploymentID)
	if err != nil {
		return workflows.VerifyResult{}, err
	}
	switch {
	case dep.Verification == api.VerificationPassed || dep.Verification == api.VerificationFailed:
		return workflows.VerifyResult{Status: dep.Verification, Message: dep.Message}, nil
	case dep.Status != api.DeploymentSucceeded:
		return workflows.VerifyResult{}, nil
	}
	env, err := d.environment(ctx, dep.Project, dep.Environment)
	if err != nil {
		return workflows.VerifyResult{}, err
	}
	v := env.Rules.Verification
	checks := v != nil && len(v.HTTP) > 0 && dep.URL != "" // a release without a URL has nothing to GET
	if !checks && (v == nil || v.Task == "") {
		return workflows.VerifyResult{}, nil
	}
	if _, err := d.Store.VerifyDeployment(ctx, dep.ID, api.VerificationRunning, ""); err != nil {
		return workflows.VerifyResult{}, err
	}
	if !checks {
		return workflows.VerifyResult{Status: api.VerificationRunning, Task: v.Task}, nil
	}
	window := orDefault(time.Duration(v.WindowSeconds)*time.Second, delivery.DefaultVerificationWindow)
	var progress atomic.Pointer[string]
	progress.Store(new("verifying " + dep.BuildID))
	stop := heartbeatEvery(heartbeatInterval, func() { activity.RecordHeartbeat(ctx, *progress.Load()) })
	defer stop()
	client := &http.Client{Transport: entry.LocalhostTransport(), CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
	out := verify.HTTP(ctx, client, dep.URL, v.HTTP, window, func(s string) { progress.Store(&s) })
	if ctx.Err() != nil {
		return workflows.VerifyResult{}, ctx.Err()
	}
	if !out.Passed {
		return workflows.VerifyResult{Status: api.VerificationFailed, Message: out.Message}, nil
	}
	if v.Task != "" {
		return workflows.VerifyResult{Status: api.VerificationRunning, Message: out.Message, Task: v.Task}, nil
	}
	if _, err := d.Store.VerifyDeployment(ctx, dep.ID, api.VerificationPassed, ""); err != nil {
		return workflows.VerifyResult{}, err
	}
	return workflows.VerifyResult{Status: api.VerificationPassed, Message: out.Message}, nil
}

// PassVerification records a deployment's verification passed (its verification task exited 0).
func (d *Deploys) PassVerification(ctx context.Context, in workflows.PassVerificationInput) error {
	_, err := d.Store.VerifyDeployment(ctx, in.DeploymentID, api.VerificationPassed, "")
	return err
}

// RollBack records a deployment that failed its verification and the deployment of the release that served
// before it, with exactly the configs that one had (resealed for the new deployment), to run next (RolledBack
// records the failed one rolled back once that one serves).
// When nothing served before, the release keeps serving, recorded failed verification, and nothing is deployed.
// Repeating it finds what it recorded.
func (d *Deploys) RollBack(ctx context.Context, in workflows.RollBackInput) (workflows.RollBackResult, error) {
	dep, err := d.Store.GetDeployment(ctx, in.DeploymentID)
	if err != nil {
		return workflows.RollBackResult{}, err
	}
	prev, ok, err := d.before(ctx, dep)
	if err != nil {
		return workflows.RollBackResult{}, err
	}
	if !ok {
		_, err := d.Store.VerifyDeployment(ctx, dep.ID, api.VerificationFailed,
			"verification failed: "+in.Message+"; nothing served before it, so it keeps serving")
		return workflows.RollBackResult{}, ignoreEnded(err)
	}
	id := "d-rb-" + strings.TrimPrefix(dep.ID, "d-")
	rb := store.Deployment{ID: id, Project: dep.Project, Component: dep.Component, Environment: dep.Environment,
		BuildID: prev.BuildID, Digest: prev.Digest, Actor: RollbackActor, ConfigHash: prev.ConfigHash}
	if prev.ReleaseConfig != nil {
		plain, err := d.Keyring.Open(store.DeploymentConfigAAD(prev.ID), *prev.ReleaseConfig)
		if err != nil {
			return workflows.RollBackResult{}, temporal.NewNonRetryableApplicationError("the configs of deployment "+prev.ID+" cannot be decrypted", ErrTypeUndecryptable, err)
		}
		sealed, err := d.Keyring.Seal(store.DeploymentConfigAAD(id), plain)
		if err != nil {
			return workflows.RollBackResult{}, fmt.Errorf("sealing the configs of deployment %s: %w", id, err)
		}
		rb.ReleaseConfig = &sealed
	}
	if _, err := d.Store.CreateDeployment(ctx, rb); err != nil && !errors.Is(err, store.ErrExists) {
		return workflows.RollBackResult{}, err
	}
	msg := fmt.Sprintf("verification failed: %s; rolling back to the release before it, build %s (%s)", in.Message, prev.BuildID, id)
	if _, err := d.Store.VerifyDeployment(ctx, dep.ID, api.VerificationFailed, msg); ignoreEnded(err) != nil {
		return workflows.RollBackResult{}, err
	}
	return workflows.RollBackResult{Deployment: workflows.DeployRequest{DeploymentID: id, BuildID: prev.BuildID, Rollback: true, RollsBack: dep.ID}}, nil
}

// RolledBack records the deployment that failed its verification rolled back, once the release before it serves
// again (the rollback deployment succeeded): "rolled_back: verification failed: …".
func (d *Deploys) RolledBack(ctx context.Context, in workflows.RolledBackInput) error {
	dep, err := d.Store.GetDeployment(ctx, in.DeploymentID)
	if err != nil {
		return err
	}
	msg := strings.Replace(dep.Message, "; rolling back to the release before it, build ", "; the release before it serves again: build ", 1)
	_, err = d.Store.RollBackDeployment(ctx, dep.ID, "rolled_back: "+strings.TrimPrefix(msg, "rolled_back: "))
	return err
}

// before is the succeeded deployment of the component to the environment recorded before dep (its release
// served when dep's took over); ok is false when there is none among the latest 50.
func (d *Deploys) before(ctx context.Context, dep store.Deployment) (store.Deployment, bool, error) {
	deps, err := d.Store.ListDeployments(ctx, dep.Project, dep.Component, dep.Environment, 50)
	if err != nil {
		return store.Deployment{}, false, err
	}
	for _, x := range deps {
		if x.ID != dep.ID && x.Status == api.DeploymentSucceeded && x.CreatedAt.Before(dep.CreatedAt) && x.BuildID != dep.BuildID {
			return x, true, nil
		}
	}
	return store.Deployment{}, false, nil
}

// ignoreEnded drops the store's refusal to change a verification that has already ended otherwise (a repeat).
func ignoreEnded(err error) error {
	if errors.Is(err, store.ErrInvalid) {
		return nil
	}
	return err
}
