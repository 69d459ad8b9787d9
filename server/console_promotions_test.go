package server

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slipway-dev/slipway/api"
	"github.com/slipway-dev/slipway/delivery"
	"github.com/slipway-dev/slipway/gitsource"
	"github.com/slipway-dev/slipway/store"
	"github.com/slipway-dev/slipway/workflows"
)

// consoleTemporal is a fakeTemporal that also takes the signals a decision wakes a Promotion workflow with.
type consoleTemporal struct {
	*fakeTemporal
	mu      sync.Mutex
	wakened []string // "workflowID kind actor"
}

func (f *consoleTemporal) SignalWorkflow(_ context.Context, workflowID, _, _ string, arg any) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	sig, _ := arg.(workflows.PromotionSignal)
	f.wakened = append(f.wakened, workflowID+" "+sig.Kind+" "+sig.Actor)
	return nil
}

func (f *consoleTemporal) signalled() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.wakened...)
}

// twoCommits is a delivery.RangeReader of one commit brought and one file changed.
func twoCommits(context.Context, string, string, string, string, int, gitsource.Auth) (gitsource.Range, error) {
	return gitsource.Range{Commits: []gitsource.Commit{{SHA: strings.Repeat("cd", 20), Message: "greet in French\n\nbody",
		Author: "Bea", At: time.Now()}}, Files: []string{"www/index.html"}}, nil
}

// seedPromotion is seedConsole with b-1 serving in development, a config and a secret that production lacks,
// and developer dev's request to promote b-1 into production, which waits for an admin's approval.
func seedPromotion(t *testing.T) (*testEnv, *consoleTemporal, store.Promotion) {
	t.Helper()
	fake := &consoleTemporal{fakeTemporal: &fakeTemporal{}}
	e := newTestEnv(t, func(d *Deps) { d.Temporal = fake })
	e.srv.builds.Between = twoCommits
	seedConsole(t, e)
	ctx := context.Background()
	if _, err := e.st.CreateDeployment(ctx, store.Deployment{ID: "d-1", Project: "shop", Component: "api", Environment: "development", BuildID: "b-1",
		Digest: "sha256:" + strings.Repeat("0", 64)}); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	if _, err := e.st.UpdateDeployment(ctx, "d-1", func(d *store.Deployment) error {
		d.Status, d.EndedAt = api.DeploymentSucceeded, &now
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	dev := e.signIn(e.developer)
	const cfgs = "/api/v1/projects/shop/components/api/environments/development/configs/"
	for key, secret := range map[string]bool{"GREETING": false, "API_TOKEN": true} {
		if rec := dev.write(http.MethodPut, cfgs+key, dev.csrf, "", map[string]any{"value": "value-of-" + key, "secret": secret}); rec.Code/100 != 2 {
			t.Fatalf("setting %s: %d %s", key, rec.Code, rec.Body)
		}
	}
	comp, err := e.st.GetComponent(ctx, "shop", "api")
	if err != nil {
		t.Fatal(err)
	}
	// The use case the console's Promote button reaches through POST …/promote.
	p, err := e.srv.promotions.Promote(ctx, comp, delivery.Promotion{Build: "b-1", To: "production"}, delivery.Actor{Name: "dev", Role: RoleDeveloper})
	if err != nil {
		t.Fatal(err)
	}
	if p.Status != api.PromotionPendingApproval {
		t.Fatalf("the promotion into production is %s, want %s", p.Status, api.PromotionPendingApproval)
	}
	return e, fake, p
}

func TestConsolePromotionsPage(t *testing.T) {
	e, _, p := seedPromotion(t)
	viewer := e.signIn(e.viewer)

	// The project page leads to its promotions, saying one waits.
	project := viewer.page(http.StatusOK, "/projects/shop")
	for _, want := range []string{`href="/projects/shop/promotions"`, "1 waiting", "approval required (1)"} {
		if !strings.Contains(project, want) {
			t.Errorf("the project page lacks %q", want)
		}
	}

	list := viewer.page(http.StatusOK, "/projects/shop/promotions")
	waiting, recent, _ := strings.Cut(list, `id="recent-h"`)
	for _, want := range []string{`data-promotion="` + p.ID + `"`, `href="/projects/shop/promotions/` + p.ID + `"`, "development → production",
		`href="/builds/b-1"`, "status-pending_approval", "<td>dev</td>", "0/1", "waiting for 1 approval(s) from admin"} {
		if !strings.Contains(waiting, want) {
			t.Errorf("the Waiting part of the promotions page lacks %q", want)
		}
	}
	if strings.Contains(recent, p.ID) {
		t.Error("the waiting request is listed again under Recent")
	}
	if strings.Contains(list, "data-api=") {
		t.Error("the viewer's promotions page has write controls")
	}

	detail := viewer.page(http.StatusOK, "/projects/shop/promotions/"+p.ID)
	for _, want := range []string{`data-key="GREETING"`, `data-key="API_TOKEN"`, "<td>secret</td>", "only in development",
		`title="` + strings.Repeat("cd", 20) + `">cdcdcdc</code>`, "greet in French", "Bea", "www/index.html", "approvers: admin"} {
		if !strings.Contains(detail, want) {
			t.Errorf("the request's page lacks %q", want)
		}
	}
	// Where the console goes once it asked for the request says it was made.
	if body := viewer.page(http.StatusOK, "/projects/shop/promotions/"+p.ID+"?requested=1"); !strings.Contains(body,
		`<p class="flash" role="status">Promotion request `+p.ID+` created: waiting for 1 approval(s) from admin.</p>`) {
		t.Error("the request's page opened after asking for it does not say it was made")
	}
	if strings.Contains(detail, "value-of-") {
		t.Error("the request's page shows a config's value")
	}
	if strings.Contains(detail, "data-api=") {
		t.Error("the viewer's request page has write controls")
	}
	// A request is shown under its own project only; a component filter keeps that component's.
	e.createProject("other")
	viewer.page(http.StatusNotFound, "/projects/other/promotions/"+p.ID)
	viewer.page(http.StatusNotFound, "/projects/shop/promotions?component=nope")
	if body := viewer.page(http.StatusOK, "/projects/shop/promotions?component=api"); !strings.Contains(body, p.ID) {
		t.Error("the component's promotions lack its request")
	}
}

func TestConsoleApprovesAPromotion(t *testing.T) {
	e, fake, p := seedPromotion(t)
	approve := "/api/v1/promotions/" + p.ID + "/approve"
	dev, admin := e.signIn(e.developer), e.signIn(e.admin)

	// The requester's page says another approver must decide; the requester's approval is refused with that.
	page := dev.page(http.StatusOK, "/projects/shop/promotions/"+p.ID)
	for _, want := range []string{`data-api="` + approve + `"`, "You requested this promotion", `<label for="reject-comment">`,
		`data-api="/api/v1/promotions/` + p.ID + `/cancel"`} {
		if !strings.Contains(page, want) {
			t.Errorf("the requester's page lacks %q", want)
		}
	}
	if strings.Contains(page, "/break-glass") {
		t.Error("a developer is offered Break glass")
	}
	refused := wantError(t, dev.write(http.MethodPost, approve, dev.csrf, "", map[string]any{"comment": "lgtm"}), http.StatusForbidden, "self_approval", "")
	if !strings.Contains(refused.Message, "another approver must") {
		t.Errorf("the self-approval is refused with %q", refused.Message)
	}

	// An approver's decision needs the session's CSRF token, like every write of the console.
	wantError(t, admin.write(http.MethodPost, approve, "", "", map[string]any{"comment": "ok"}), http.StatusForbidden, "csrf", "")
	if got, _ := e.st.GetPromotion(context.Background(), p.ID); len(got.Votes) != 0 {
		t.Fatalf("a write without the CSRF token was recorded: %+v", got.Votes)
	}
	page = admin.page(http.StatusOK, "/projects/shop/promotions/"+p.ID)
	if !strings.Contains(page, "/break-glass") || strings.Contains(page, "You requested") || strings.Contains(page, "not one of the approvers") {
		t.Error("the admin's page lacks Break glass or says the admin may not approve")
	}
	if rec := admin.write(http.MethodPost, approve, admin.csrf, "", map[string]any{"comment": "ship it"}); rec.Code != http.StatusOK {
		t.Fatalf("the admin's approval: %d %s", rec.Code, rec.Body)
	}
	got, err := e.st.GetPromotion(context.Background(), p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Votes) != 1 || got.Votes[0].Actor != "root" || got.Votes[0].Decision != api.DecisionApprove {
		t.Fatalf("votes %+v, want root's approval", got.Votes)
	}
	if w := fake.signalled(); len(w) != 1 || w[0] != p.WorkflowID+" approve root" {
		t.Errorf("the approval woke %v, want %s once", w, p.WorkflowID)
	}
	list := dev.page(http.StatusOK, "/projects/shop/promotions")
	if !strings.Contains(list, `1/1 <span class="muted small">root</span>`) {
		t.Error("the promotions page does not count root's approval")
	}
	if page := dev.page(http.StatusOK, "/projects/shop/promotions/"+p.ID); !strings.Contains(page, "<strong>root</strong> approved") ||
		!strings.Contains(page, "ship it") {
		t.Error("the request's page does not show root's approval and comment")
	}
	// A developer who is not an approver is told so before trying.
	if page := e.signIn(e.newToken("dev2", RoleDeveloper)).page(http.StatusOK, "/projects/shop/promotions/"+p.ID); !strings.Contains(page, "not one of the approvers of production: admin") {
		t.Error("a developer who is not an approver is not told so")
	}
}

func TestConsoleDeployPageAskingForApprovals(t *testing.T) {
	e, _, _ := seedPromotion(t)
	dev := e.signIn(e.developer)
	page := dev.page(http.StatusOK, "/projects/shop/components/api/deploy")
	// A developer asks for a promotion into production, which waits for an admin's approval; the answer opens
	// the request (data-then="promotion").
	for _, want := range []string{`data-api="/api/v1/projects/shop/components/api/promote" data-method="POST" data-then="promotion"`,
		"to production: waits for 1 approval(s)", "approval required (1)", `href="/projects/shop/promotions?component=api"`} {
		if !strings.Contains(page, want) {
			t.Errorf("the developer's Deploy tab lacks %q", want)
		}
	}
	// A stopped line and a freeze window show on the cards.
	ctx := context.Background()
	if _, err := e.st.StopLine(ctx, "shop", "production", "incident 42", "root"); err != nil {
		t.Fatal(err)
	}
	start, end := time.Now().Add(-time.Hour), time.Now().Add(time.Hour)
	if _, err := e.st.UpdateEnvironment(ctx, "shop", "development", func(env *store.Environment) error {
		env.Rules.FreezeWindows = []api.FreezeWindow{{Name: "release party", Start: &start, End: &end}}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/projects/shop", "/projects/shop/components/api/deploy"} {
		body := dev.page(http.StatusOK, p)
		for _, want := range []string{"stopped: incident 42", "(by root)", "frozen until <time datetime=\"" + end.UTC().Format(time.RFC3339), "release party"} {
			if !strings.Contains(body, want) {
				t.Errorf("%s lacks %q", p, want)
			}
		}
	}
}

func TestConsoleQuarantineBadgeAndForms(t *testing.T) {
	e, _, p := seedPromotion(t)
	dev, admin, viewer := e.signIn(e.developer), e.signIn(e.admin), e.signIn(e.viewer)
	const quarantine = "/api/v1/builds/b-1/quarantine"

	page := dev.page(http.StatusOK, "/builds/b-1")
	if !strings.Contains(page, `data-api="`+quarantine+`" data-method="POST"`) || !strings.Contains(page, `<label for="quarantine-reason">Reason</label>`) {
		t.Error("the developer's build page lacks the Quarantine form")
	}
	if strings.Contains(page, "quarantined:") || strings.Contains(page, `data-method="DELETE"`) {
		t.Error("a build that is not quarantined shows a quarantine or Unquarantine")
	}
	wantError(t, dev.write(http.MethodPost, quarantine, dev.csrf, "", map[string]any{"reason": ""}), http.StatusUnprocessableEntity, "invalid", "reason")
	if rec := dev.write(http.MethodPost, quarantine, dev.csrf, "", map[string]any{"reason": "CVE-2026-1234 in libfoo"}); rec.Code != http.StatusOK {
		t.Fatalf("quarantining b-1: %d %s", rec.Code, rec.Body)
	}
	const badge = "quarantined: CVE-2026-1234 in libfoo (by dev)"
	for _, path := range []string{"/builds/b-1", "/projects/shop/components/api/deploy", "/projects/shop/components/api",
		"/projects/shop/promotions", "/projects/shop/promotions/" + p.ID} {
		if body := viewer.page(http.StatusOK, path); !strings.Contains(body, badge) {
			t.Errorf("%s lacks the badge %q", path, badge)
		}
	}
	if body := viewer.page(http.StatusOK, "/builds/b-1"); strings.Contains(body, "data-api=") {
		t.Error("the viewer's build page has write controls")
	}
	if body := dev.page(http.StatusOK, "/builds/b-1"); strings.Contains(body, "Unquarantine") || strings.Contains(body, "Quarantine this build") {
		t.Error("a developer is offered to lift (or set again) the quarantine")
	}
	if body := admin.page(http.StatusOK, "/builds/b-1"); !strings.Contains(body, `data-api="`+quarantine+`" data-method="DELETE"`) {
		t.Error("the admin's build page lacks Unquarantine")
	}
	if rec := admin.write(http.MethodDelete, quarantine, admin.csrf, "", nil); rec.Code != http.StatusNoContent {
		t.Fatalf("lifting the quarantine: %d %s", rec.Code, rec.Body)
	}
	if body := viewer.page(http.StatusOK, "/builds/b-1"); strings.Contains(body, "quarantined:") {
		t.Error("the lifted quarantine still shows")
	}
	entries, _, err := e.st.AuditLog(context.Background(), store.AuditFilter{Target: "b-1"})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, a := range entries {
		actions = append(actions, a.Actor+" "+a.Action)
	}
	if got := strings.Join(actions, ", "); got != "root unquarantine, dev quarantine" {
		t.Errorf("the audit log of b-1: %q", got)
	}
}
