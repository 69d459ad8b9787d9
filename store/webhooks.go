package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/slipway-dev/slipway/secretbox"
)

// Webhook is the webhook of one repository: the secret its deliveries are checked with, sealed.
type Webhook struct {
	// Repo is the repository's normalized address (see webhooks.RepoKey); required.
	Repo string
	// Provider is "github" or "gitlab".
	Provider string
	// HookID is the webhook's ID on the Git host when slipway created it; "" when it was added by hand.
	HookID string
	// Key is the unguessable last segment of the repository's delivery URL (/webhooks/<provider>/<key>); required
	// to create one. "" means a webhook made before keys, to which no delivery is accepted until it gets one.
	Key    string
	Secret secretbox.Sealed
	// CreatedAt is set by the store.
	CreatedAt time.Time
}

// WebhookAAD is the associated data a repository's webhook secret is sealed with.
func WebhookAAD(repo string) []byte { return secretbox.AAD("webhook", repo) }

func webhookRef(repo string) string { return fmt.Sprintf("webhook of %q", repo) }

// CreateWebhook stores w unless its repository has one; it returns the repository's webhook either way and
// whether it was created.
func (s *Store) CreateWebhook(ctx context.Context, w Webhook) (Webhook, bool, error) {
	if w.Repo == "" || w.Key == "" || incomplete(w.Secret) {
		return Webhook{}, false, invalid("webhook needs a repository, a delivery key and a sealed secret")
	}
	w.CreatedAt = now()
	res, err := s.db().exec(ctx, `INSERT INTO webhooks (repo, provider, hook_id, delivery_key, kek_id, wrapped_key, ciphertext, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (repo) DO NOTHING`,
		w.Repo, w.Provider, w.HookID, w.Key, w.Secret.KEKID, w.Secret.WrappedKey, w.Secret.Ciphertext, toDB(w.CreatedAt))
	if err != nil {
		return Webhook{}, false, fmt.Errorf("creating %s: %w", webhookRef(w.Repo), err)
	}
	n, err := affected(res)
	if err != nil {
		return Webhook{}, false, err
	}
	if n == 1 {
		return w, true, nil
	}
	got, err := s.GetWebhook(ctx, w.Repo)
	return got, false, err
}

// GetWebhook returns the repository's webhook, or an error wrapping ErrNotFound.
func (s *Store) GetWebhook(ctx context.Context, repo string) (Webhook, error) {
	return s.getWebhook(ctx, webhookRef(repo), "repo = ?", repo)
}

// GetWebhookByKey returns the webhook whose delivery URL ends in key, or an error wrapping ErrNotFound
// ("" finds none).
func (s *Store) GetWebhookByKey(ctx context.Context, key string) (Webhook, error) {
	if key == "" {
		return Webhook{}, notFound("webhook")
	}
	return s.getWebhook(ctx, "webhook", "delivery_key = ?", key)
}

func (s *Store) getWebhook(ctx context.Context, ref, where string, arg any) (Webhook, error) {
	var w Webhook
	var created int64
	err := s.db().queryRow(ctx, `SELECT repo, provider, hook_id, delivery_key, kek_id, wrapped_key, ciphertext, created_at FROM webhooks WHERE `+where,
		arg).Scan(&w.Repo, &w.Provider, &w.HookID, &w.Key, &w.Secret.KEKID, &w.Secret.WrappedKey, &w.Secret.Ciphertext, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return Webhook{}, notFound(ref)
	}
	if err != nil {
		return Webhook{}, fmt.Errorf("getting %s: %w", ref, err)
	}
	w.CreatedAt = fromDB(created)
	return w, nil
}

// GiveWebhookKey gives the repository's webhook key unless it has one, and returns the key it has then.
func (s *Store) GiveWebhookKey(ctx context.Context, repo, key string) (string, error) {
	if key == "" {
		return "", invalid("a webhook's delivery key cannot be empty")
	}
	if _, err := s.db().exec(ctx, "UPDATE webhooks SET delivery_key = ? WHERE repo = ? AND delivery_key = ''", key, repo); err != nil {
		return "", fmt.Errorf("updating %s: %w", webhookRef(repo), err)
	}
	w, err := s.GetWebhook(ctx, repo)
	return w.Key, err
}

// SetWebhookHookID records the ID the Git host gave the repository's webhook.
func (s *Store) SetWebhookHookID(ctx context.Context, repo, hookID string) error {
	res, err := s.db().exec(ctx, "UPDATE webhooks SET hook_id = ? WHERE repo = ?", hookID, repo)
	if err != nil {
		return fmt.Errorf("updating %s: %w", webhookRef(repo), err)
	}
	if n, err := affected(res); err != nil || n == 0 {
		return errors.Join(err, notFound(webhookRef(repo)))
	}
	return nil
}

// DeleteWebhook deletes the repository's webhook; a missing one is not an error.
func (s *Store) DeleteWebhook(ctx context.Context, repo string) error {
	if _, err := s.db().exec(ctx, "DELETE FROM webhooks WHERE repo = ?", repo); err != nil {
		return fmt.Errorf("deleting %s: %w", webhookRef(repo), err)
	}
	return nil
}
