package delivery

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/slipway-dev/slipway/api"
	"github.com/slipway-dev/slipway/secretbox"
	"github.com/slipway-dev/slipway/store"
	"github.com/slipway-dev/slipway/workflows"
)

// NotifyCursor is the name of the notifier's cursor in the change feed.
const NotifyCursor = "notifications"

// NotifyStore is the part of the metadata store notifications use.
type NotifyStore interface {
	Events(ctx context.Context, after int64, limit int) ([]store.Event, error)
	LastEventSeq(ctx context.Context) (int64, error)
	Cursor(ctx context.Context, name string) (int64, bool, error)
	SetCursor(ctx context.Context, name string, seq int64) error
	CreateNotificationHook(ctx context.Context, h store.NotificationHook) (store.NotificationHook, error)
	NotificationHooks(ctx context.Context, project string) ([]store.NotificationHook, error)
	GetNotificationHook(ctx context.Context, id string) (store.NotificationHook, error)
	CreateNotificationDelivery(ctx context.Context, d store.NotificationDelivery) (store.NotificationDelivery, bool, error)
	GetBuild(ctx context.Context, id string) (store.Build, error)
	GetDeployment(ctx context.Context, id string) (store.Deployment, error)
	GetPromotion(ctx context.Context, id string) (store.Promotion, error)
}

// NotifyStarter starts Notify workflows (client.Client).
type NotifyStarter interface {
	ExecuteWorkflow(ctx context.Context, options client.StartWorkflowOptions, workflow any, args ...any) (client.WorkflowRun, error)
}

// Notifications tells a project's notification hooks what happened: it follows the store's change feed, makes one
// delivery per event and hook (once, however often it reads the event) and starts a Notify workflow for each,
// which POSTs it, signed, with retries. The zero Notifications is not usable: Store is required.
type Notifications struct {
	Store NotifyStore
	// Temporal starts the deliveries; nil records them and sends none.
	Temporal NotifyStarter
	// Keys seals the hooks' secrets; required to create one.
	Keys interface {
		Seal(aad, plaintext []byte) (secretbox.Sealed, error)
	}
	// Log receives what Follow does not return; nil means slog.Default().
	Log *slog.Logger
}

func (n *Notifications) log() *slog.Logger {
	if n.Log == nil {
		return slog.Default()
	}
	return n.Log
}

// CreateHook checks and stores a project's hook: an absolute http(s) URL, a known format and known events
// (Invalid, naming the field). Without a secret it makes one, returned here only.
func (n *Notifications) CreateHook(ctx context.Context, project string, req api.NotificationHookRequest, actor string) (store.NotificationHook, string, error) {
	u, err := url.Parse(req.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return store.NotificationHook{}, "", refuse(Invalid, "invalid", "url", "url must be an absolute http or https URL, not %q", req.URL)
	}
	format := req.Format
	if format == "" {
		format = api.NotificationJSON
	}
	if format != api.NotificationJSON && format != api.NotificationSlack {
		return store.NotificationHook{}, "", refuse(Invalid, "invalid", "format", "format must be %q or %q, not %q", api.NotificationJSON, api.NotificationSlack, format)
	}
	for i, e := range req.Events {
		if !slices.Contains(api.NotificationEvents, e) {
			return store.NotificationHook{}, "", refuse(Invalid, "invalid", fmt.Sprintf("events[%d]", i), "%q is not an event: want one of %s",
				e, strings.Join(api.NotificationEvents, ", "))
		}
	}
	secret, made := req.Secret, ""
	if secret == "" {
		b := make([]byte, 24)
		rand.Read(b)
		secret = "swsec_" + hex.EncodeToString(b)
		made = secret
	}
	id := "nh-" + randomHex(8)
	sealed, err := n.Keys.Seal(store.NotificationHookAAD(id), []byte(secret))
	if err != nil {
		return store.NotificationHook{}, "", fmt.Errorf("sealing the secret of hook %s: %w", id, err)
	}
	h, err := n.Store.CreateNotificationHook(ctx, store.NotificationHook{ID: id, Project: project, URL: req.URL, Format: format,
		Events: req.Events, Secret: sealed, Actor: actor})
	return h, made, err
}

// eventOf is the notification a change of the feed is, if it is one: a build failed, a deployment succeeded,
// failed or rolled back, a promotion request waiting for approvals or for a window.
func eventOf(e store.Event) (string, bool) {
	switch e.Kind + "/" + e.State {
	case store.EventBuild + "/" + api.BuildFailed:
		return api.NotifyBuildFailed, true
	case store.EventDeployment + "/" + api.DeploymentSucceeded:
		return api.NotifyDeploymentSucceeded, true
	case store.EventDeployment + "/" + api.DeploymentFailed:
		return api.NotifyDeploymentFailed, true
	case store.EventDeployment + "/" + api.DeploymentRolledBack:
		return api.NotifyDeploymentRolledBack, true
	case store.EventPromotion + "/" + api.PromotionPendingApproval:
		return api.NotifyApprovalRequested, true
	case store.EventPromotion + "/" + api.PromotionWaitingWindow:
		return api.NotifyPromotionWaiting, true
	}
	return "", false
}

// Follow runs Step every interval until ctx ends; a failing step (the store or Temporal away) is logged and
// tried again, from where the cursor is.
func (n *Notifications) Follow(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		for {
			more, err := n.Step(ctx)
			if err != nil && ctx.Err() == nil {
				n.log().WarnContext(ctx, "notifying", "error", err)
			}
			if !more || err != nil {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Step reads the feed after the notifier's cursor (from its newest event, the first time: what happened before
// is not notified), makes and starts the deliveries of what it finds and moves the cursor past each event once
// its deliveries are started. It reports whether there may be more to read.
func (n *Notifications) Step(ctx context.Context) (bool, error) {
	after, ok, err := n.Store.Cursor(ctx, NotifyCursor)
	if err != nil {
		return false, err
	}
	if !ok {
		last, err := n.Store.LastEventSeq(ctx)
		if err != nil {
			return false, err
		}
		return true, n.Store.SetCursor(ctx, NotifyCursor, last)
	}
	const batch = 200
	events, err := n.Store.Events(ctx, after, batch)
	if err != nil {
		return false, err
	}
	hooks := map[string][]store.NotificationHook{} // by project, read once a step
	for _, e := range events {
		if event, ok := eventOf(e); ok {
			hs, read := hooks[e.Project]
			if !read {
				if hs, err = n.Store.NotificationHooks(ctx, e.Project); err != nil {
					return false, err
				}
				hooks[e.Project] = hs
			}
			subject := e.Kind + "/" + e.Ref + "/" + e.State
			for _, h := range hs {
				// A hook hears of what happens from its creation on, however late the feed is read.
				if (len(h.Events) == 0 || slices.Contains(h.Events, event)) && !e.At.Before(h.CreatedAt) {
					if err := n.deliver(ctx, h, event, subject); err != nil {
						return false, err
					}
				}
			}
		}
		if err := n.Store.SetCursor(ctx, NotifyCursor, e.Seq); err != nil {
			return false, err
		}
	}
	return len(events) == batch, nil
}

// deliveryID is the ID of the delivery of subject to hook: one per pair.
func deliveryID(hook, subject string) string {
	sum := sha256.Sum256([]byte(hook + "\x00" + subject))
	return "nd-" + hex.EncodeToString(sum[:8])
}

// deliver records the delivery of event about subject to h, once, and starts it unless it has ended.
func (n *Notifications) deliver(ctx context.Context, h store.NotificationHook, event, subject string) error {
	d, _, err := n.Store.CreateNotificationDelivery(ctx, store.NotificationDelivery{ID: deliveryID(h.ID, subject), HookID: h.ID,
		Event: event, Subject: subject})
	if errors.Is(err, store.ErrNotFound) {
		return nil // the hook was deleted since it was read
	}
	if err != nil || d.Status != store.DeliveryPending {
		return err
	}
	return n.start(ctx, d.ID)
}

// Test sends hook a ping, now, as its own delivery.
func (n *Notifications) Test(ctx context.Context, h store.NotificationHook) (store.NotificationDelivery, error) {
	d, _, err := n.Store.CreateNotificationDelivery(ctx, store.NotificationDelivery{ID: "nd-" + randomHex(8), HookID: h.ID,
		Event: api.NotifyPing, Subject: "ping/" + h.ID})
	if err != nil {
		return d, err
	}
	return d, n.start(ctx, d.ID)
}

// start starts the delivery's Notify workflow; one already started (or ended) under its ID is left as it is.
func (n *Notifications) start(ctx context.Context, id string) error {
	if n.Temporal == nil {
		return errTemporalUnavailable("Temporal is not configured: notifications cannot be sent")
	}
	tctx, cancel := context.WithTimeout(ctx, TemporalTimeout)
	defer cancel()
	_, err := n.Temporal.ExecuteWorkflow(tctx, workflows.NotifyStart(id), workflows.Notify, workflows.NotifyInput{DeliveryID: id})
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	if errors.As(err, &started) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("starting delivery %s: %w", id, err)
	}
	return nil
}

// Body is what the delivery of d to its hook says: the Notification of its subject, read from the store, and the
// line a person reads. It names builds, deployments, requests, statuses and their messages; never a config or
// secret value.
func (n *Notifications) Body(ctx context.Context, d store.NotificationDelivery, project string) (api.Notification, error) {
	out := api.Notification{ID: d.ID, Event: d.Event, Project: project, At: d.CreatedAt}
	parts := strings.SplitN(d.Subject, "/", 3)
	if len(parts) == 3 {
		out.Status = parts[2]
	}
	switch parts[0] {
	case store.EventBuild:
		b, err := n.Store.GetBuild(ctx, parts[1])
		if err != nil {
			return out, err
		}
		out.Component, out.Build, out.Message = b.Component, b.ID, b.Error
		out.Text = fmt.Sprintf("Build %s of %s/%s failed: %s", b.ID, project, b.Component, b.Error)
	case store.EventDeployment:
		dep, err := n.Store.GetDeployment(ctx, parts[1])
		if err != nil {
			return out, err
		}
		out.Component, out.Environment, out.Build, out.Deployment, out.Message = dep.Component, dep.Environment, dep.BuildID, dep.ID, dep.Message
		if out.Status == api.DeploymentSucceeded {
			out.URL = dep.URL
		}
		what := map[string]string{api.DeploymentSucceeded: "serves", api.DeploymentFailed: "failed to deploy", api.DeploymentRolledBack: "was rolled back"}[out.Status]
		out.Text = fmt.Sprintf("%s/%s: build %s %s in %s", project, dep.Component, dep.BuildID, what, dep.Environment)
		if out.Status != api.DeploymentSucceeded && dep.Message != "" {
			out.Text += ": " + dep.Message
		}
	case store.EventPromotion:
		p, err := n.Store.GetPromotion(ctx, parts[1])
		if err != nil {
			return out, err
		}
		out.Component, out.Environment, out.Build, out.Promotion, out.Message = p.Component, p.Environment, p.BuildID, p.ID, p.Message
		out.Text = fmt.Sprintf("%s/%s: promotion %s of build %s into %s waits: %s", project, p.Component, p.ID, p.BuildID, p.Environment, p.Message)
	default:
		out.Text = "slipway: a test notification to hook " + d.HookID
	}
	return out, nil
}

// randomHex is n random bytes in hex.
func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
