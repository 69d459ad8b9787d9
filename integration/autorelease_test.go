package integration

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slipway-dev/slipway/baseimages"
)

// releaseState is a deployment with its verification, as GET …/deployments shows it.
type releaseState struct {
	deploymentState
	Actor        string `json:"actor"`
	Verification string `json:"verification"`
}

// environmentReleases reads the component's current release and history in each environment, by name.
func environmentReleases(t *testing.T, a api, base string) map[string]struct {
	Current *releaseState
	History []releaseState
} {
	t.Helper()
	var out struct {
		Items []struct {
			Environment string         `json:"environment"`
			Current     *releaseState  `json:"current"`
			History     []releaseState `json:"history"`
		} `json:"items"`
	}
	a.call("GET", base+"/deployments", nil, http.StatusOK, &out)
	m := map[string]struct {
		Current *releaseState
		History []releaseState
	}{}
	for _, e := range out.Items {
		m[e.Environment] = struct {
			Current *releaseState
			History []releaseState
		}{e.Current, e.History}
	}
	return m
}

// eventually polls cond every 250 ms until it holds, failing with what it says after within.
func eventually(t *testing.T, within time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		ok, said := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not so after %s: %s", what, within, said)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// TestReleasesPromoteAndRollBackThemselves: development → staging → production, staging and production promoted
// by policy (auto, a soak of a few seconds) and staging verifying / and, with a smoke task run beside the
// release, its /version. One commit reaches production by itself; a commit whose /version is wrong (while /
// serves fine) fails its verification in staging under load,
// is rolled back there to the release before it with 0 failed requests, is not promoted from staging, and never
// reaches production.
func TestReleasesPromoteAndRollBackThemselves(t *testing.T) {
	if _, err := os.Stat(baseimages.BusyboxBinary); err != nil {
		t.Skipf("%s missing: %v", baseimages.BusyboxBinary, err)
	}
	dockerEngine(t)
	dir := t.TempDir()
	cfg := devConfig(filepath.Join(dir, "data"))
	cfg.Deploy.ReadyTimeout = 8 * time.Second
	dev := startDevWith(t, cfg)
	a := newAPI(t, dev, filepath.Join(dir, "data"))
	project := "auto" + strings.ToLower(time.Now().Format("150405"))
	pp := "/api/v1/projects/" + project
	a.call("POST", "/api/v1/projects", map[string]any{"name": project}, http.StatusCreated, nil)
	t.Cleanup(func() { removeContainersOf(t, project) })
	a.call("POST", pp+"/environments", map[string]any{"name": "staging"}, http.StatusCreated, nil)
	a.call("PUT", pp+"/environments/order", map[string]any{"order": []string{"development", "staging", "production"}}, http.StatusOK, nil)
	withoutApprovals(t, a, project)
	// Staging's verification: GET / for the window, then the smoke task, a manual-task deployed there, which reads
	// /version of the release under verification from inside the environment.
	smoke := pp + "/components/smoke"
	a.call("POST", pp+"/components", map[string]any{"name": "smoke", "type": "manual-task", "repo": taskRepo(t, filepath.Join(dir, "smoke"),
		`wget -qO- "http://$SLIPWAY_VERIFY_ADDRESS/version" | tee /dev/stderr | grep -q good`)}, http.StatusCreated, nil)
	var smokeBuild struct{ ID string }
	a.call("POST", smoke+"/builds", map[string]any{}, http.StatusAccepted, &smokeBuild)
	if b := waitBuild(t, a, smokeBuild.ID, 3*time.Minute); b.Status != "succeeded" {
		t.Fatalf("build of the smoke task %+v", b)
	}
	var smokeDep deploymentState
	a.call("POST", smoke+"/environments/staging/deploy", map[string]any{"build": smokeBuild.ID}, http.StatusAccepted, &smokeDep)
	if d := waitDeployment(t, a, smoke, smokeDep.ID, 2*time.Minute); d.Status != "succeeded" {
		t.Fatalf("deployment of the smoke task %+v", d)
	}
	body := string(a.call("PATCH", pp+"/environments/staging", map[string]any{"verification": map[string]any{"task": "hello"}},
		http.StatusUnprocessableEntity, nil))
	if !strings.Contains(body, "verification.task") {
		t.Fatalf("a verification task that is no component: %s", body)
	}
	a.call("PATCH", pp+"/environments/staging", map[string]any{
		"promotion": map[string]any{"policy": "auto", "soakSeconds": 2},
		"verification": map[string]any{"windowSeconds": 3, "task": "smoke", "http": []map[string]any{
			{"path": "/", "bodyContains": "hello from slipway", "successes": 2, "failures": 2, "intervalSeconds": 1}}},
	}, http.StatusOK, nil)
	a.call("PATCH", pp+"/environments/production", map[string]any{"promotion": map[string]any{"policy": "auto", "soakSeconds": 3}},
		http.StatusOK, nil)

	// A notification receiver: every delivery, its event and whether its signature holds.
	var mu sync.Mutex
	got := map[string][]string{} // delivery ID → "event subject-ish" per POST
	var bodies []string
	var secret string
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		mac := hmac.New(sha256.New, []byte(secret))
		mac.Write(b)
		var n struct{ Event, Environment, Deployment string }
		_ = json.Unmarshal(b, &n)
		signed := r.Header.Get("X-Slipway-Signature") == "sha256="+hex.EncodeToString(mac.Sum(nil))
		got[r.Header.Get("X-Slipway-Delivery")] = append(got[r.Header.Get("X-Slipway-Delivery")], fmt.Sprintf("%s %s %s signed=%v", n.Event, n.Environment, n.Deployment, signed))
		bodies = append(bodies, string(b))
	}))
	t.Cleanup(rcv.Close)
	var hook struct{ ID, Secret string }
	a.call("POST", pp+"/notifications", map[string]any{"url": rcv.URL}, http.StatusCreated, &hook)
	mu.Lock()
	secret = hook.Secret
	mu.Unlock()

	base := pp + "/components/hello"
	src := filepath.Join(dir, "hello")
	files := filesUnder(t, filepath.Join("..", "examples", "hello"))
	files["www/version"] = "good 1\n"
	gitRepo(t, src, files)
	a.call("POST", pp+"/components", map[string]any{"name": "hello", "repo": "file://" + src, "autoDeploy": true}, http.StatusCreated, nil)
	for _, env := range []string{"development", "staging", "production"} {
		a.call("PUT", base+"/environments/"+env+"/configs/GREETING", map[string]any{"value": "hi " + env}, http.StatusCreated, nil)
		a.call("PUT", base+"/environments/"+env+"/configs/API_TOKEN", map[string]any{"value": "s3cret-" + env, "secret": true}, http.StatusCreated, nil)
	}
	build := func() string {
		var started struct{ ID string }
		a.call("POST", base+"/builds", map[string]any{"rebuild": true}, http.StatusAccepted, &started)
		if b := waitBuild(t, a, started.ID, 3*time.Minute); b.Status != "succeeded" {
			t.Fatalf("build %+v", b)
		}
		return started.ID
	}
	serving := func(env, build string) func() (bool, string) {
		return func() (bool, string) {
			cur := environmentReleases(t, a, base)[env].Current
			if cur == nil {
				return false, "nothing serves"
			}
			return cur.Build == build, cur.Build + " serves (" + cur.Message + ")"
		}
	}

	// One commit, built once, reaches production by itself: verified in staging, soaked, promoted twice.
	began := time.Now()
	good := build()
	eventually(t, 3*time.Minute, "the first build serving in production", serving("production", good))
	t.Logf("commit to production by policy alone: %s", time.Since(began).Round(100*time.Millisecond))
	rel := environmentReleases(t, a, base)
	if s := rel["staging"].Current; s.Verification != "passed" || s.Actor != "auto-promote" {
		t.Fatalf("staging's release %+v, want verified and promoted by auto-promote", s)
	}
	if p := rel["production"].Current; p.Actor != "auto-promote" || p.Digest != rel["development"].Current.Digest {
		t.Fatalf("production's release %+v, want the same digest promoted by auto-promote", p)
	}
	stagingURL := rel["staging"].Current.URL

	// A commit whose /version is wrong: staging serves it (/ is fine), its verification fails, and the release
	// before it comes back, under load, without a failed request.
	commitChange(t, src, map[string]string{"www/version": "broken 2\n"})
	load := startHammer(stagingURL+"/", 4)
	bad := build()
	var rolledBack releaseState
	eventually(t, 3*time.Minute, "the bad build rolled back in staging", func() (bool, string) {
		for _, d := range environmentReleases(t, a, base)["staging"].History {
			if d.Build == bad && d.Status == "rolled_back" {
				rolledBack = d
				return true, ""
			}
		}
		return false, "not rolled back yet"
	})
	eventually(t, time.Minute, "the good build serving in staging again", serving("staging", good))
	load.finish(t, "staging through the failed verification and its rollback")
	if !strings.HasPrefix(rolledBack.Message, "rolled_back: verification failed: verification task smoke failed with exit code 1") ||
		rolledBack.Verification != "failed" {
		t.Fatalf("the rolled back deployment %+v", rolledBack)
	}
	if page := get(t, stagingURL+"/version"); !strings.Contains(page, "good 1") {
		t.Fatalf("staging serves %q after the rollback", page)
	}
	back := environmentReleases(t, a, base)["staging"].Current
	if back.Actor != "slipway" || !strings.HasPrefix(back.ID, "d-rb-") {
		t.Fatalf("staging's release after the rollback %+v, want slipway's rollback deployment", back)
	}

	// The smoke task's runs are kept as its runs: one per verified release, the bad one's failed.
	var runs struct {
		Items []struct {
			Trigger, Status, Environment string
		} `json:"items"`
	}
	a.call("GET", smoke+"/runs", nil, http.StatusOK, &runs)
	var kinds []string
	for _, r := range runs.Items {
		kinds = append(kinds, r.Trigger+":"+r.Environment+":"+r.Status)
	}
	if got := strings.Join(kinds, " "); got != "verification:staging:failed verification:staging:succeeded" {
		t.Fatalf("the smoke task's runs, newest first: %s", got)
	}

	// The receiver got each deployment's outcome once, signed, and the rollback; no secret value.
	var rolledBackNotes int
	eventually(t, time.Minute, "the rollback's notification", func() (bool, string) {
		mu.Lock()
		defer mu.Unlock()
		rolledBackNotes = 0
		for _, posts := range got {
			if strings.HasPrefix(posts[0], "deployment.rolled_back staging "+rolledBack.ID) {
				rolledBackNotes++
			}
		}
		return rolledBackNotes == 1, fmt.Sprint(got)
	})
	mu.Lock()
	succeeded := 0
	for id, posts := range got {
		if len(posts) != 1 || !strings.HasSuffix(posts[0], "signed=true") {
			t.Errorf("delivery %s was received %v, want once, signed", id, posts)
		}
		if strings.HasPrefix(posts[0], "deployment.succeeded") {
			succeeded++
		}
	}
	for _, b := range bodies {
		if strings.Contains(b, "s3cret-") {
			t.Errorf("a notification holds a secret value: %s", b)
		}
	}
	mu.Unlock()
	// development twice, staging twice and its rollback, production once (the smoke task's deploy came before
	// the hook).
	if succeeded != 6 {
		t.Errorf("%d deployment.succeeded notifications, want 6: %v", succeeded, got)
	}
	var log struct {
		Items []struct{ Event, Status string } `json:"items"`
	}
	a.call("GET", pp+"/notifications/"+hook.ID+"/deliveries", nil, http.StatusOK, &log)
	for _, d := range log.Items {
		if d.Status != "delivered" {
			t.Errorf("delivery log %+v, want every one delivered", log.Items)
			break
		}
	}

	// It is not promoted from staging, by hand or by policy, and production keeps the good build past its soak.
	body = string(a.call("POST", base+"/promote", map[string]any{"build": bad, "to": "production"}, http.StatusConflict, nil))
	if !strings.Contains(body, "failed_verification") {
		t.Fatalf("promoting the rolled back build: %s", body)
	}
	if ok, said := serving("production", good)(); !ok {
		t.Fatalf("production: %s", said)
	}
	var reqs struct {
		Items []struct {
			Build       string `json:"build"`
			Environment string `json:"environment"`
		} `json:"items"`
	}
	a.call("GET", pp+"/promotions", nil, http.StatusOK, &reqs)
	for _, r := range reqs.Items {
		if r.Build == bad && r.Environment == "production" {
			t.Fatalf("a promotion of the bad build into production was asked for: %+v", reqs.Items)
		}
	}

	// The DORA figures tell the same story: one change in production, measured from its commit, and staging's
	// failure, rolled back and restored.
	var dora struct {
		Environment         string
		DeploymentFrequency struct{ Deployments int }
		LeadTime            struct{ Changes, Fallbacks int }
		Environments        []struct {
			Environment                   string
			Succeeded, Failed, RolledBack int
			Restored                      int
			ChangeFailureRate             float64
		}
	}
	a.call("GET", pp+"/dora?component=hello", nil, http.StatusOK, &dora)
	if dora.Environment != "production" || dora.DeploymentFrequency.Deployments != 1 || dora.LeadTime.Changes != 1 || dora.LeadTime.Fallbacks != 0 {
		t.Errorf("the DORA figures %+v, want production's one deployment and one change measured from its commit", dora)
	}
	for _, e := range dora.Environments {
		if e.Environment == "staging" && (e.Succeeded != 2 || e.RolledBack != 1 || e.Failed != 0 || e.Restored != 1 || e.ChangeFailureRate <= 0.3) {
			t.Errorf("staging's DORA counts %+v, want the good build and the rollback succeeded, the bad one rolled back and restored", e)
		}
	}
}
