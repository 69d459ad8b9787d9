package server

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/slipway-dev/slipway/api"
	"github.com/slipway-dev/slipway/delivery"
	"github.com/slipway-dev/slipway/gitsource"
	"github.com/slipway-dev/slipway/workflows"
)

// fakeBetween answers a promotion diff's commits without a repository.
func fakeBetween(_ context.Context, _, _, from, to string, _ int, _ gitsource.Auth) (gitsource.Range, error) {
	return gitsource.Range{Commits: []gitsource.Commit{{SHA: to, Message: "add the greeting", Author: "Ada"}}, Files: []string{"main.go"}}, nil
}

func TestPromotionRequests(t *testing.T) {
	e, fake := newBuildEnv(t, func(d *Deps) { d.Between = fakeBetween })
	e.succeededBuild("b-1")
	for _, env := range []string{"development", "production"} {
		e.setConfigs(env)
	}
	e.serving("development", "b-1")
	e.newToken("ops", RoleAdmin)
	second := e.newToken("ops2", RoleAdmin)
	other := e.newToken("dev2", RoleDeveloper)
	ops := e.newToken("ops3", RoleAdmin)
	envPath := "/api/v1/projects/shop/environments/production"

	// Rules that cannot be kept are refused naming the field; a developer may not change them.
	for field, body := range map[string]map[string]any{
		"approval.minApprovals":            {"approval": map[string]any{"minApprovals": 11}},
		"approval.approvers[0]":            {"approval": map[string]any{"approvers": []string{"viewer"}}},
		"freezeWindows[0].cron":            {"freezeWindows": []map[string]any{{"cron": "every day", "durationSeconds": 60}}},
		"freezeWindows[0].timeZone":        {"freezeWindows": []map[string]any{{"cron": "0 18 * * 5", "durationSeconds": 60, "timeZone": "Mars/Olympus"}}},
		"freezeWindows[0].durationSeconds": {"freezeWindows": []map[string]any{{"cron": "0 18 * * 5"}}},
		"freezeMode":                       {"freezeMode": "sometimes"},
	} {
		wantError(t, e.do(http.MethodPatch, envPath, e.admin, body), http.StatusUnprocessableEntity, "invalid", field)
	}
	wantError(t, e.do(http.MethodPatch, envPath, e.developer, map[string]any{"approval": map[string]any{"minApprovals": 2}}),
		http.StatusForbidden, "forbidden", "approval")
	var env api.Environment
	e.must(http.StatusOK, http.MethodPatch, envPath, e.admin,
		map[string]any{"approval": map[string]any{"minApprovals": 2, "approvers": []string{"admin"}}}, &env)
	if !env.ApprovalRequired || env.Approval == nil || env.Approval.MinApprovals != 2 {
		t.Fatalf("environment %+v", env)
	}

	// A dry run shows the diff and what it would wait for, and records nothing.
	var dry api.Promotion
	e.must(http.StatusOK, http.MethodPost, apiPath+"/promote?dryRun=true", e.developer, map[string]any{}, &dry)
	if dry.Status != delivery.DryRun || dry.ID != "" || dry.Diff == nil || len(dry.Diff.Commits) != 1 || dry.Diff.Files[0] != "main.go" ||
		!strings.Contains(dry.Message, "2 approval(s)") {
		t.Fatalf("dry run %+v", dry)
	}

	// A developer asks; the request waits for two approvals from admins other than the requester.
	var p api.Promotion
	e.must(http.StatusAccepted, http.MethodPost, apiPath+"/promote", e.developer, map[string]any{}, &p)
	if p.Status != api.PromotionPendingApproval || p.Environment != "production" || p.From != "development" || p.MinApprovals != 2 ||
		p.Diff == nil || len(p.Diff.Configs) != 0 {
		t.Fatalf("request %+v", p)
	}
	decide := "/api/v1/promotions/" + p.ID + "/"
	wantError(t, e.do(http.MethodPost, decide+"approve", e.developer, map[string]any{}), http.StatusForbidden, "self_approval", "")
	wantError(t, e.do(http.MethodPost, decide+"approve", other, map[string]any{}), http.StatusForbidden, "forbidden", "")
	wantError(t, e.do(http.MethodPost, decide+"approve", e.viewer, map[string]any{}), http.StatusForbidden, "forbidden", "")
	wantError(t, e.do(http.MethodPost, decide+"reject", e.admin, map[string]any{}), http.StatusUnprocessableEntity, "invalid", "comment")
	e.must(http.StatusOK, http.MethodPost, decide+"approve", e.admin, map[string]any{"comment": "looks right"}, &p)
	e.must(http.StatusOK, http.MethodPost, decide+"approve", e.admin, map[string]any{}, &p) // the same decision again: no second vote
	if len(p.Decisions) != 1 || p.Decisions[0].Actor != "root" || p.Decisions[0].Comment != "looks right" {
		t.Fatalf("decisions %+v", p.Decisions)
	}
	wantError(t, e.do(http.MethodPost, decide+"reject", e.admin, map[string]any{"comment": "changed my mind"}), http.StatusConflict, "already_decided", "")
	e.must(http.StatusOK, http.MethodPost, decide+"approve", second, map[string]any{}, &p)
	if len(p.Decisions) != 2 {
		t.Fatalf("decisions %+v", p.Decisions)
	}
	woken := 0
	for _, s := range fake.signals {
		if s.workflowID == workflows.PromotionWorkflowID(p.ID) && s.signal == workflows.SignalPromotion {
			woken++
		}
	}
	if woken != 3 || fake.promotionStarts() != 1 {
		t.Fatalf("%d wake-ups of the request's workflow, %d started", woken, fake.promotionStarts())
	}

	// Cancel: the requester or an admin, not another developer; a cancelled request takes no decision.
	var p2 api.Promotion
	e.must(http.StatusAccepted, http.MethodPost, apiPath+"/promote", e.developer, map[string]any{}, &p2)
	wantError(t, e.do(http.MethodPost, "/api/v1/promotions/"+p2.ID+"/cancel", other, map[string]any{}), http.StatusForbidden, "forbidden", "")
	e.must(http.StatusOK, http.MethodPost, "/api/v1/promotions/"+p2.ID+"/cancel", e.developer, map[string]any{"comment": "wrong build"}, &p2)
	if p2.Status != api.PromotionCancelled {
		t.Fatalf("cancelled %+v", p2)
	}
	wantError(t, e.do(http.MethodPost, "/api/v1/promotions/"+p2.ID+"/approve", ops, map[string]any{}), http.StatusConflict, "not_pending", "")
	var list api.Page[api.Promotion]
	e.must(http.StatusOK, http.MethodGet, "/api/v1/projects/shop/promotions?status=pending_approval", e.viewer, nil, &list)
	if len(list.Items) != 1 || list.Items[0].ID != p.ID || list.Items[0].Diff != nil {
		t.Fatalf("pending %+v", list.Items)
	}
	wantError(t, e.do(http.MethodGet, "/api/v1/projects/shop/promotions?status=waiting", e.viewer, nil), http.StatusUnprocessableEntity, "invalid", "status")

	// A quarantined build is deployed nowhere; only an admin lifts the quarantine.
	wantError(t, e.do(http.MethodPost, "/api/v1/builds/b-1/quarantine", e.developer, map[string]any{}), http.StatusUnprocessableEntity, "invalid", "reason")
	e.must(http.StatusOK, http.MethodPost, "/api/v1/builds/b-1/quarantine", e.developer, map[string]any{"reason": "CVE-2026-1 in libfoo"}, nil)
	apiErr := wantError(t, e.do(http.MethodPost, apiPath+"/environments/development/deploy", e.developer, map[string]any{"build": "b-1"}),
		http.StatusConflict, delivery.CodeQuarantined, "build")
	if !strings.Contains(apiErr.Message, "CVE-2026-1 in libfoo") {
		t.Fatalf("quarantine refusal %q", apiErr.Message)
	}
	wantError(t, e.do(http.MethodPost, apiPath+"/promote", e.developer, map[string]any{}), http.StatusConflict, delivery.CodeQuarantined, "build")
	wantError(t, e.do(http.MethodDelete, "/api/v1/builds/b-1/quarantine", e.developer, nil), http.StatusForbidden, "forbidden", "")
	e.must(http.StatusNoContent, http.MethodDelete, "/api/v1/builds/b-1/quarantine", e.admin, nil, nil)

	// A stopped line: an environment that refuses says why; one that waits takes the request and waits.
	e.must(http.StatusOK, http.MethodPatch, "/api/v1/projects/shop/environments/development", e.admin, map[string]any{"freezeMode": "refuse"}, nil)
	wantError(t, e.do(http.MethodPut, "/api/v1/projects/shop/stop", e.developer, map[string]any{}), http.StatusUnprocessableEntity, "invalid", "reason")
	e.must(http.StatusOK, http.MethodPut, "/api/v1/projects/shop/stop", e.developer, map[string]any{"reason": "incident 42"}, nil)
	apiErr = wantError(t, e.do(http.MethodPost, apiPath+"/environments/development/deploy", e.developer, map[string]any{"build": "b-1"}),
		http.StatusConflict, delivery.CodeFrozen, "environment")
	if !strings.Contains(apiErr.Message, "incident 42") {
		t.Fatalf("frozen refusal %q", apiErr.Message)
	}
	wantError(t, e.do(http.MethodDelete, "/api/v1/projects/shop/stop", e.developer, nil), http.StatusForbidden, "forbidden", "")
	e.must(http.StatusNoContent, http.MethodDelete, "/api/v1/projects/shop/stop", e.admin, nil, nil)
	var dep api.Deployment
	e.must(http.StatusAccepted, http.MethodPost, apiPath+"/environments/development/deploy", e.developer, map[string]any{"build": "b-1"}, &dep)
	if !strings.HasPrefix(dep.ID, "d-") {
		t.Fatalf("a deploy into an environment without rules is a deployment: %+v", dep)
	}

	// The audit log has every step, never a secret's value; the export is JSON lines.
	var page api.AuditPage
	e.must(http.StatusOK, http.MethodGet, "/api/v1/audit?project=shop&limit=1000", e.developer, nil, &page)
	seen := map[string]int{}
	for _, en := range page.Entries {
		seen[en.Action]++
	}
	for _, action := range []string{api.AuditPromote, api.AuditApprove, api.AuditCancel, api.AuditQuarantine, api.AuditUnquarantine,
		api.AuditStop, api.AuditStart, api.AuditDeploy, api.AuditConfigSet, api.AuditEnvironmentSet} {
		if seen[action] == 0 {
			t.Errorf("no %s in the audit log: %v", action, seen)
		}
	}
	rec := e.must(http.StatusOK, http.MethodGet, "/api/v1/audit?format=jsonl", e.developer, nil, nil)
	if strings.Contains(rec.Body.String(), "s3cret") {
		t.Fatal("a secret's value is in the audit log")
	}
	lines := 0
	for sc := bufio.NewScanner(strings.NewReader(rec.Body.String())); sc.Scan(); lines++ {
		var en api.AuditEntry
		if err := json.Unmarshal(sc.Bytes(), &en); err != nil || en.ID == "" {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
	}
	if lines < len(page.Entries) {
		t.Fatalf("%d exported lines, %d entries", lines, len(page.Entries))
	}
	var first api.AuditPage
	e.must(http.StatusOK, http.MethodGet, "/api/v1/audit?project=shop&limit=2", e.developer, nil, &first)
	var next api.AuditPage
	e.must(http.StatusOK, http.MethodGet, "/api/v1/audit?project=shop&limit=2&cursor="+first.Next, e.developer, nil, &next)
	if len(first.Entries) != 2 || first.Next == "" || len(next.Entries) == 0 || next.Entries[0].ID == first.Entries[1].ID {
		t.Fatalf("pages %+v then %+v", first, next)
	}
	wantError(t, e.do(http.MethodGet, "/api/v1/audit", e.viewer, nil), http.StatusForbidden, "forbidden", "")
}
