package server

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/api/serviceerror"

	"github.com/slipway-dev/slipway/api"
	"github.com/slipway-dev/slipway/store"
	"github.com/slipway-dev/slipway/webhooks"
	"github.com/slipway-dev/slipway/workflows"
)

const ghRepo = "https://github.com/acme/shop-api.git"

// pushBody is a GitHub push of commit sha to ref of ghRepo.
func pushBody(ref, sha string, changed ...string) []byte {
	b, _ := json.Marshal(map[string]any{
		"ref": ref, "after": sha, "deleted": false,
		"repository":  map[string]any{"clone_url": ghRepo, "ssh_url": "git@github.com:acme/shop-api.git", "html_url": "https://github.com/acme/shop-api"},
		"pusher":      map[string]any{"name": "ada"},
		"head_commit": map[string]any{"message": "Fix the greeting"},
		"commits":     []any{map[string]any{"added": changed, "modified": []string{}, "removed": []string{}}},
	})
	return b
}

// deliver posts a GitHub delivery to the webhook URL's path, signed with secret ("" sends no signature).
func (e *testEnv) deliver(hookURL, event, delivery string, body []byte, secret string) *httptest.ResponseRecorder {
	return e.deliverFrom(hookURL, event, delivery, bytes.NewReader(body), secret, body)
}

// deliverFrom is deliver with the body read from r (signed as signed).
func (e *testEnv) deliverFrom(hookURL, event, delivery string, r io.Reader, secret string, signed []byte) *httptest.ResponseRecorder {
	u, err := url.Parse(hookURL)
	if err != nil {
		e.t.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodPost, u.Path, r)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-GitHub-Event", event)
	req.Header.Set("X-GitHub-Delivery", delivery)
	if secret != "" {
		req.Header.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(webhooks.Sign([]byte(secret), signed)))
	}
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	return rec
}

// autoBuilt creates component name on ghRepo with autoBuild on and returns the webhook secret shown once.
func (e *testEnv) autoBuilt(name string, extra map[string]any) api.ComponentResponse {
	e.t.Helper()
	body := map[string]any{"name": name, "repo": ghRepo, "branch": "main", "autoBuild": true}
	for k, v := range extra {
		body[k] = v
	}
	var got api.ComponentResponse
	e.must(http.StatusCreated, http.MethodPost, "/api/v1/projects/shop/components", e.developer, body, &got)
	return got
}

func TestGitHubWebhookBuildsEachCommitOnce(t *testing.T) {
	e, fake := newBuildEnv(t)
	web := e.autoBuilt("web", nil)
	if web.Webhook == nil || web.Webhook.Registered || len(web.Webhook.Secret) != 64 || !regexp.MustCompile(`^http://example\.com/webhooks/github/[0-9a-f]{32}$`).MatchString(web.Webhook.URL) {
		t.Fatalf("webhook info %+v", web.Webhook)
	}
	secret, hook := web.Webhook.Secret, web.Webhook.URL
	var shown api.Webhook
	e.must(http.StatusOK, http.MethodGet, "/api/v1/projects/shop/components/web/webhook", e.viewer, nil, &shown)
	if shown.URL != hook || shown.Registered || shown.Secret != "" || shown.Note == "" {
		t.Fatalf("GET webhook %+v: want its URL, not registered, a note and no secret", shown)
	}
	// A second component on the same repository shares the webhook; its secret is not shown again.
	docs := e.autoBuilt("docs", map[string]any{"paths": []string{"docs/"}})
	if docs.Webhook == nil || docs.Webhook.Secret != "" || docs.Webhook.URL != hook {
		t.Fatalf("second component's webhook info %+v", docs.Webhook)
	}

	sha := strings.Repeat("a", 40)
	body := pushBody("refs/heads/main", sha, "src/main.go")
	var first api.WebhookAnswer
	for i := range 3 { // the same delivery, replayed
		rec := e.deliver(hook, "push", "delivery-1", body, secret)
		if rec.Code != http.StatusAccepted {
			t.Fatalf("delivery %d: %d %s", i, rec.Code, rec.Body)
		}
		var ans api.WebhookAnswer
		if err := json.Unmarshal(rec.Body.Bytes(), &ans); err != nil {
			t.Fatal(err)
		}
		if len(ans.Builds) != 1 || ans.Builds[0].Component != "web" || ans.Builds[0].Commit != sha || ans.Builds[0].Existing != (i > 0) {
			t.Fatalf("delivery %d answer %+v (docs' path filter leaves it out)", i, ans)
		}
		if i == 0 {
			first = ans
		} else if ans.Builds[0].ID != first.Builds[0].ID {
			t.Fatalf("redelivery made build %s, want %s", ans.Builds[0].ID, first.Builds[0].ID)
		}
	}
	if n := len(fake.startCalls()); n != 1 {
		t.Fatalf("%d workflows started for one commit", n)
	}
	b := e.storedBuild(first.Builds[0].ID)
	if b.Trigger != (store.Trigger{Kind: "webhook", Actor: "ada", Provider: "github", DeliveryID: "delivery-1", Message: "Fix the greeting"}) {
		t.Fatalf("trigger %+v", b.Trigger)
	}
	st := fake.startCalls()[0]
	if st.opts.TypedSearchAttributes.Size() != 4 || st.args[0].(workflows.BuildPipelineInput).Commit != sha {
		t.Fatalf("start %+v", st)
	}

	// The path filter: a push touching docs/ builds docs too.
	rec := e.deliver(hook, "push", "delivery-2", pushBody("refs/heads/main", strings.Repeat("b", 40), "docs/index.md"), secret)
	var ans api.WebhookAnswer
	if err := json.Unmarshal(rec.Body.Bytes(), &ans); err != nil {
		t.Fatal(err)
	}
	if rec.Code != http.StatusAccepted || len(ans.Builds) != 2 {
		t.Fatalf("push touching docs: %d %s", rec.Code, rec.Body)
	}

	for _, tc := range []struct {
		name, event string
		body        []byte
		want        string
	}{
		{"tag", "push", pushBody("refs/tags/v1", sha), "tag push"},
		{"untracked branch", "push", pushBody("refs/heads/feature", strings.Repeat("c", 40)), "no component builds branch feature"},
		{"other event", "issues", pushBody("refs/heads/main", sha), "event issues"},
	} {
		rec := e.deliver(hook, tc.event, "d-"+tc.name, tc.body, secret)
		var ans api.WebhookAnswer
		if err := json.Unmarshal(rec.Body.Bytes(), &ans); err != nil {
			t.Fatal(err)
		}
		if rec.Code != http.StatusAccepted || len(ans.Builds) != 0 || !strings.Contains(ans.Ignored, tc.want) {
			t.Errorf("%s: %d %s", tc.name, rec.Code, rec.Body)
		}
	}
	deleted := []byte(fmt.Sprintf(`{"ref":"refs/heads/main","after":"%s","deleted":true,"repository":{"clone_url":%q}}`, strings.Repeat("0", 40), ghRepo))
	if rec := e.deliver(hook, "push", "d-del", deleted, secret); rec.Code != http.StatusAccepted || !strings.Contains(rec.Body.String(), "was deleted") {
		t.Errorf("deletion: %d %s", rec.Code, rec.Body)
	}
	if rec := e.deliver(hook, "ping", "d-ping", []byte(`{"zen":"hi","repository":{"clone_url":"`+ghRepo+`"}}`), secret); rec.Code != http.StatusOK {
		t.Errorf("ping: %d %s", rec.Code, rec.Body)
	}
	if n := len(fake.startCalls()); n != 3 {
		t.Fatalf("%d workflows started, want 3 (web twice, docs once)", n)
	}
}

func TestGitHubWebhookRefusals(t *testing.T) {
	e, fake := newBuildEnv(t)
	web := e.autoBuilt("web", nil).Webhook
	secret, hook := web.Secret, web.URL
	body := pushBody("refs/heads/main", strings.Repeat("a", 40))
	// Every delivery that does not authenticate gets the same answer, whatever is wrong with it.
	var refusal string
	for name, rec := range map[string]*httptest.ResponseRecorder{
		"unsigned":         e.deliver(hook, "push", "x", body, ""),
		"wrong secret":     e.deliver(hook, "push", "x", body, "wrong"),
		"unknown key":      e.deliver("/webhooks/github/"+strings.Repeat("0", 32), "push", "x", body, secret),
		"other provider":   e.deliver(strings.Replace(hook, "/github/", "/gitlab/", 1), "push", "x", body, secret),
		"signed otherwise": e.deliverFrom(hook, "push", "x", bytes.NewReader(append(slices.Clone(body), ' ')), secret, body),
	} {
		wantError(t, rec, http.StatusUnauthorized, "bad_signature", "")
		if refusal == "" {
			refusal = rec.Body.String()
		} else if rec.Body.String() != refusal {
			t.Errorf("%s answers %s, others %s", name, rec.Body, refusal)
		}
	}
	// The old delivery URL, without a key, is gone.
	if rec := e.deliver("/webhooks/github", "push", "x", body, secret); rec.Code != http.StatusNotFound {
		t.Errorf("POST /webhooks/github: %d %s", rec.Code, rec.Body)
	}
	// An unsigned delivery, or one to an unknown key, is refused before its body is read.
	for _, to := range []string{hook, "/webhooks/github/" + strings.Repeat("1", 32)} {
		r := &countingReader{r: bytes.NewReader(body)}
		sign := ""
		if !strings.HasPrefix(to, "http") {
			sign = secret
		}
		wantError(t, e.deliverFrom(to, "push", "x", r, sign, body), http.StatusUnauthorized, "bad_signature", "")
		if r.n != 0 {
			t.Errorf("delivery to %s: %d bytes of the body read before it was refused", to, r.n)
		}
	}
	other := bytes.ReplaceAll(body, []byte("acme/shop-api"), []byte("acme/unknown"))
	wantError(t, e.deliver(hook, "push", "x", other, secret), http.StatusBadRequest, "bad_delivery", "")
	wantError(t, e.deliver(hook, "push", "x", []byte(`{"ref":`), secret), http.StatusBadRequest, "malformed_json", "")
	wantError(t, e.deliver(hook, "", "x", body, secret), http.StatusBadRequest, "bad_delivery", "")
	huge := append(append([]byte(`{"pad":"`), bytes.Repeat([]byte("x"), 25<<20)...), []byte(`"}`)...)
	wantError(t, e.deliver(hook, "push", "x", huge, secret), http.StatusRequestEntityTooLarge, "body_too_large", "")
	if n := len(fake.startCalls()); n != 0 {
		t.Fatalf("%d workflows started by refused deliveries", n)
	}

	// Temporal down: 503, so GitHub shows the delivery failed and it can be redelivered; then it builds.
	fake.set(func(f *fakeTemporal) { f.startErr = serviceerror.NewUnavailable("connection refused") })
	wantError(t, e.deliver(hook, "push", "x", body, secret), http.StatusServiceUnavailable, "temporal_unavailable", "")
	fake.set(func(f *fakeTemporal) { f.startErr = nil })
	if rec := e.deliver(hook, "push", "x", body, secret); rec.Code != http.StatusAccepted || !strings.Contains(rec.Body.String(), `"existing":false`) {
		t.Fatalf("redelivery after Temporal came back: %d %s", rec.Code, rec.Body)
	}
}

func TestGitLabWebhook(t *testing.T) {
	e, fake := newBuildEnv(t)
	var got api.ComponentResponse
	e.must(http.StatusCreated, http.MethodPost, "/api/v1/projects/shop/components", e.developer,
		map[string]any{"name": "gl", "repo": "https://gitlab.example.com/acme/api.git", "autoBuild": true}, &got)
	if got.Webhook == nil || !strings.HasPrefix(got.Webhook.URL, "http://example.com/webhooks/gitlab/") || got.Webhook.Secret == "" {
		t.Fatalf("webhook %+v", got.Webhook)
	}
	sha := strings.Repeat("d", 40)
	body := []byte(fmt.Sprintf(`{"object_kind":"push","ref":"refs/heads/main","after":%q,"checkout_sha":%q,"user_username":"jsmith",
		"project":{"git_http_url":"https://gitlab.example.com/acme/api.git"},"commits":[{"id":%q,"message":"Update"}]}`, sha, sha, sha))
	deliver := func(token, event string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, strings.TrimPrefix(got.Webhook.URL, "http://example.com"), bytes.NewReader(body))
		req.Header.Set("X-Gitlab-Token", token)
		req.Header.Set("X-Gitlab-Event", event)
		req.Header.Set("X-Gitlab-Event-UUID", "uuid-1")
		rec := httptest.NewRecorder()
		e.h.ServeHTTP(rec, req)
		return rec
	}
	wantError(t, deliver("wrong", "Push Hook"), http.StatusUnauthorized, "bad_signature", "")
	wantError(t, deliver("", "Push Hook"), http.StatusUnauthorized, "bad_signature", "")
	for range 3 {
		if rec := deliver(got.Webhook.Secret, "Push Hook"); rec.Code != http.StatusAccepted {
			t.Fatalf("push: %d %s", rec.Code, rec.Body)
		}
	}
	if rec := deliver(got.Webhook.Secret, "Issue Hook"); rec.Code != http.StatusAccepted || !strings.Contains(rec.Body.String(), "only push") {
		t.Fatalf("issue hook: %d %s", rec.Code, rec.Body)
	}
	if n := len(fake.startCalls()); n != 1 {
		t.Fatalf("%d workflows for one commit delivered 3 times", n)
	}
	b, err := e.st.ListBuilds(t.Context(), "shop", "gl", "", 10)
	if err != nil || len(b) != 1 {
		t.Fatalf("builds of gl: %+v, %v", b, err)
	}
	if b[0].Trigger.Provider != "gitlab" || b[0].Trigger.Actor != "jsmith" || b[0].Trigger.DeliveryID != "uuid-1" {
		t.Fatalf("trigger %+v", b[0].Trigger)
	}
}

// fakeGitHub records the hook calls of the GitHub REST API and checks the token.
type fakeGitHub struct {
	mu    sync.Mutex
	calls []string
	hooks map[string]map[string]any
}

func (f *fakeGitHub) start(t *testing.T, token string) *httptest.Server {
	mux := http.NewServeMux()
	auth := func(h http.HandlerFunc) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Authorization") != "Bearer "+token {
				http.Error(w, `{"message":"Bad credentials"}`, http.StatusUnauthorized)
				return
			}
			f.mu.Lock()
			f.calls = append(f.calls, r.Method+" "+r.URL.Path)
			f.mu.Unlock()
			h(w, r)
		}
	}
	mux.HandleFunc("POST /api/v3/repos/{owner}/{repo}/hooks", auth(func(w http.ResponseWriter, r *http.Request) {
		var hook map[string]any
		_ = json.NewDecoder(r.Body).Decode(&hook)
		f.mu.Lock()
		f.hooks[r.PathValue("owner")+"/"+r.PathValue("repo")] = hook
		f.mu.Unlock()
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(map[string]any{"id": 4242})
	}))
	mux.HandleFunc("DELETE /api/v3/repos/{owner}/{repo}/hooks/{id}", auth(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	}))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func TestWebhookRegisteredOnGitHubEnterprise(t *testing.T) {
	gh := &fakeGitHub{hooks: map[string]map[string]any{}}
	ghAPI := gh.start(t, "ghp_token")
	host := strings.TrimPrefix(ghAPI.URL, "http://")
	e, _ := newBuildEnv(t, func(d *Deps) {
		d.Webhooks = WebhookConfig{PublicURL: "https://slipway.example.com", GitHubAPI: ghAPI.URL + "/api/v3", GitHubToken: "ghp_token"}
	})
	repo := "https://" + host + "/acme/shop-api.git"
	var got api.ComponentResponse
	e.must(http.StatusCreated, http.MethodPost, "/api/v1/projects/shop/components", e.developer,
		map[string]any{"name": "web", "repo": repo, "autoBuild": true}, &got)
	if got.Webhook == nil || !got.Webhook.Registered || got.Webhook.Secret != "" || !strings.HasPrefix(got.Webhook.URL, "https://slipway.example.com/webhooks/github/") {
		t.Fatalf("webhook %+v", got.Webhook)
	}
	hook := gh.hooks["acme/shop-api"]
	cfg, _ := hook["config"].(map[string]any)
	if hook == nil || cfg["url"] != got.Webhook.URL || cfg["content_type"] != "json" ||
		len(cfg["secret"].(string)) != 64 || fmt.Sprint(hook["events"]) != "[push]" {
		t.Fatalf("hook created %+v", hook)
	}
	// GET …/webhook shows it again, registered, never with a secret; a viewer may read it.
	var shown api.Webhook
	e.must(http.StatusOK, http.MethodGet, "/api/v1/projects/shop/components/web/webhook", e.viewer, nil, &shown)
	if shown.URL != got.Webhook.URL || !shown.Registered || shown.Secret != "" {
		t.Fatalf("GET webhook %+v, want %+v without a secret", shown, got.Webhook)
	}
	// Turning auto-build off deletes it on GitHub and in slipway.
	e.must(http.StatusOK, http.MethodPatch, "/api/v1/projects/shop/components/web", e.developer, map[string]any{"autoBuild": false}, nil)
	wantError(t, e.do(http.MethodGet, "/api/v1/projects/shop/components/web/webhook", e.viewer, nil), http.StatusNotFound, "not_found", "")
	if got := strings.Join(gh.calls, ", "); got != "POST /api/v3/repos/acme/shop-api/hooks, DELETE /api/v3/repos/acme/shop-api/hooks/4242" {
		t.Fatalf("GitHub calls: %s", got)
	}
	if _, err := e.st.GetWebhook(t.Context(), webhooks.RepoKey(repo)); err == nil {
		t.Fatal("the webhook is still stored")
	}

	// Deleting the project of the last auto-built component of a repository deletes its webhook too.
	e.must(http.StatusOK, http.MethodPatch, "/api/v1/projects/shop/components/web", e.developer, map[string]any{"autoBuild": true}, nil)
	e.must(http.StatusNoContent, http.MethodDelete, "/api/v1/projects/shop", e.developer, nil, nil)
	if got := gh.calls[len(gh.calls)-1]; got != "DELETE /api/v3/repos/acme/shop-api/hooks/4242" {
		t.Fatalf("last GitHub call %s", got)
	}
	if _, err := e.st.GetWebhook(t.Context(), webhooks.RepoKey(repo)); err == nil {
		t.Fatal("the webhook outlived its project")
	}
}

// countingReader counts the bytes read from r.
type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

// At most maxDeliveries bodies are read at once: one more waits for a slot, and is told to deliver again
// (503, Retry-After) when none frees up in time.
func TestWebhookDeliveriesAreReadFewAtATime(t *testing.T) {
	e, _ := newBuildEnv(t)
	web := e.autoBuilt("web", nil).Webhook
	body := pushBody("refs/heads/main", strings.Repeat("a", 40))
	for range maxDeliveries {
		e.srv.deliveries <- struct{}{}
	}
	u, _ := url.Parse(web.URL)
	req := httptest.NewRequest(http.MethodPost, u.Path, bytes.NewReader(body))
	req.Header.Set("X-GitHub-Event", "push")
	req.Header.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(webhooks.Sign([]byte(web.Secret), body)))
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req.WithContext(ctx))
	wantError(t, rec, http.StatusServiceUnavailable, "busy", "")
	if rec.Header().Get("Retry-After") == "" {
		t.Error("a busy answer without Retry-After")
	}
	<-e.srv.deliveries // one slot frees up
	if rec := e.deliver(web.URL, "push", "x", body, web.Secret); rec.Code != http.StatusAccepted {
		t.Fatalf("delivery with a free slot: %d %s", rec.Code, rec.Body)
	}
}
