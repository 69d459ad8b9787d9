package store

import (
	"testing"
)

func TestNotificationHooksDeliveriesAndCursors(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		mustCreateProject(t, s, "shop")
		h := NotificationHook{ID: "nh-1", Project: "shop", URL: "https://hooks.example.com", Format: "json", Secret: fakeSealed("kek-1", "s"), Actor: "root"}
		_, err := s.CreateNotificationHook(ctx, h)
		must(t, err)
		_, err = s.CreateNotificationHook(ctx, h)
		wantErr(t, err, ErrExists, "")
		h.ID, h.Project = "nh-2", "nope"
		_, err = s.CreateNotificationHook(ctx, h)
		wantErr(t, err, ErrNotFound, "")
		hooks, err := s.NotificationHooks(ctx, "shop")
		must(t, err)
		if len(hooks) != 1 || hooks[0].Events == nil || hooks[0].Secret.KEKID != "kek-1" {
			t.Fatalf("hooks %+v", hooks)
		}

		d := NotificationDelivery{ID: "nd-1", HookID: "nh-1", Event: "deployment.succeeded", Subject: "deployment/d-1/succeeded"}
		if _, created, err := s.CreateNotificationDelivery(ctx, d); err != nil || !created {
			t.Fatalf("first delivery: created %v, %v", created, err)
		}
		must(t, s.RecordDeliveryAttempt(ctx, "nd-1", 502, "answered 502", DeliveryPending))
		if got, created, err := s.CreateNotificationDelivery(ctx, d); err != nil || created || got.Attempts != 1 || got.LastStatus != 502 {
			t.Fatalf("the same delivery again: %+v, created %v, %v", got, created, err)
		}
		must(t, s.RecordDeliveryAttempt(ctx, "nd-1", 200, "", DeliveryDelivered))
		must(t, s.RecordDeliveryAttempt(ctx, "nd-1", 500, "late", DeliveryPending)) // a delivered one does not change
		must(t, s.FailNotificationDelivery(ctx, "nd-1", "given up"))
		if got, err := s.GetNotificationDelivery(ctx, "nd-1"); err != nil || got.Status != DeliveryDelivered || got.Attempts != 2 {
			t.Fatalf("delivered %+v, %v", got, err)
		}
		_, _, err = s.CreateNotificationDelivery(ctx, NotificationDelivery{ID: "nd-2", HookID: "nh-9"})
		wantErr(t, err, ErrNotFound, "")

		if _, ok, err := s.Cursor(ctx, "notifications"); err != nil || ok {
			t.Fatalf("a cursor before any: %v, %v", ok, err)
		}
		must(t, s.SetCursor(ctx, "notifications", 7))
		must(t, s.SetCursor(ctx, "notifications", 9))
		if seq, ok, err := s.Cursor(ctx, "notifications"); err != nil || !ok || seq != 9 {
			t.Fatalf("cursor %d, %v, %v", seq, ok, err)
		}
		must(t, s.DeleteNotificationHook(ctx, "shop", "nh-1"))
		if ds, err := s.NotificationDeliveries(ctx, "nh-1", 0); err != nil || len(ds) != 0 {
			t.Fatalf("deliveries of a deleted hook %+v, %v", ds, err)
		}
		wantErr(t, s.DeleteNotificationHook(ctx, "shop", "nh-1"), ErrNotFound, "")
	})
}
