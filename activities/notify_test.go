package activities

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/slipway-dev/slipway/api"
	"github.com/slipway-dev/slipway/delivery"
	"github.com/slipway-dev/slipway/secretbox"
	"github.com/slipway-dev/slipway/store"
	"github.com/slipway-dev/slipway/store/storetest"
	"github.com/slipway-dev/slipway/workflows"
)

// starts records the workflows the notifier starts.
type starts struct {
	client.Client
	mu  sync.Mutex
	ids []string
}

func (s *starts) ExecuteWorkflow(_ context.Context, o client.StartWorkflowOptions, _ any, _ ...any) (client.WorkflowRun, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ids = append(s.ids, o.ID)
	return nil, nil
}

// receiver is a hook's receiver: it answers codes in turn (then 200) and keeps what it got.
type receiver struct {
	mu     sync.Mutex
	codes  []int
	bodies [][]byte
	heads  []http.Header
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	b, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.bodies, r.heads = append(r.bodies, b), append(r.heads, req.Header.Clone())
	code := http.StatusOK
	if len(r.codes) > 0 {
		code, r.codes = r.codes[0], r.codes[1:]
	}
	w.WriteHeader(code)
}

// TestNotificationsFollowTheFeedAndDeliverSigned: a deployment succeeding becomes one delivery per subscribed
// hook, however often the feed is read; the delivery POSTs a signed body naming it (no config value), retries what
// may pass later, gives up on a refusal and never sends a delivered one again.
func TestNotificationsFollowTheFeedAndDeliverSigned(t *testing.T) {
	ctx := t.Context()
	st, err := store.Open(ctx, storetest.SQLiteDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	keys, err := secretbox.LoadOrCreateKeyring(filepath.Join(t.TempDir(), "keys.json"))
	if err != nil {
		t.Fatal(err)
	}
	rcv := &receiver{codes: []int{http.StatusBadGateway}}
	srv := httptest.NewServer(rcv)
	t.Cleanup(srv.Close)
	started := &starts{}
	use := &delivery.Notifications{Store: st, Temporal: started, Keys: keys}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	_, err = st.CreateProject(ctx, store.Project{Name: "shop"}, []store.Environment{{Name: "development"}})
	must(err)
	_, err = st.CreateComponent(ctx, store.Component{Project: "shop", Name: "api", Repo: "file:///tmp/api"})
	must(err)
	all, secret, err := use.CreateHook(ctx, "shop", api.NotificationHookRequest{URL: srv.URL + "/hook"}, "root")
	must(err)
	_, _, err = use.CreateHook(ctx, "shop", api.NotificationHookRequest{URL: srv.URL + "/failures", Events: []string{api.NotifyBuildFailed}}, "root")
	must(err)
	_, err = use.Step(ctx) // the first step starts after what happened before
	must(err)

	_, err = st.CreateBuild(ctx, store.Build{ID: "b-1", Project: "shop", Component: "api", Commit: "abc"})
	must(err)
	_, err = st.CreateDeployment(ctx, store.Deployment{ID: "d-1", Project: "shop", Component: "api", Environment: "development", BuildID: "b-1"})
	must(err)
	now := time.Now().UTC()
	_, err = st.UpdateDeployment(ctx, "d-1", func(d *store.Deployment) error {
		d.Status, d.URL, d.Message, d.EndedAt = api.DeploymentSucceeded, "http://api.development.shop.localhost", "ready", &now
		return nil
	})
	must(err)
	for range 2 {
		_, err = use.Step(ctx)
		must(err)
	}
	must(st.SetCursor(ctx, delivery.NotifyCursor, 0)) // read it all again: nothing new is made
	_, err = use.Step(ctx)
	must(err)
	ds, err := st.NotificationDeliveries(ctx, all.ID, 0)
	must(err)
	if len(ds) != 1 || ds[0].Event != api.NotifyDeploymentSucceeded || ds[0].Subject != "deployment/d-1/succeeded" {
		t.Fatalf("deliveries %+v, want one deployment.succeeded", ds)
	}
	for _, id := range started.ids {
		if id != workflows.NotifyWorkflowID(ds[0].ID) {
			t.Fatalf("started %v, want only %s (again, harmlessly)", started.ids, workflows.NotifyWorkflowID(ds[0].ID))
		}
	}

	// The first POST meets a 502: worth trying again. The second is delivered, signed; a third is not made.
	act := &Notifications{Store: st, Keyring: keys}
	in := workflows.DeliverNotificationInput{DeliveryID: ds[0].ID}
	if err := act.DeliverNotification(ctx, in); err == nil || isNonRetryable(err) {
		t.Fatalf("a 502: %v, want an error worth retrying", err)
	}
	must(act.DeliverNotification(ctx, in))
	must(act.DeliverNotification(ctx, in))
	if len(rcv.bodies) != 2 {
		t.Fatalf("%d POSTs, want 2", len(rcv.bodies))
	}
	body, head := rcv.bodies[1], rcv.heads[1]
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	if head.Get("X-Slipway-Signature") != "sha256="+hex.EncodeToString(mac.Sum(nil)) || head.Get("X-Slipway-Event") != api.NotifyDeploymentSucceeded ||
		head.Get("X-Slipway-Delivery") != ds[0].ID {
		t.Fatalf("headers %v", head)
	}
	var note api.Notification
	must(json.Unmarshal(body, &note))
	if note.ID != ds[0].ID || note.Deployment != "d-1" || note.Environment != "development" || note.Status != "succeeded" ||
		!strings.Contains(note.Text, "build b-1 serves in development") {
		t.Fatalf("body %s", body)
	}
	got, err := st.GetNotificationDelivery(ctx, ds[0].ID)
	must(err)
	if got.Status != store.DeliveryDelivered || got.Attempts != 2 || got.LastStatus != 200 {
		t.Fatalf("delivery after it was delivered %+v", got)
	}

	// A 404 is final: the delivery is failed, not retried.
	rcv.codes = []int{http.StatusNotFound}
	ping, err := use.Test(ctx, all)
	must(err)
	if err := act.DeliverNotification(ctx, workflows.DeliverNotificationInput{DeliveryID: ping.ID}); !isNonRetryable(err) {
		t.Fatalf("a 404: %v, want a non-retryable error", err)
	}
	if got, _ := st.GetNotificationDelivery(ctx, ping.ID); got.Status != store.DeliveryFailed || !strings.Contains(got.LastError, "404") {
		t.Fatalf("ping after a 404 %+v", got)
	}
}

func isNonRetryable(err error) bool {
	var app *temporal.ApplicationError
	return errors.As(err, &app) && app.NonRetryable()
}
