package integration

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slipway-dev/slipway/baseimages"
	"github.com/slipway-dev/slipway/webhooks"
)

// githubPush is a GitHub push delivery of commit sha on main of the repository at repo.
func githubPush(repo, sha string) []byte {
	b, _ := json.Marshal(map[string]any{
		"ref": "refs/heads/main", "after": sha,
		"repository":  map[string]any{"clone_url": repo},
		"pusher":      map[string]any{"name": "ada"},
		"head_commit": map[string]any{"message": "hello"},
	})
	return b
}

// deliverGitHub posts a signed push delivery to the webhook's URL and returns the status and the build IDs of the answer.
func deliverGitHub(t testing.TB, hook, secret, delivery string, body []byte) (int, []string) {
	req, _ := http.NewRequest(http.MethodPost, hook, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-GitHub-Event", "push")
	req.Header.Set("X-GitHub-Delivery", delivery)
	req.Header.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(webhooks.Sign([]byte(secret), body)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Error(err)
		return 0, nil
	}
	defer resp.Body.Close()
	var ans struct {
		Builds []struct{ ID string } `json:"builds"`
	}
	b, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(b, &ans)
	var ids []string
	for _, x := range ans.Builds {
		ids = append(ids, x.ID)
	}
	return resp.StatusCode, ids
}

// TestSignedPushBuildsAndDeploysOnce delivers a signed push of a commit of hello three times at once: one
// build, which auto-deploys to development, where the commit serves.
func TestSignedPushBuildsAndDeploysOnce(t *testing.T) {
	if _, err := os.Stat(baseimages.BusyboxBinary); err != nil {
		t.Skipf("%s missing: %v", baseimages.BusyboxBinary, err)
	}
	dockerEngine(t)
	dir := t.TempDir()
	dev := startDev(t, filepath.Join(dir, "data"))
	a := newAPI(t, dev, filepath.Join(dir, "data"))
	project := "hook" + strings.ToLower(time.Now().Format("150405"))
	t.Cleanup(func() { removeContainersOf(t, project) })
	a.call("POST", "/api/v1/projects", map[string]any{"name": project}, http.StatusCreated, nil)
	src := filepath.Join(dir, "hello")
	sha := gitRepo(t, src, filesUnder(t, filepath.Join("..", "examples", "hello")))
	var comp struct {
		Webhook struct{ URL, Secret string } `json:"webhook"`
	}
	a.call("POST", "/api/v1/projects/"+project+"/components", map[string]any{"name": "hello", "repo": "file://" + src,
		"autoBuild": true, "autoDeploy": true}, http.StatusCreated, &comp)
	if comp.Webhook.Secret == "" || !strings.HasPrefix(comp.Webhook.URL, dev.Endpoints.HTTP+"/webhooks/github/") {
		t.Fatalf("webhook %+v", comp.Webhook)
	}
	refuseUnsignedFloods(t, comp.Webhook.URL)
	base := "/api/v1/projects/" + project + "/components/hello"
	a.call("PUT", base+"/environments/development/configs/GREETING", map[string]any{"value": "hi"}, http.StatusCreated, nil)
	a.call("PUT", base+"/environments/development/configs/API_TOKEN", map[string]any{"value": "s3cret", "secret": true}, http.StatusCreated, nil)

	body := githubPush("file://"+src, sha)
	var wg sync.WaitGroup
	ids := make([][]string, 3)
	for i := range ids {
		wg.Go(func() {
			code, got := deliverGitHub(t, comp.Webhook.URL, comp.Webhook.Secret, "delivery-1", body)
			if code != http.StatusAccepted {
				t.Errorf("delivery %d: status %d", i, code)
			}
			ids[i] = got
		})
	}
	wg.Wait()
	if len(ids[0]) != 1 || ids[1][0] != ids[0][0] || ids[2][0] != ids[0][0] {
		t.Fatalf("deliveries answered builds %v, want one build", ids)
	}
	b := waitBuild(t, a, ids[0][0], 3*time.Minute)
	if b.Status != "succeeded" || b.Commit != sha {
		t.Fatalf("build %+v", b)
	}
	var builds struct{ Items []json.RawMessage }
	a.call("GET", base+"/builds", nil, http.StatusOK, &builds)
	if len(builds.Items) != 1 {
		t.Fatalf("%d builds of the commit", len(builds.Items))
	}
	dep := waitDeployment(t, a, base, "d-auto-"+strings.TrimPrefix(b.ID, "b-"), 2*time.Minute)
	if dep.Status != "succeeded" {
		t.Fatalf("deployment %+v", dep)
	}
	if page := get(t, dep.URL+"/"); !strings.Contains(page, "hello from slipway") {
		t.Fatalf("serves %q", page)
	}
}

// BenchmarkWebhookDeliveries sends 200 signed push deliveries, 4 of each of 50 commits, from 50 clients at once
// to `slipway dev`, and reports the acknowledgement latency (p50, p99) and how long after its first delivery
// each commit's build started running (p50; its first activity marks it so). Every commit is built exactly once.
// The commits do not exist, so the builds fail at checkout: what is measured ends before.
func BenchmarkWebhookDeliveries(b *testing.B) {
	dir := b.TempDir()
	cfg := devConfig(filepath.Join(dir, "data"))
	dev := startDevWith(b, cfg)
	a := newAPI(b, dev, filepath.Join(dir, "data"))
	post := func(path string, body any, out any) { a.call("POST", path, body, http.StatusCreated, out) }
	repo := "file://" + filepath.Join(dir, "repo")
	post("/api/v1/projects", map[string]any{"name": "bench"}, nil)
	var comp struct {
		Webhook struct{ URL, Secret string } `json:"webhook"`
	}
	post("/api/v1/projects/bench/components", map[string]any{"name": "api", "repo": repo, "autoBuild": true}, &comp)
	if comp.Webhook.Secret == "" {
		b.Fatal("no webhook secret")
	}
	for b.Loop() {
		const commits, copies = 50, 4
		type sent struct {
			at    time.Time
			took  time.Duration
			build string
		}
		results := make([]sent, commits*copies)
		var wg sync.WaitGroup
		run := time.Now().UnixNano()
		for c := range commits {
			wg.Go(func() {
				sha := fmt.Sprintf("%040x", run+int64(c))
				body := githubPush(repo, sha)
				for k := range copies {
					i := c*copies + k
					start := time.Now()
					code, ids := deliverGitHub(b, comp.Webhook.URL, comp.Webhook.Secret, fmt.Sprintf("d-%d-%d", c, k), body)
					results[i] = sent{at: start, took: time.Since(start)}
					if code != http.StatusAccepted || len(ids) != 1 {
						b.Errorf("delivery %d: status %d, builds %v", i, code, ids)
						return
					}
					results[i].build = ids[0]
				}
			})
		}
		wg.Wait()
		acks := make([]time.Duration, len(results))
		first := map[string]time.Time{}
		for i, r := range results {
			acks[i] = r.took
			if t, ok := first[r.build]; !ok || r.at.Before(t) {
				first[r.build] = r.at
			}
		}
		if len(first) != commits {
			b.Fatalf("%d builds for %d commits", len(first), commits)
		}
		var starts []time.Duration
		deadline := time.Now().Add(2 * time.Minute)
		for id, at := range first {
			for {
				var d struct {
					StartedAt *time.Time `json:"startedAt"`
				}
				req, _ := http.NewRequest(http.MethodGet, dev.Endpoints.HTTP+"/api/v1/builds/"+id, nil)
				req.Header.Set("Authorization", "Bearer "+a.token)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				_ = json.NewDecoder(resp.Body).Decode(&d)
				resp.Body.Close()
				if d.StartedAt != nil {
					starts = append(starts, d.StartedAt.Sub(at))
					break
				}
				if time.Now().After(deadline) {
					b.Fatalf("build %s never started", id)
				}
				time.Sleep(20 * time.Millisecond)
			}
		}
		sort.Slice(acks, func(i, j int) bool { return acks[i] < acks[j] })
		sort.Slice(starts, func(i, j int) bool { return starts[i] < starts[j] })
		b.ReportMetric(float64(acks[len(acks)/2].Microseconds())/1000, "ack-p50-ms")
		b.ReportMetric(float64(acks[len(acks)*99/100].Microseconds())/1000, "ack-p99-ms")
		b.ReportMetric(float64(starts[len(starts)/2].Microseconds())/1000, "start-p50-ms")
	}
}

// refuseUnsignedFloods sends 10 unsigned 24 MB deliveries at once to the webhook's URL and 10 to an unknown key:
// each is refused with a 401 before its body is read, so together they allocate less than one body would.
func refuseUnsignedFloods(t *testing.T, hook string) {
	t.Helper()
	const size = 24 << 20
	body := bytes.Repeat([]byte("x"), size)
	unknown := hook[:strings.LastIndex(hook, "/")+1] + strings.Repeat("0", 32)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	var wg sync.WaitGroup
	codes := make([]int, 20)
	for i := range codes {
		to := hook
		if i%2 == 1 {
			to = unknown
		}
		wg.Go(func() {
			req, _ := http.NewRequest(http.MethodPost, to, bytes.NewReader(body))
			req.Header.Set("X-GitHub-Event", "push")
			if i%2 == 1 {
				req.Header.Set("X-Hub-Signature-256", "sha256="+strings.Repeat("0", 64))
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				codes[i] = -1 // the server answered and closed the connection while the body was being sent
				return
			}
			resp.Body.Close()
			codes[i] = resp.StatusCode
		})
	}
	wg.Wait()
	runtime.ReadMemStats(&after)
	for i, c := range codes {
		if c != http.StatusUnauthorized && c != -1 {
			t.Errorf("unsigned delivery %d: status %d, want 401", i, c)
		}
	}
	if !slices.Contains(codes, http.StatusUnauthorized) {
		t.Errorf("no refused delivery got its 401 back: %v", codes)
	}
	if grew := after.TotalAlloc - before.TotalAlloc; grew > size {
		t.Errorf("20 refused deliveries of 24 MB allocated %d MB: a body was read", grew>>20)
	}
	t.Logf("20 refused 24 MB deliveries allocated %.1f MB in the process (the clients' body included once)", float64(after.TotalAlloc-before.TotalAlloc)/(1<<20))
}
