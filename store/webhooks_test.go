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
		w, created, err := s.CreateWebhook(ctx, Webhook{Repo: repo, Provider: "github", Key: "k1", Secret: fakeSealed("kek-1", "hook")})
		must(t, err)
		if !created || w.CreatedAt.IsZero() {
			t.Fatalf("created %v %+v", created, w)
		}
		again, created, err := s.CreateWebhook(ctx, Webhook{Repo: repo, Provider: "github", Key: "k2", Secret: fakeSealed("kek-1", "other")})
		must(t, err)
		if created || string(again.Secret.Ciphertext) != "ct-hook" || again.Key != "k1" {
			t.Fatalf("second create replaced the secret: %v %+v", created, again)
		}
		_, _, err = s.CreateWebhook(ctx, Webhook{Repo: "github.com/acme/other", Provider: "github", Secret: fakeSealed("kek-1", "x")})
		wantErr(t, err, ErrInvalid, "webhook needs a repository, a delivery key and a sealed secret: invalid")
		byKey, err := s.GetWebhookByKey(ctx, "k1")
		must(t, err)
		if byKey.Repo != repo || string(byKey.Secret.Ciphertext) != "ct-hook" {
			t.Fatalf("by key: %+v", byKey)
		}
		for _, k := range []string{"k2", ""} {
			_, err = s.GetWebhookByKey(ctx, k)
			wantErr(t, err, ErrNotFound, "")
		}
		// A webhook made before keys (key '') gets one once; a second call keeps the first.
		_, err = s.db().exec(ctx, "UPDATE webhooks SET delivery_key = '' WHERE repo = ?", repo)
		must(t, err)
		for _, give := range []string{"k3", "k4"} {
			k, err := s.GiveWebhookKey(ctx, repo, give)
			must(t, err)
			if k != "k3" {
				t.Fatalf("GiveWebhookKey(%s) = %s, want k3", give, k)
			}
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
