package server

import (
	"net/http"
	"strings"
	"testing"

	"github.com/slipway-dev/slipway/api"
	"github.com/slipway-dev/slipway/workflows"
)

func TestNotificationHooks(t *testing.T) {
	e, fake := newBuildEnv(t)
	hooks := "/api/v1/projects/shop/notifications"
	for field, body := range map[string]map[string]any{
		"url":       {"url": "hooks.example.com/x"},
		"format":    {"url": "https://hooks.example.com/x", "format": "xml"},
		"events[1]": {"url": "https://hooks.example.com/x", "events": []string{"build.failed", "build.started"}},
	} {
		wantError(t, e.do(http.MethodPost, hooks, e.admin, body), http.StatusUnprocessableEntity, "invalid", field)
	}
	wantError(t, e.do(http.MethodPost, hooks, e.developer, map[string]any{"url": "https://hooks.example.com/x"}), http.StatusForbidden, "forbidden", "")
	wantError(t, e.do(http.MethodPost, "/api/v1/projects/nope/notifications", e.admin, map[string]any{"url": "https://hooks.example.com/x"}),
		http.StatusNotFound, "not_found", "")

	var made, given api.NotificationHook
	e.must(http.StatusCreated, http.MethodPost, hooks, e.admin, map[string]any{"url": "https://hooks.example.com/x", "format": "slack"}, &made)
	if !strings.HasPrefix(made.ID, "nh-") || !strings.HasPrefix(made.Secret, "swsec_") || made.Format != "slack" || len(made.Events) != 0 {
		t.Fatalf("hook %+v", made)
	}
	e.must(http.StatusCreated, http.MethodPost, hooks, e.admin, map[string]any{"url": "http://127.0.0.1:9/x", "secret": "mine",
		"events": []string{"deployment.rolled_back"}}, &given)
	if given.Secret != "" || given.Format != "json" || given.Events[0] != "deployment.rolled_back" {
		t.Fatalf("hook with its own secret %+v", given)
	}
	// No answer but the create's holds a secret.
	rec := e.must(http.StatusOK, http.MethodGet, hooks, e.developer, nil, nil)
	if body := rec.Body.String(); strings.Contains(body, made.Secret) || strings.Contains(body, "mine") || !strings.Contains(body, made.ID) {
		t.Fatalf("hooks list %s", body)
	}

	// A ping starts its delivery's workflow, once per delivery; its log shows it.
	var ping api.NotificationDelivery
	e.must(http.StatusAccepted, http.MethodPost, hooks+"/"+made.ID+"/test", e.admin, nil, &ping)
	starts := fake.startCalls()
	if last := starts[len(starts)-1]; last.opts.ID != workflows.NotifyWorkflowID(ping.ID) || ping.Event != "ping" || ping.Status != "pending" {
		t.Fatalf("ping %+v started %+v", ping, last.opts)
	}
	var log api.Page[api.NotificationDelivery]
	e.must(http.StatusOK, http.MethodGet, hooks+"/"+made.ID+"/deliveries", e.developer, nil, &log)
	if len(log.Items) != 1 || log.Items[0].ID != ping.ID {
		t.Fatalf("deliveries %+v", log.Items)
	}
	e.createProject("other")
	wantError(t, e.do(http.MethodGet, "/api/v1/projects/other/notifications/"+made.ID+"/deliveries", e.developer, nil), http.StatusNotFound, "not_found", "")
	e.must(http.StatusNoContent, http.MethodDelete, hooks+"/"+made.ID, e.admin, nil, nil)
	wantError(t, e.do(http.MethodDelete, hooks+"/"+made.ID, e.admin, nil), http.StatusNotFound, "not_found", "")
	wantError(t, e.do(http.MethodGet, hooks+"/"+made.ID+"/deliveries", e.developer, nil), http.StatusNotFound, "not_found", "")
}
