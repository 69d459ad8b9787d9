package store

import (
	"slices"
	"testing"

	"github.com/slipway-dev/slipway/secretbox"
)

func TestWebhooksAreKeptSealedAndRewrapped(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		repo := "github.com/acme/api"
		w, created, err := s.CreateWebhook(ctx, Webhook{Repo: repo, Provider: "github", Secret: fakeSealed("kek-1", "hook")})
		must(t, err)
		if !created || w.CreatedAt.IsZero() {
			t.Fatalf("created %v %+v", created, w)
		}
		again, created, err := s.CreateWebhook(ctx, Webhook{Repo: repo, Provider: "github", Secret: fakeSealed("kek-1", "other")})
		must(t, err)
		if created || string(again.Secret.Ciphertext) != "ct-hook" {
			t.Fatalf("second create replaced the secret: %v %+v", created, again)
		}
		must(t, s.SetWebhookHookID(ctx, repo, "42"))
		wantErr(t, s.SetWebhookHookID(ctx, "nope", "1"), ErrNotFound, "")
		ids, err := s.KEKIDs(ctx)
		must(t, err)
		if !slices.Contains(ids, "kek-1") {
			t.Fatalf("KEK IDs %v lack the webhook's", ids)
		}
		n, err := s.RewrapConfigs(ctx, 0, func(v secretbox.Sealed) (secretbox.Sealed, bool, error) {
			if v.KEKID == "kek-2" {
				return v, false, nil
			}
			v.KEKID, v.WrappedKey = "kek-2", append([]byte("re-"), v.WrappedKey...)
			return v, true, nil
		})
		must(t, err)
		got, err := s.GetWebhook(ctx, repo)
		must(t, err)
		if n != 1 || got.Secret.KEKID != "kek-2" || got.HookID != "42" || string(got.Secret.Ciphertext) != "ct-hook" {
			t.Fatalf("after rewrap (%d changed): %+v", n, got)
		}
		must(t, s.DeleteWebhook(ctx, repo))
		_, err = s.GetWebhook(ctx, repo)
		wantErr(t, err, ErrNotFound, `webhook of "github.com/acme/api": not found`)
	})
}
