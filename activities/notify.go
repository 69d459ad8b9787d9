package activities

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/slipway-dev/slipway/api"
	"github.com/slipway-dev/slipway/delivery"
	"github.com/slipway-dev/slipway/gitcred"
	"github.com/slipway-dev/slipway/store"
	"github.com/slipway-dev/slipway/workflows"
)

// ErrTypeNotificationRefused means a hook answered a delivery with a 4xx (but 408 and 429): trying again would
// not change it.
const ErrTypeNotificationRefused = "NotificationRefused"

// NotifyStore is the part of the metadata store the notification activities use.
type NotifyStore interface {
	delivery.NotifyStore
	GetNotificationDelivery(ctx context.Context, id string) (store.NotificationDelivery, error)
	RecordDeliveryAttempt(ctx context.Context, id string, httpStatus int, problem, status string) error
	FailNotificationDelivery(ctx context.Context, id, problem string) error
}

// Notifications delivers notifications to projects' hooks. The zero Notifications is not usable: Store and Keyring
// are required.
type Notifications struct {
	Store NotifyStore
	// Keyring opens the hooks' secrets, only here.
	Keyring gitcred.Opener
	// Client POSTs the deliveries; nil means one with a 10 s timeout.
	Client *http.Client
}

// DeliverNotification POSTs the delivery's body to its hook once, signed with the hook's secret (header
// X-Slipway-Signature: sha256=<hex HMAC-SHA256 of the body>), and records the attempt. A 2xx delivers it; a 4xx
// but 408 and 429 is final (ErrTypeNotificationRefused); anything else is an error worth retrying. A delivery
// already delivered is not sent again; one whose hook was deleted is dropped.
func (n *Notifications) DeliverNotification(ctx context.Context, in workflows.DeliverNotificationInput) error {
	d, err := n.Store.GetNotificationDelivery(ctx, in.DeliveryID)
	if err != nil {
		return notFoundIsFinal(err)
	}
	if d.Status != store.DeliveryPending {
		return nil
	}
	h, err := n.Store.GetNotificationHook(ctx, d.HookID)
	if err != nil {
		return notFoundIsFinal(err)
	}
	secret, err := n.Keyring.Open(store.NotificationHookAAD(h.ID), h.Secret)
	if err != nil {
		return temporal.NewNonRetryableApplicationError("the secret of hook "+h.ID+" cannot be decrypted", ErrTypeUndecryptable, err)
	}
	use := &delivery.Notifications{Store: n.Store}
	note, err := use.Body(ctx, d, h.Project)
	if err != nil {
		return notFoundIsFinal(err)
	}
	var body []byte
	if h.Format == api.NotificationSlack {
		body, err = json.Marshal(map[string]string{"text": note.Text})
	} else {
		body, err = json.Marshal(note)
	}
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.URL, bytes.NewReader(body))
	if err != nil {
		return temporal.NewNonRetryableApplicationError("hook "+h.ID+" has a URL that cannot be asked: "+err.Error(), ErrTypeNotificationRefused, err)
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "slipway-notifications")
	req.Header.Set("X-Slipway-Event", d.Event)
	req.Header.Set("X-Slipway-Delivery", d.ID)
	req.Header.Set("X-Slipway-Signature", "sha256="+hex.EncodeToString(mac.Sum(nil)))
	client := n.Client
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	res, err := client.Do(req)
	if err != nil {
		msg := "no answer: " + delivery.WithoutHostDetail(err.Error())
		if rerr := n.Store.RecordDeliveryAttempt(ctx, d.ID, 0, msg, store.DeliveryPending); rerr != nil {
			return rerr
		}
		return fmt.Errorf("delivering %s: %s", d.ID, msg)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	res.Body.Close()
	switch code := res.StatusCode; {
	case code >= 200 && code < 300:
		return n.Store.RecordDeliveryAttempt(ctx, d.ID, code, "", store.DeliveryDelivered)
	case code >= 400 && code < 500 && code != http.StatusRequestTimeout && code != http.StatusTooManyRequests:
		msg := fmt.Sprintf("refused with %d %s", code, http.StatusText(code))
		if err := n.Store.RecordDeliveryAttempt(ctx, d.ID, code, msg, store.DeliveryFailed); err != nil {
			return err
		}
		return temporal.NewNonRetryableApplicationError("hook "+h.ID+" "+msg, ErrTypeNotificationRefused, nil)
	default:
		msg := fmt.Sprintf("answered %d %s", code, http.StatusText(code))
		if err := n.Store.RecordDeliveryAttempt(ctx, d.ID, code, msg, store.DeliveryPending); err != nil {
			return err
		}
		return fmt.Errorf("delivering %s: %s", d.ID, msg)
	}
}

// FailNotification records a delivery given up.
func (n *Notifications) FailNotification(ctx context.Context, in workflows.FailNotificationInput) error {
	return n.Store.FailNotificationDelivery(ctx, in.DeliveryID, in.Message)
}

// notFoundIsFinal makes the store's "not found" (the hook or what the delivery is about was deleted)
// non-retryable.
func notFoundIsFinal(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeNotificationRefused, err)
	}
	return err
}
