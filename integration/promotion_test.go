package integration

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slipway-dev/slipway/baseimages"
	"github.com/slipway-dev/slipway/workflows"
)

// promotionState is a promotion request as the API shows it.
type promotionState struct {
	ID          string           `json:"id"`
	Status      string           `json:"status"`
	Environment string           `json:"environment"`
	Build       string           `json:"build"`
	Digest      string           `json:"digest"`
	Requester   string           `json:"requester"`
	Message     string           `json:"message"`
	Deployment  *deploymentState `json:"deployment"`
	Decisions   []struct {
		Actor, Decision string
	} `json:"decisions"`
	Rescan *struct {
		Passed bool `json:"passed"`
	} `json:"rescan"`
}

func promotionEnded(status string) bool {
	switch status {
	case "succeeded", "rejected", "expired", "cancelled", "failed":
		return true
	}
	return false
}

// waitPromotion polls the request until done says it is where the test wants it, or it ended.
func waitPromotion(t *testing.T, a api, id string, within time.Duration, done func(promotionState) bool) promotionState {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		var p promotionState
		a.call("GET", "/api/v1/promotions/"+id, nil, http.StatusOK, &p)
		if done(p) || promotionEnded(p.Status) {
			return p
		}
		if time.Now().After(deadline) {
			t.Fatalf("promotion request %s is still %s after %s: %+v", id, p.Status, within, p)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// deployedBy waits for what the answer of a deploy or promote (a deployment, or a promotion request) deployed,
// and returns the deployment once it ended.
func deployedBy(t *testing.T, a api, base string, answer []byte, within time.Duration) deploymentState {
	t.Helper()
	var p promotionState
	if err := json.Unmarshal(answer, &p); err != nil {
		t.Fatalf("decoding %s: %v", answer, err)
	}
	if p.Requester == "" { // a deployment
		var d deploymentState
		_ = json.Unmarshal(answer, &d)
		return waitDeployment(t, a, base, d.ID, within)
	}
	p = waitPromotion(t, a, p.ID, within, func(p promotionState) bool { return p.Deployment != nil })
	if p.Deployment == nil {
		t.Fatalf("promotion request %s ended %s without a deployment: %s", p.ID, p.Status, p.Message)
	}
	return waitDeployment(t, a, base, p.Deployment.ID, within)
}

// withoutApprovals turns production's approvals off, for tests of something else than them.
func withoutApprovals(t *testing.T, a api, project string, envs ...string) {
	t.Helper()
	if len(envs) == 0 {
		envs = []string{"production"}
	}
	for _, e := range envs {
		a.call("PATCH", "/api/v1/projects/"+project+"/environments/"+e, map[string]any{"approval": map[string]any{"required": false}}, http.StatusOK, nil)
	}
}

// TestTwoApprovalsAcrossARestart promotes a build to production through two
// approvals from two other admin tokens, with slipway dev stopped and started again between them: the request
// and its first approval survive, the second lets it through, the digest is re-scanned and the same digest
// deploys. A quarantined build and a stopped line that refuses are refused with clear errors, and every step is
// in the audit log.
func TestTwoApprovalsAcrossARestart(t *testing.T) {
	if _, err := os.Stat(baseimages.BusyboxBinary); err != nil {
		t.Skipf("%s missing: %v", baseimages.BusyboxBinary, err)
	}
	dockerEngine(t)
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	dev := startDevWith(t, devConfig(data))
	admin := newAPI(t, dev, data)
	token := func(name, role string) api {
		var minted struct {
			Token string `json:"token"`
		}
		admin.call("POST", "/api/v1/tokens", map[string]any{"name": name, "role": role}, http.StatusCreated, &minted)
		return api{t: t, base: admin.base, token: minted.Token}
	}
	developer, ops1, ops2 := token("dev", "developer"), token("ops1", "admin"), token("ops2", "admin")

	project := "gov" + strings.ToLower(time.Now().Format("150405"))
	developer.call("POST", "/api/v1/projects", map[string]any{"name": project}, http.StatusCreated, nil)
	t.Cleanup(func() { removeContainersOf(t, project) })
	base := "/api/v1/projects/" + project + "/components/hello"
	src := filepath.Join(dir, "hello")
	gitRepo(t, src, filesUnder(t, filepath.Join("..", "examples", "hello")))
	developer.call("POST", "/api/v1/projects/"+project+"/components", map[string]any{"name": "hello", "repo": "file://" + src, "autoDeploy": true},
		http.StatusCreated, nil)
	for _, env := range []string{"development", "production"} {
		developer.call("PUT", base+"/environments/"+env+"/configs/GREETING", map[string]any{"value": "hi " + env}, http.StatusCreated, nil)
		developer.call("PUT", base+"/environments/"+env+"/configs/API_TOKEN", map[string]any{"value": "s3cret-canary", "secret": true}, http.StatusCreated, nil)
	}
	admin.call("PATCH", "/api/v1/projects/"+project+"/environments/production", map[string]any{"approval": map[string]any{"minApprovals": 2}},
		http.StatusOK, nil)
	var started struct{ ID string }
	developer.call("POST", base+"/builds", map[string]any{}, http.StatusAccepted, &started)
	b := waitBuild(t, developer, started.ID, 3*time.Minute)
	if b.Status != "succeeded" {
		t.Fatalf("build %+v", b)
	}
	devDep := waitDeployment(t, developer, base, "d-auto-"+strings.TrimPrefix(b.ID, "b-"), 2*time.Minute)
	if devDep.Status != "succeeded" {
		t.Fatalf("development %+v", devDep)
	}

	// The developer asks; it waits for two approvals, and the developer cannot give one.
	var p promotionState
	developer.call("POST", base+"/promote", map[string]any{}, http.StatusAccepted, &p)
	if p.Status != "pending_approval" || p.Environment != "production" || p.Digest != devDep.Digest {
		t.Fatalf("request %+v", p)
	}
	decide := "/api/v1/promotions/" + p.ID + "/"
	developer.call("POST", decide+"approve", map[string]any{}, http.StatusForbidden, nil)
	ops1.call("POST", decide+"approve", map[string]any{"comment": "checked the diff"}, http.StatusOK, nil)

	// Restart slipway dev while the request waits: it and its approval survive.
	stopDev(t, dev)
	dev = startDevWith(t, devConfig(data))
	admin, ops2 = api{t: t, base: dev.Endpoints.HTTP, token: admin.token}, api{t: t, base: dev.Endpoints.HTTP, token: ops2.token}
	developer = api{t: t, base: dev.Endpoints.HTTP, token: developer.token}
	admin.call("GET", "/api/v1/promotions/"+p.ID, nil, http.StatusOK, &p)
	if p.Status != "pending_approval" || len(p.Decisions) != 1 {
		t.Fatalf("after the restart %+v", p)
	}
	ops2.call("POST", decide+"approve", map[string]any{}, http.StatusOK, nil)
	p = waitPromotion(t, admin, p.ID, 3*time.Minute, func(promotionState) bool { return false })
	if p.Status != "succeeded" || p.Deployment == nil || p.Deployment.Digest != devDep.Digest || p.Rescan == nil || !p.Rescan.Passed {
		t.Fatalf("promotion %+v (deployment %+v)", p, p.Deployment)
	}
	if got := get(t, p.Deployment.URL+"/"); !strings.Contains(got, "hello from slipway") {
		t.Fatalf("production serves %q", got)
	}

	// A quarantined build is refused everywhere; a stopped line in an environment that refuses says why.
	developer.call("POST", "/api/v1/builds/"+b.ID+"/quarantine", map[string]any{"reason": "CVE-2026-0001 in libhello"}, http.StatusOK, nil)
	if body := string(developer.call("POST", base+"/environments/development/deploy", map[string]any{"build": b.ID}, http.StatusConflict, nil)); !strings.Contains(body, "quarantined") || !strings.Contains(body, "CVE-2026-0001") {
		t.Fatalf("deploying a quarantined build: %s", body)
	}
	admin.call("DELETE", "/api/v1/builds/"+b.ID+"/quarantine", nil, http.StatusNoContent, nil)
	admin.call("PATCH", "/api/v1/projects/"+project+"/environments/development", map[string]any{"freezeMode": "refuse", "stopped": true, "stopReason": "incident 7"},
		http.StatusOK, nil)
	if body := string(developer.call("POST", base+"/environments/development/deploy", map[string]any{"build": b.ID}, http.StatusConflict, nil)); !strings.Contains(body, "frozen") || !strings.Contains(body, "incident 7") {
		t.Fatalf("deploying into a stopped line: %s", body)
	}

	// Every step is in the audit log, and the secret is in none of it.
	raw := admin.call("GET", "/api/v1/audit?project="+project+"&format=jsonl", nil, http.StatusOK, nil)
	if strings.Contains(string(raw), "s3cret-canary") {
		t.Fatal("the secret is in the audit log")
	}
	for _, want := range []string{`"action":"promote"`, `"action":"approve","project":"` + project, `"actor":"ops1"`, `"actor":"ops2"`,
		`"action":"promotion_ended"`, `"action":"quarantine"`, `"action":"unquarantine"`, `"action":"stop"`, `"action":"config_set"`} {
		if !strings.Contains(string(raw), want) {
			t.Errorf("the audit log lacks %s:\n%s", want, raw)
		}
	}
	if os.Getenv("SLIPWAY_RECORD_HISTORIES") != "" {
		recordHistory(t, dev.Temporal, dev.Keys, workflows.PromotionWorkflowID(p.ID), "../workflows/testdata/promotion.json")
	}
}
