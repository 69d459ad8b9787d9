package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/slipway-dev/slipway/secretbox"
)

// NotificationHook is a URL a project's events are POSTed to, each body signed with its secret.
type NotificationHook struct {
	// ID identifies the hook ("nh-" and 16 hex digits); required.
	ID, Project string
	// URL is where deliveries go (http or https); Format is "json" or "slack".
	URL, Format string
	// Events are the event names delivered; empty means every one.
	Events []string
	// Secret is the HMAC key, sealed with NotificationHookAAD(ID); required.
	Secret secretbox.Sealed
	// Actor created it; CreatedAt is set by the store.
	Actor     string
	CreatedAt time.Time
}

// NotificationDelivery is one event delivered (or being delivered) to one hook.
type NotificationDelivery struct {
	// ID identifies the delivery ("nd-" and 16 hex digits, from the hook and the subject: one per pair).
	ID, HookID string
	// Event is the event's name ("deployment.succeeded"); Subject what it is about and in which state
	// ("deployment/d-…/succeeded").
	Event, Subject string
	// Status is "pending", "delivered" or "failed".
	Status string
	// Attempts counts the POSTs made; LastStatus is the last answer's HTTP status (0: none) and LastError what
	// went wrong with it ("" when it was delivered).
	Attempts, LastStatus int
	LastError            string
	// CreatedAt and UpdatedAt are set by the store.
	CreatedAt, UpdatedAt time.Time
}

// Delivery statuses (NotificationDelivery.Status).
const (
	DeliveryPending   = "pending"
	DeliveryDelivered = "delivered"
	DeliveryFailed    = "failed"
)

// NotificationHookAAD is the associated data a hook's secret is sealed with: it binds it to the hook.
func NotificationHookAAD(id string) []byte { return secretbox.AAD("notification-hook", id) }

func hookRef(id string) string { return "notification hook " + id }

const hookColumns = "id, project, url, format, events, kek_id, wrapped_key, ciphertext, actor, created_at"

// CreateNotificationHook stores h. It fails with ErrNotFound when the project does not exist, ErrExists when the
// ID is taken and ErrInvalid when the ID, URL or sealed secret is missing.
func (s *Store) CreateNotificationHook(ctx context.Context, h NotificationHook) (NotificationHook, error) {
	if h.ID == "" || h.URL == "" || incomplete(h.Secret) {
		return NotificationHook{}, invalid("a notification hook needs an ID, a URL and a sealed secret")
	}
	if h.Events == nil {
		h.Events = []string{}
	}
	events, err := json.Marshal(h.Events)
	if err != nil {
		return NotificationHook{}, err
	}
	h.CreatedAt = now()
	err = s.inTx(ctx, func(c conn) error {
		if err := c.requireProject(ctx, h.Project, lockShare); err != nil {
			return err
		}
		_, err := c.exec(ctx, "INSERT INTO notification_hooks ("+hookColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
			h.ID, h.Project, h.URL, h.Format, string(events), h.Secret.KEKID, h.Secret.WrappedKey, h.Secret.Ciphertext, h.Actor, toDB(h.CreatedAt))
		if isUniqueViolation(err) {
			return exists(hookRef(h.ID))
		}
		if err != nil {
			return fmt.Errorf("creating %s: %w", hookRef(h.ID), err)
		}
		return nil
	})
	return h, err
}

// NotificationHooks returns the project's hooks, oldest first.
func (s *Store) NotificationHooks(ctx context.Context, project string) ([]NotificationHook, error) {
	rows, err := s.db().query(ctx, "SELECT "+hookColumns+" FROM notification_hooks WHERE project = ? ORDER BY created_at, id", project)
	if err != nil {
		return nil, fmt.Errorf("listing the notification hooks of project %q: %w", project, err)
	}
	defer rows.Close()
	out := []NotificationHook{}
	for rows.Next() {
		h, err := scanHook(rows)
		if err != nil {
			return nil, fmt.Errorf("listing the notification hooks of project %q: %w", project, err)
		}
		out = append(out, h)
	}
	return out, rows.Err()
}

// GetNotificationHook returns the hook, or an error wrapping ErrNotFound.
func (s *Store) GetNotificationHook(ctx context.Context, id string) (NotificationHook, error) {
	h, err := scanHook(s.db().queryRow(ctx, "SELECT "+hookColumns+" FROM notification_hooks WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return NotificationHook{}, notFound(hookRef(id))
	}
	if err != nil {
		return NotificationHook{}, fmt.Errorf("getting %s: %w", hookRef(id), err)
	}
	return h, nil
}

// DeleteNotificationHook deletes the project's hook and its deliveries; ErrNotFound when it has none such.
func (s *Store) DeleteNotificationHook(ctx context.Context, project, id string) error {
	return s.deleteOne(ctx, hookRef(id), projectEvent(project), func(c conn) error { return c.requireProject(ctx, project, lockShare) },
		"DELETE FROM notification_hooks WHERE project = ? AND id = ?", project, id)
}

func scanHook(row interface{ Scan(...any) error }) (NotificationHook, error) {
	var h NotificationHook
	var events string
	var created int64
	if err := row.Scan(&h.ID, &h.Project, &h.URL, &h.Format, &events, &h.Secret.KEKID, &h.Secret.WrappedKey, &h.Secret.Ciphertext,
		&h.Actor, &created); err != nil {
		return NotificationHook{}, err
	}
	if err := json.Unmarshal([]byte(events), &h.Events); err != nil {
		return NotificationHook{}, fmt.Errorf("reading the events of %s: %w", hookRef(h.ID), err)
	}
	h.CreatedAt = fromDB(created)
	return h, nil
}

const deliveryColumns = "id, hook_id, event, subject, status, attempts, last_status, last_error, created_at, updated_at"

// CreateNotificationDelivery stores d, pending, unless a delivery with its ID exists: it returns the stored one
// and whether it was created. It fails with ErrNotFound when the hook does not exist.
func (s *Store) CreateNotificationDelivery(ctx context.Context, d NotificationDelivery) (NotificationDelivery, bool, error) {
	d.Status, d.CreatedAt = DeliveryPending, now()
	d.UpdatedAt = d.CreatedAt
	created := false
	err := s.inTx(ctx, func(c conn) error {
		if _, err := getHookIn(ctx, c, d.HookID); err != nil {
			return err
		}
		res, err := c.exec(ctx, "INSERT INTO notification_deliveries ("+deliveryColumns+`) VALUES (?, ?, ?, ?, ?, 0, 0, '', ?, ?)
			ON CONFLICT (id) DO NOTHING`, d.ID, d.HookID, d.Event, d.Subject, d.Status, toDB(d.CreatedAt), toDB(d.UpdatedAt))
		if err != nil {
			return fmt.Errorf("recording delivery %s: %w", d.ID, err)
		}
		n, err := affected(res)
		created = n == 1
		return err
	})
	if err != nil || created {
		return d, created, err
	}
	got, err := s.GetNotificationDelivery(ctx, d.ID)
	return got, false, err
}

func getHookIn(ctx context.Context, c conn, id string) (string, error) {
	var project string
	err := c.queryRow(ctx, "SELECT project FROM notification_hooks WHERE id = ?", id).Scan(&project)
	if errors.Is(err, sql.ErrNoRows) {
		return "", notFound(hookRef(id))
	}
	return project, err
}

// GetNotificationDelivery returns the delivery, or an error wrapping ErrNotFound.
func (s *Store) GetNotificationDelivery(ctx context.Context, id string) (NotificationDelivery, error) {
	d, err := scanDelivery(s.db().queryRow(ctx, "SELECT "+deliveryColumns+" FROM notification_deliveries WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return NotificationDelivery{}, notFound("notification delivery " + id)
	}
	return d, err
}

// RecordDeliveryAttempt records one attempt of the delivery: its HTTP status (0: no answer), what went wrong
// ("" for nothing) and the status it leaves the delivery in. A delivery already delivered does not change.
func (s *Store) RecordDeliveryAttempt(ctx context.Context, id string, httpStatus int, problem, status string) error {
	res, err := s.db().exec(ctx, `UPDATE notification_deliveries SET attempts = attempts + 1, last_status = ?, last_error = ?, status = ?,
		updated_at = ? WHERE id = ? AND status <> ?`, httpStatus, problem, status, toDB(now()), id, DeliveryDelivered)
	if err != nil {
		return fmt.Errorf("recording an attempt of delivery %s: %w", id, err)
	}
	_, err = affected(res)
	return err
}

// NotificationDeliveries returns the hook's latest deliveries, newest first, at most limit (<= 0: 100).
func (s *Store) NotificationDeliveries(ctx context.Context, hookID string, limit int) ([]NotificationDelivery, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.db().query(ctx, "SELECT "+deliveryColumns+" FROM notification_deliveries WHERE hook_id = ? ORDER BY created_at DESC, id DESC LIMIT ?",
		hookID, limit)
	if err != nil {
		return nil, fmt.Errorf("listing the deliveries of %s: %w", hookRef(hookID), err)
	}
	defer rows.Close()
	out := []NotificationDelivery{}
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return nil, fmt.Errorf("listing the deliveries of %s: %w", hookRef(hookID), err)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

func scanDelivery(row interface{ Scan(...any) error }) (NotificationDelivery, error) {
	var d NotificationDelivery
	var created, updated int64
	if err := row.Scan(&d.ID, &d.HookID, &d.Event, &d.Subject, &d.Status, &d.Attempts, &d.LastStatus, &d.LastError, &created, &updated); err != nil {
		return NotificationDelivery{}, err
	}
	d.CreatedAt, d.UpdatedAt = fromDB(created), fromDB(updated)
	return d, nil
}

// Cursor returns how far the named follower of the change feed has got; ok is false when it never said.
func (s *Store) Cursor(ctx context.Context, name string) (seq int64, ok bool, err error) {
	err = s.db().queryRow(ctx, "SELECT seq FROM cursors WHERE name = ?", name).Scan(&seq)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("reading cursor %q: %w", name, err)
	}
	return seq, true, nil
}

// SetCursor records how far the named follower of the change feed has got.
func (s *Store) SetCursor(ctx context.Context, name string, seq int64) error {
	if _, err := s.db().exec(ctx, "INSERT INTO cursors (name, seq) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET seq = excluded.seq",
		name, seq); err != nil {
		return fmt.Errorf("setting cursor %q: %w", name, err)
	}
	return nil
}

// FailNotificationDelivery records a pending delivery given up, with why.
func (s *Store) FailNotificationDelivery(ctx context.Context, id, problem string) error {
	if _, err := s.db().exec(ctx, `UPDATE notification_deliveries SET status = ?, last_error = ?, updated_at = ? WHERE id = ? AND status = ?`,
		DeliveryFailed, problem, toDB(now()), id, DeliveryPending); err != nil {
		return fmt.Errorf("failing delivery %s: %w", id, err)
	}
	return nil
}
