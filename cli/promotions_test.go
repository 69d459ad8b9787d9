package cli

import (
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakePromotionAPI answers promote with promotion request pr-1 of shop/api's build b-2 to production (or, with
// ?dryRun=true, the request that would be made), a deploy to production with request pr-2 already deploying
// d-2, and the reads and decisions of promotion requests. It keeps every request it got.
type fakePromotionAPI struct {
	// states are what successive GETs of pr-1 answer, the last one staying; none: pr-1 as promote answered.
	states []map[string]any
	// ignoresDryRun makes promote?dryRun=true make the request, as an API that does not know dry runs would.
	ignoresDryRun bool

	mu       sync.Mutex
	gets     int
	requests []string // "METHOD path?query body"
}

// promotionOf is a promotion request of shop/api's b-2 from development to production with the fields given.
func promotionOf(id, status string, fields map[string]any) map[string]any {
	p := map[string]any{"id": id, "status": status, "project": "shop", "component": "api", "environment": "production",
		"from": "development", "build": "b-2", "digest": fakeDigest, "requester": "alice", "minApprovals": 2, "decisions": []any{},
		"createdAt": fakeNow.Add(-90 * time.Minute), "updatedAt": fakeNow.Add(-time.Minute)}
	maps.Copy(p, fields)
	return p
}

// pending is pr-1 waiting for approvals, with the decisions given.
func pending(decisions ...any) map[string]any {
	return promotionOf("pr-1", "pending_approval", map[string]any{"decisions": append([]any{}, decisions...),
		"message": "waiting for 2 approval(s) from admin, rel-mgr", "expiresAt": fakeNow.Add(7 * 24 * time.Hour)})
}

func vote(actor, decision, comment string) map[string]any {
	return map[string]any{"actor": actor, "decision": decision, "comment": comment, "at": fakeNow.Add(-30 * time.Minute)}
}

// fakeDiff is what promoting b-2 over b-1 changes.
var fakeDiff = map[string]any{"fromBuild": "b-1", "fromCommit": "1111111aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "toBuild": "b-2",
	"toCommit": "2222222bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
	"commits": []any{
		map[string]any{"sha": "2222222bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", "short": "2222222", "title": "fix: retry the payment call", "author": "Ann"},
		map[string]any{"sha": "3333333ccccccccccccccccccccccccccccccccc", "short": "3333333", "title": "feat: receipts", "author": "Bob Builder"},
	},
	"files":   []any{"go.mod", "pay/retry.go"},
	"configs": []any{map[string]any{"key": "PAY_TIMEOUT", "change": "changed"}, map[string]any{"key": "STRIPE_KEY", "secret": true, "change": "added"}}}

// deployingD2 is d-2, the deployment of b-2 to production, in this status.
func deployingD2(status string) map[string]any {
	d := map[string]any{"id": "d-2", "environment": "production", "build": "b-2", "digest": fakeDigest, "status": status,
		"createdAt": fakeNow}
	if status == "succeeded" {
		d["url"] = "http://api.production.shop.localhost:8000"
	}
	return d
}

func (f *fakePromotionAPI) start(t *testing.T) *httptest.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v1/projects/shop/components/api/promote", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("dryRun") == "true" && !f.ignoresDryRun {
			reply(w, http.StatusOK, promotionOf("", "dry_run", map[string]any{"diff": fakeDiff, "createdAt": fakeNow, "updatedAt": fakeNow}))
			return
		}
		reply(w, http.StatusAccepted, pending())
	})
	mux.HandleFunc("POST /api/v1/projects/shop/components/api/environments/production/deploy", func(w http.ResponseWriter, r *http.Request) {
		reply(w, http.StatusAccepted, promotionOf("pr-2", "deploying", map[string]any{"from": nil, "minApprovals": 0,
			"deployment": deployingD2("queued")}))
	})
	mux.HandleFunc("GET /api/v1/projects/shop/components/api/deployments", func(w http.ResponseWriter, r *http.Request) {
		d := deployingD2("succeeded")
		reply(w, http.StatusOK, map[string]any{"items": []any{
			map[string]any{"environment": "development", "current": nil, "history": []any{}},
			map[string]any{"environment": "production", "current": d, "history": []any{d}},
		}})
	})
	mux.HandleFunc("GET /api/v1/promotions/{id}", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("id") != "pr-1" {
			apiFail(w, http.StatusNotFound, "not_found", "promotion request "+r.PathValue("id")+" does not exist")
			return
		}
		f.mu.Lock()
		p := pending()
		if len(f.states) > 0 {
			p = f.states[min(f.gets, len(f.states)-1)]
		}
		f.gets++
		f.mu.Unlock()
		reply(w, http.StatusOK, p)
	})
	mux.HandleFunc("GET /api/v1/projects/shop/environments", func(w http.ResponseWriter, r *http.Request) {
		reply(w, http.StatusOK, map[string]any{"items": []any{
			map[string]any{"name": "development", "dataPlane": "docker", "approvalRequired": false},
			map[string]any{"name": "production", "production": true, "dataPlane": "docker", "approvalRequired": true,
				"approval":      map[string]any{"minApprovals": 2, "approvers": []any{"admin", "rel-mgr"}},
				"freezeWindows": []any{map[string]any{"name": "weekend", "cron": "0 18 * * 5", "durationSeconds": 223200, "timeZone": "Europe/Berlin"}}},
		}})
	})
	mux.HandleFunc("GET /api/v1/projects/shop/promotions", func(w http.ResponseWriter, r *http.Request) {
		reply(w, http.StatusOK, map[string]any{"items": []any{
			pending(vote("bob", "approve", "")),
			promotionOf("pr-0", "succeeded", map[string]any{"from": nil, "environment": "development", "minApprovals": 0,
				"build": "b-1", "requester": "ci", "createdAt": fakeNow.Add(-50 * time.Hour)}),
		}})
	})
	mux.HandleFunc("POST /api/v1/promotions/{id}/{decision}", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Comment string `json:"comment"`
		}
		_ = json.NewDecoder(r.Body).Decode(&req)
		switch {
		case r.PathValue("id") == "pr-2":
			apiFail(w, http.StatusForbidden, "self_approval", "alice requested promotion pr-2 and cannot approve it: another approver must")
		case r.PathValue("decision") == "reject" && req.Comment == "":
			apiFail(w, http.StatusBadRequest, "invalid", "a rejection needs a comment saying why")
		default:
			reply(w, http.StatusOK, pending(vote("bob", "approve", req.Comment)))
		}
	})
	mux.HandleFunc("GET /api/v1/audit", func(w http.ResponseWriter, r *http.Request) {
		entries := []map[string]any{
			{"id": "a-3", "at": fakeNow.Add(-time.Minute), "actor": "bob", "action": "approve", "project": "shop", "component": "api",
				"environment": "production", "target": "pr-1", "reason": "looks good", "result": "ok"},
			{"id": "a-2", "at": fakeNow.Add(-time.Hour), "actor": "root", "action": "stop", "project": "shop", "environment": "production",
				"reason": "incident 42", "result": "ok"},
		}
		if r.URL.Query().Get("format") == "jsonl" {
			w.Header().Set("Content-Type", "application/x-ndjson")
			enc := json.NewEncoder(w)
			for _, e := range entries {
				_ = enc.Encode(e)
			}
			return
		}
		page := map[string]any{"entries": entries}
		if r.URL.Query().Get("cursor") == "" {
			page["next"] = "a-2"
		} else {
			page["entries"] = []any{map[string]any{"id": "a-1", "at": fakeNow.Add(-2 * time.Hour), "actor": "root", "action": "token_create",
				"target": "ci", "result": "ok"}}
		}
		reply(w, http.StatusOK, page)
	})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		line := r.Method + " " + r.URL.Path
		if r.URL.RawQuery != "" {
			line += "?" + r.URL.RawQuery
		}
		if len(b) > 0 {
			line += " " + string(b)
		}
		f.mu.Lock()
		f.requests = append(f.requests, line)
		f.mu.Unlock()
		r.Body = io.NopCloser(strings.NewReader(string(b)))
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// sent returns the requests so far that are not GETs, and forgets every request.
func (f *fakePromotionAPI) sent() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, r := range f.requests {
		if !strings.HasPrefix(r, "GET ") {
			out = append(out, r)
		}
	}
	f.requests = nil
	return out
}

// got returns every request so far and forgets them.
func (f *fakePromotionAPI) got() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := f.requests
	f.requests = nil
	return out
}

func TestPromotePrintsTheRequestAndWhatItWaitsFor(t *testing.T) {
	f := &fakePromotionAPI{}
	srv := f.start(t)
	code, stdout, stderr := runCLI(t, srv, "promote", "shop/api", "--to", "production")
	want := "promotion request pr-1 of build b-2 from development to production: pending_approval — waits for approvals (0 of 2) " +
		"until 2030-01-09T03:04:05Z; waiting for 2 approval(s) from admin, rel-mgr\n"
	if code != 0 || stdout != "pr-1\n" || stderr != want {
		t.Fatalf("promote: exit %d, stdout %q, stderr\n%q\nwant\n%q", code, stdout, stderr, want)
	}
	if got := f.sent(); len(got) != 1 || got[0] != `POST /api/v1/projects/shop/components/api/promote {"to":"production"}` {
		t.Fatalf("requests %q", got)
	}
	// -o json prints the API's answer instead of the ID.
	code, stdout, _ = runCLI(t, srv, "promote", "shop/api", "-o", "template={{.status}} {{.requester}}")
	if code != 0 || stdout != "pending_approval alice\n" {
		t.Fatalf("promote -o template: exit %d, stdout %q", code, stdout)
	}
}

func TestPromoteWaitFollowsTheRequestThenItsDeployment(t *testing.T) {
	f := &fakePromotionAPI{states: []map[string]any{
		pending(),
		pending(vote("bob", "approve", "")),
		promotionOf("pr-1", "deploying", map[string]any{"decisions": []any{vote("bob", "approve", ""), vote("root", "approve", "")},
			"deployment": deployingD2("running")}),
	}}
	srv := f.start(t)
	code, stdout, stderr := runCLI(t, srv, "promote", "shop/api", "--wait")
	if code != 0 || stdout != "pr-1\n" {
		t.Fatalf("promote --wait: exit %d, stdout %q, stderr %s", code, stdout, stderr)
	}
	for _, want := range []string{
		"pending_approval — waits for approvals (0 of 2)",
		"waiting for approvals: an approver runs `slipway promotion approve pr-1`",
		"pending_approval — waits for approvals (1 of 2)",
		"promotion request pr-1 of build b-2 from development to production: deploying — deployment d-2 running",
		"deployment d-2 succeeded: production serves build b-2 at http://api.production.shop.localhost:8000",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if n := strings.Count(stderr, "(0 of 2)"); n != 1 {
		t.Errorf("the same state was said %d times, want once:\n%s", n, stderr)
	}

	// Rejected: exit 1, saying by whom and why.
	f = &fakePromotionAPI{states: []map[string]any{
		promotionOf("pr-1", "rejected", map[string]any{"message": "rejected by bob", "decisions": []any{vote("bob", "reject", "not on a Friday")}}),
	}}
	srv = f.start(t)
	code, _, stderr = runCLI(t, srv, "promote", "shop/api", "--wait")
	if code != 1 || !strings.Contains(stderr, `pr-1 of build b-2 from development to production: rejected — rejected by bob; bob said "not on a Friday"`) {
		t.Fatalf("rejected promote --wait: exit %d, stderr %s", code, stderr)
	}

	// Never approved: --timeout ends the wait with exit 1; the request goes on.
	f = &fakePromotionAPI{}
	srv = f.start(t)
	code, _, stderr = runCLI(t, srv, "promote", "shop/api", "--wait", "--timeout", "30ms")
	if code != 1 || !strings.Contains(stderr, "gave up waiting after 30ms: promotion request pr-1 is pending_approval — waits for approvals (0 of 2)") {
		t.Fatalf("promote --wait --timeout: exit %d, stderr %s", code, stderr)
	}
	if f.gets == 0 {
		t.Error("the request was never polled")
	}
}

func TestPromoteDryRunPrintsTheDiffAndRecordsNothing(t *testing.T) {
	f := &fakePromotionAPI{}
	srv := f.start(t)
	code, stdout, stderr := runCLI(t, srv, "promote", "shop/api", "--to", "production", "--dry-run")
	want := "dry run, nothing recorded: promotion of shop/api build b-2 from development to production\n" +
		"approval:        needed: 2 approval(s) from admin, rel-mgr within 168h0m0s\n" +
		"freeze windows:  weekend (0 18 * * 5 for 62h0m0s, Europe/Berlin) (in a window: wait)\n" +
		"re-scan:         the digest is scanned again before it deploys (production)\n" +
		"serving now:     b-1 at 1111111\n" +
		"deploys:         b-2 at 2222222\n" +
		"COMMITS (2, newest first)\n" +
		"2222222  fix: retry the payment call  Ann\n" +
		"3333333  feat: receipts               Bob Builder\n" +
		"FILES (2)\n" +
		"go.mod\n" +
		"pay/retry.go\n" +
		"CONFIG AND SECRET KEYS (2 differ; keys only)\n" +
		"PAY_TIMEOUT  changed  \n" +
		"STRIPE_KEY   added    secret\n"
	if code != 0 || stdout != want {
		t.Fatalf("promote --dry-run: exit %d, stderr %q, stdout\n%s\nwant\n%s", code, stderr, stdout, want)
	}
	if got := f.sent(); len(got) != 1 || got[0] != `POST /api/v1/projects/shop/components/api/promote?dryRun=true {"to":"production"}` {
		t.Fatalf("requests %q", got)
	}
	code, stdout, _ = runCLI(t, srv, "promote", "shop/api", "--dry-run", "-o", "json")
	var p struct {
		ID, Status string
		Diff       struct{ Configs []map[string]any }
	}
	if err := json.Unmarshal([]byte(stdout), &p); code != 0 || err != nil || p.ID != "" || p.Status != "dry_run" || len(p.Diff.Configs) != 2 {
		t.Fatalf("promote --dry-run -o json: exit %d, %v, %+v", code, err, p)
	}
	if code, _, stderr := runCLI(t, srv, "promote", "shop/api", "--dry-run", "--wait"); code != exitUsage || !strings.Contains(stderr, "dry-run") {
		t.Errorf("--dry-run --wait: exit %d, stderr %q", code, stderr)
	}

	// An API that does not know dry runs made the request: say so, and how to take it back.
	f = &fakePromotionAPI{ignoresDryRun: true}
	srv = f.start(t)
	code, _, stderr = runCLI(t, srv, "promote", "shop/api", "--dry-run")
	if code != 1 || !strings.Contains(stderr, "does not know dry runs and made the request: promotion request pr-1 is pending_approval") ||
		!strings.Contains(stderr, "slipway promotion cancel pr-1") {
		t.Fatalf("dry run ignored: exit %d, stderr %q", code, stderr)
	}
}

func TestDeployIntoGovernedEnvironmentIsARequest(t *testing.T) {
	f := &fakePromotionAPI{}
	srv := f.start(t)
	code, stdout, stderr := runCLI(t, srv, "deploy", "shop/api", "--env", "production", "--build", "b-2", "--wait")
	if code != 0 || stdout != "pr-2\n" ||
		!strings.Contains(stderr, "promotion request pr-2 of build b-2 to production: deploying — deployment d-2 queued\n") ||
		!strings.Contains(stderr, "deployment d-2 succeeded: production serves build b-2 at http://api.production.shop.localhost:8000") {
		t.Fatalf("deploy --wait: exit %d, stdout %q, stderr %s", code, stdout, stderr)
	}
}

func TestPromotionsListShowAndDecisions(t *testing.T) {
	f := &fakePromotionAPI{}
	srv := f.start(t)
	code, stdout, stderr := runCLI(t, srv, "promotions", "shop", "--status", "pending_approval", "--component", "api")
	want := "ID    COMPONENT  FROM→TO                 BUILD  STATUS            REQUESTER  APPROVALS  AGE  MESSAGE\n" +
		"pr-1  api        development→production  b-2    pending_approval  alice      1/2        1h   waiting for 2 approval(s) from admin, rel-mgr\n" +
		"pr-0  api        -→development           b-1    succeeded         ci         -          2d   -\n"
	if code != 0 || stdout != want {
		t.Fatalf("promotions: exit %d, stderr %q, stdout\n%s\nwant\n%s", code, stderr, stdout, want)
	}
	if got := f.got(); len(got) != 1 || got[0] != "GET /api/v1/projects/shop/promotions?component=api&status=pending_approval" {
		t.Fatalf("requests %q", got)
	}

	shown := pending(vote("bob", "approve", "looks good"), vote("carol", "reject", "not on a Friday"))
	shown["diff"] = fakeDiff
	f.states = []map[string]any{shown}
	code, stdout, _ = runCLI(t, srv, "promotion", "show", "pr-1")
	for _, want := range []string{"promotion:  pr-1\n", "status:     pending_approval\n", "from → to:  development → production\n",
		"approvals:  1 of 2\n", "expires:    2030-01-09T03:04:05Z\n", "DECISIONS (2, oldest first)\n",
		"2030-01-02T02:34:05Z  bob    approve  looks good\n", "2030-01-02T02:34:05Z  carol  reject   not on a Friday\n",
		"DIFF\nserving now:", "STRIPE_KEY   added    secret\n"} {
		if code != 0 || !strings.Contains(stdout, want) {
			t.Errorf("promotion show: exit %d, stdout lacks %q:\n%s", code, want, stdout)
		}
	}
	f.got()

	code, stdout, stderr = runCLI(t, srv, "promotion", "approve", "pr-1", "-m", "looks good")
	if code != 0 || !strings.Contains(stdout, "pr-1  api        development→production  b-2    pending_approval  alice      1/2") {
		t.Fatalf("promotion approve: exit %d, stderr %q, stdout\n%s", code, stderr, stdout)
	}
	if got := f.sent(); len(got) != 1 || got[0] != `POST /api/v1/promotions/pr-1/approve {"comment":"looks good"}` {
		t.Fatalf("requests %q", got)
	}

	// A rejection or a broken glass says why: refused before anything is sent.
	for _, decision := range []string{"reject", "break-glass"} {
		code, _, stderr = runCLI(t, srv, "promotion", decision, "pr-1")
		if code != exitUsage || !strings.Contains(stderr, decision+" needs -m COMMENT saying why") {
			t.Errorf("promotion %s without -m: exit %d, stderr %q", decision, code, stderr)
		}
	}
	if got := f.sent(); len(got) != 0 {
		t.Fatalf("refused decisions sent %q", got)
	}
	// What the API refuses, it says.
	code, _, stderr = runCLI(t, srv, "promotion", "approve", "pr-2")
	if code != 1 || !strings.Contains(stderr, "alice requested promotion pr-2 and cannot approve it: another approver must (self_approval, HTTP 403)") {
		t.Fatalf("self-approval: exit %d, stderr %q", code, stderr)
	}
	code, stdout, _ = runCLI(t, srv, "promotion", "reject", "pr-1", "-m", "not on a Friday", "-o", "template={{.id}}")
	if got := f.sent(); code != 0 || stdout != "pr-1\n" || got[len(got)-1] != `POST /api/v1/promotions/pr-1/reject {"comment":"not on a Friday"}` {
		t.Fatalf("promotion reject -m: exit %d, stdout %q, requests %q", code, stdout, got)
	}
}

func TestAuditTableAndJSONLines(t *testing.T) {
	f := &fakePromotionAPI{}
	srv := f.start(t)
	code, stdout, stderr := runCLI(t, srv, "audit", "--project", "shop", "--since", "24h", "--limit", "2")
	want := "TIME                  ACTOR  ACTION   WHERE                TARGET  REASON       RESULT\n" +
		"2030-01-02T03:03:05Z  bob    approve  shop/api/production  pr-1    looks good   ok\n" +
		"2030-01-02T02:04:05Z  root   stop     shop/-/production    -       incident 42  ok\n"
	if code != 0 || stdout != want || !strings.Contains(stderr, "there are older entries: --all lists them all") {
		t.Fatalf("audit: exit %d, stderr %q, stdout\n%s\nwant\n%s", code, stderr, stdout, want)
	}
	if got := f.got(); len(got) != 1 || got[0] != "GET /api/v1/audit?limit=2&project=shop&since=2030-01-01T03%3A04%3A05Z" {
		t.Fatalf("requests %q", got)
	}
	code, stdout, _ = runCLI(t, srv, "audit", "--all")
	if got := f.got(); code != 0 || len(got) != 2 || got[1] != "GET /api/v1/audit?cursor=a-2" || !strings.Contains(stdout, "token_create") {
		t.Fatalf("audit --all: exit %d, requests %q, stdout\n%s", code, got, stdout)
	}

	code, stdout, _ = runCLI(t, srv, "audit", "--jsonl", "--action", "approve")
	lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
	if code != 0 || len(lines) != 2 || !strings.HasPrefix(lines[0], `{"action":"approve"`) {
		t.Fatalf("audit --jsonl: exit %d, stdout %q", code, stdout)
	}
	for _, l := range lines {
		var e map[string]any
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			t.Errorf("line %q: %v", l, err)
		}
	}
	if got := f.got(); len(got) != 1 || got[0] != "GET /api/v1/audit?action=approve&format=jsonl" {
		t.Fatalf("requests %q", got)
	}
	for _, bad := range [][]string{{"--jsonl", "--limit", "5"}, {"--since", "yesterday"}} {
		if code, _, stderr := runCLI(t, srv, append([]string{"audit"}, bad...)...); code != exitUsage {
			t.Errorf("audit %q: exit %d, stderr %q; want a usage error", bad, code, stderr)
		}
	}
}
