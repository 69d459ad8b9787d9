package integration

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/slipway-dev/slipway/baseimages"
)

// browser drives one headless Debian chromium tab against a slipway console. Every page it opens is kept as a
// screenshot (in shots), and the screenshots are kept when the test fails; each response body the browser
// receives is kept too, so a test can check what was sent to it.
type browser struct {
	t     *testing.T
	ctx   context.Context
	base  string
	shots string
	n     int

	mu     sync.Mutex
	bodies map[string]string // request ID → URL and body
	read   sync.WaitGroup
}

// newBrowser starts chromium, skipping the test without it unless CI_REQUIRE_BROWSER=1.
func newBrowser(t *testing.T, base string) *browser {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("CI_REQUIRE_BROWSER") == "1" {
			t.Fatalf("no chromium (Debian's chromium package; .ci/run installs it): %v", err)
		}
		t.Skipf("no chromium: %v", err)
	}
	shots := os.Getenv("SLIPWAY_SCREENSHOTS")
	if shots == "" {
		shots = filepath.Join(os.TempDir(), "slipway-console-"+time.Now().Format("20060102-150405"))
	}
	if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 900))
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(alloc)
	b := &browser{t: t, ctx: ctx, base: base, shots: shots, bodies: map[string]string{}}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 900)); err != nil { // starts chromium
		cancel()
		cancelAlloc()
		t.Fatalf("starting chromium: %v", err)
	}
	urls := map[network.RequestID]string{}
	responses := chromedp.Events(ctx, network.ResponseReceived)
	finished := chromedp.Events(ctx, network.LoadingFinished)
	b.read.Go(func() {
		for ev, err := range responses {
			if err != nil {
				return
			}
			b.mu.Lock()
			urls[ev.RequestID] = ev.Response.URL
			b.mu.Unlock()
		}
	})
	b.read.Go(func() {
		for ev, err := range finished {
			if err != nil {
				return
			}
			res, err := chromedp.Call(ctx, network.GetResponseBody, network.GetResponseBodyParams{RequestID: ev.RequestID})
			if err != nil {
				continue // a body the browser no longer holds (a page navigated away from)
			}
			b.mu.Lock()
			b.bodies[string(ev.RequestID)] = urls[ev.RequestID] + "\n" + string(res.Body)
			b.mu.Unlock()
		}
	})
	t.Cleanup(func() {
		if t.Failed() {
			b.shot("failed")
			t.Logf("screenshots of each page the console test opened are in %s", shots)
		} else {
			_ = os.RemoveAll(shots)
		}
		cancel()
		cancelAlloc()
		b.read.Wait()
	})
	return b
}

// do runs actions, failing the test with what when one fails.
func (b *browser) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.shot("failed-" + what)
		b.t.Fatalf("%s: %v (page: %s)", what, err, b.text("body"))
	}
}

// open navigates to path and keeps a screenshot of the page once it has loaded.
func (b *browser) open(path string) {
	b.t.Helper()
	b.do("opening "+path, chromedp.Navigate(b.base+path), chromedp.WaitReady(chromedp.CSS("main")))
	b.shot(path)
}

// shot keeps a screenshot named after name.
func (b *browser) shot(name string) {
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return
	}
	b.n++
	file := fmt.Sprintf("%02d-%s.png", b.n, strings.Trim(strings.NewReplacer("/", "-", "?", "-", "=", "-").Replace(name), "-"))
	if err := os.WriteFile(filepath.Join(b.shots, file), png, 0o644); err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
	}
}

// eval evaluates a JavaScript expression in the page (waiting for it when it is a promise).
func eval[T any](b *browser, js string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("evaluating %s: %v", js, err)
	}
	return v
}

// text is the text of the first element sel selects, "" when none does.
func (b *browser) text(sel string) string {
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	v, _ := chromedp.Run(ctx, chromedp.Evaluate[string](fmt.Sprintf(`document.querySelector(%q)?.innerText ?? ""`, sel)))
	return v
}

// waitText polls until the text of sel holds want and returns how long that took; it fails after within, naming
// what the page shows (its alerts among it).
func (b *browser) waitText(sel, want string, within time.Duration) time.Duration {
	b.t.Helper()
	start := time.Now()
	for {
		if strings.Contains(b.text(sel), want) {
			return time.Since(start)
		}
		if time.Since(start) > within {
			b.shot("waiting for " + want)
			alerts := eval[string](b, `Array.from(document.querySelectorAll("[role=alert]")).map(e => e.innerText).join(" | ")`)
			b.t.Fatalf("%s does not show %q within %s; it shows %q; alerts: %q", sel, want, within, b.text(sel), alerts)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// fill types text into the field sel selects, replacing what it held.
func (b *browser) fill(sel, text string) {
	b.t.Helper()
	// The field is focused first: a live refresh then leaves its part of the page alone. One that swapped the
	// field away just before (the node is gone) is met by trying again.
	var err error
	for range 3 {
		ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
		err = chromedp.Do(ctx, chromedp.Focus(chromedp.CSS(sel)),
			chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`document.querySelector(%q).value = ""`, sel)),
			chromedp.SendKeys(chromedp.CSS(sel), text))
		cancel()
		if err == nil && eval[string](b, fmt.Sprintf(`document.querySelector(%q)?.value ?? ""`, sel)) == text {
			return
		}
	}
	b.shot("failed-filling " + sel)
	b.t.Fatalf("filling %s: %v", sel, err)
}

func (b *browser) click(sel string) {
	b.t.Helper()
	b.do("clicking "+sel, chromedp.Click(chromedp.CSS(sel)))
}

// path is the path of the page the tab shows.
func (b *browser) path() string { return eval[string](b, `location.pathname`) }

// received returns every response body the browser got so far, each after its URL.
func (b *browser) received() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]string, 0, len(b.bodies))
	for _, body := range b.bodies {
		out = append(out, body)
	}
	return out
}

// TestConsoleInARealBrowser walks the README's flow in the console, in Debian's chromium against a real `slipway
// dev` with real builds and the Docker data plane: sign in, create a project and a component, build the newest
// commit from the Build Area and watch its log arrive while it runs, set configs and a secret, deploy, promote to
// production (both cards show the same digest), follow a build started elsewhere without a reload; then a viewer
// sees no write controls and is refused anyway, and the pages fit a 390 px phone.
func TestConsoleInARealBrowser(t *testing.T) {
	if _, err := os.Stat(baseimages.BusyboxBinary); err != nil {
		t.Skipf("%s missing: %v", baseimages.BusyboxBinary, err)
	}
	dockerEngine(t)
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	cfg := devConfig(data)
	cfg.Deploy.ReadyTimeout = 8 * time.Second
	dev := startDevWith(t, cfg)
	a := newAPI(t, dev, data)
	b := newBrowser(t, dev.Endpoints.HTTP)

	project := "ui" + strings.ToLower(time.Now().Format("150405"))
	t.Cleanup(func() { removeContainersOf(t, project) })
	hello := filesUnder(t, filepath.Join("..", "examples", "hello"))
	// A build step that takes a few seconds and says so, line by line: the log must arrive while it runs.
	hello["Dockerfile"] = strings.Replace(hello["Dockerfile"], "COPY www /www",
		"RUN for i in 1 2 3 4 5 6 7 8; do echo \"tick $i\"; sleep 1; done\nCOPY www /www", 1)
	src := filepath.Join(dir, "hello")
	head := gitRepo(t, src, hello)

	// Sign in with the admin token, as the README says.
	b.open("/")
	if p := b.path(); p != "/sign-in" {
		t.Fatalf("the console's front page sends a new user to %s, want /sign-in", p)
	}
	b.fill("#token", a.token)
	b.click(`form[action="/sign-in"] button[type=submit]`)
	b.waitText("h1", "Projects", 10*time.Second)

	// Create the project and its component.
	b.fill("#project-name", project)
	b.click(`form[data-api="/api/v1/projects"] button[type=submit]`)
	b.waitText("h1", project, 10*time.Second)
	b.shot("project")
	withoutApprovals(t, a, project) // the promotion below is an admin's, production's approvals are another test's
	b.do("opening Add a component", chromedp.Click(chromedp.CSS("details.card summary")))
	b.fill("#c-name", "hello")
	b.fill("#c-repo", "file://"+src)
	b.click(`form[data-api$="/components"] button[type=submit]`)
	b.waitText("#area-h", "Build Area", 10*time.Second)

	// The Build Area shows the branch's commits, the newest selected; "Build" builds it.
	b.waitText("#commits", head[:7], 20*time.Second)
	b.shot("build-area")
	if picked := eval[string](b, `document.querySelector("#commits input[type=radio]:checked")?.value ?? ""`); picked != head {
		t.Fatalf("the selected commit is %q, want the newest, %s", picked, head)
	}
	b.click(`#commits button[value=false]`)
	for start := time.Now(); !strings.HasPrefix(b.path(), "/builds/"); time.Sleep(50 * time.Millisecond) {
		if time.Since(start) > 15*time.Second {
			b.t.Fatalf("Build did not open the build console; the tab shows %s: %s", b.path(), b.text("main"))
		}
	}
	build := strings.TrimPrefix(b.path(), "/builds/")
	b.waitText("#log", "tick 2", 3*time.Minute)
	if st := buildStatus(t, a, build); st == "succeeded" || st == "failed" {
		t.Errorf("the log showed tick 2 only once the build had %s: it does not stream", st)
	}
	b.shot("build-running")
	b.waitText("#build-title", "succeeded", 3*time.Minute)
	b.waitText("#steps-h", "Steps", time.Second)
	b.waitText("#build-results", "web", 10*time.Second) // the endpoint, read from the descriptor
	b.shot("build-succeeded")
	if got := b.text("#log"); !strings.Contains(got, "tick 8") {
		t.Errorf("the log lacks the step's last line: %q", got)
	}

	// Configs & secrets for both environments.
	comp := "/projects/" + project + "/components/hello"
	b.open(comp + "/configs")
	const secretPrefix = "s3cret-in-the-browser-"
	for _, env := range []string{"development", "production"} {
		add := "#env-" + env + " form.inline"
		b.fill("#new-"+env+"-key", "GREETING")
		b.do("unticking Secret", chromedp.Click(chromedp.CSS(add+` input[name=secret]`)))
		b.fill("#new-"+env+"-value", "hello from "+env)
		b.click(add + " button[type=submit]")
		b.waitText("#env-"+env, "hello from "+env, 10*time.Second)
		b.fill("#new-"+env+"-key", "API_TOKEN")
		b.fill("#new-"+env+"-value", secretPrefix+env)
		b.click(add + " button[type=submit]")
		b.waitText("#env-"+env, "API_TOKEN", 10*time.Second)
	}
	b.shot("configs")

	// Deploy the build to development, then promote it to production.
	b.open(comp + "/deploy")
	b.do("picking the build", chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`document.querySelector("#pick-development").value = %q`, build)))
	b.click(`li[data-environment=development] form.picker button[type=submit]`)
	var built buildDetail
	a.call("GET", "/api/v1/builds/"+build, nil, http.StatusOK, &built)
	b.waitText(`li[data-environment=development] .digest`, built.Digest, 2*time.Minute)
	b.shot("deployed-development")
	b.click(`li[data-environment=development] form[data-api$="/promote"] button[type=submit]`)
	// Production's promotion is a request (its digest is re-scanned first): its page follows it to the end.
	b.waitText("#promotion h1", "succeeded", 3*time.Minute)
	b.shot("promotion-request")
	b.open(comp + "/deploy")
	b.waitText(`li[data-environment=production] .digest`, built.Digest, 2*time.Minute)
	b.shot("promoted-production")
	if dev, prod := b.text(`li[data-environment=development] .digest`), b.text(`li[data-environment=production] .digest`); dev != prod {
		t.Errorf("development runs %s, production %s: not the same digest", dev, prod)
	}
	if url := eval[string](b, `document.querySelector("li[data-environment=production] dd a[target=_blank]")?.href ?? ""`); url == "" {
		t.Error("the production card has no link to what it serves")
	} else if page := get(t, url); !strings.Contains(page, "hello from slipway") {
		t.Errorf("production serves %q", page)
	}

	// Live: a build started elsewhere (here the REST API) shows on the open Build Area without a reload.
	b.open(comp)
	b.waitText("#live-status", "live", 10*time.Second)
	var started struct{ ID string }
	a.call("POST", "/api/v1"+comp+"/builds", map[string]any{"rebuild": true}, http.StatusAccepted, &started)
	took := b.waitText("#builds", started.ID, 5*time.Second)
	t.Logf("a build started through the API showed on the open Build Area after %s", took.Round(time.Millisecond))
	// The goal is within a second (about 0.3 s here: the feed's 250 ms poll, the page's 100 ms debounce and one
	// page read); the bound leaves room for a CI machine busy with the other packages' tests.
	if took > 2500*time.Millisecond {
		t.Errorf("the Build Area followed a new build after %s, want within a second", took)
	}
	waitBuild(t, a, started.ID, 3*time.Minute)

	// Keyboard: Tab from the top of the Build Area reaches the "Build" button.
	b.do("focusing the page", chromedp.Evaluate[chromedp.Void](`document.activeElement?.blur()`))
	reached := false
	for range 40 {
		b.do("pressing Tab", chromedp.KeyEvent("\t"))
		if eval[string](b, `document.activeElement?.textContent?.trim() ?? ""`) == "Build" {
			reached = true
			break
		}
	}
	if !reached {
		t.Error("Tab never reaches the Build button")
	}

	// No page and no response the browser got holds the secret's value.
	for _, p := range []string{comp, comp + "/deploy", comp + "/configs", "/builds/" + build, "/projects/" + project} {
		b.open(p)
		if html := eval[string](b, `document.documentElement.outerHTML`); strings.Contains(html, secretPrefix) {
			t.Errorf("%s holds the secret's value", p)
		}
	}
	got := b.received()
	if len(got) < 10 {
		t.Fatalf("only %d response bodies were captured", len(got))
	}
	for _, body := range got {
		if strings.Contains(body, secretPrefix) {
			t.Errorf("the browser received the secret's value: %.200s", body)
		}
	}

	// A phone: 390 px wide, nothing wider than the screen.
	b.do("emulating a phone", chromedp.EmulateViewport(390, 844))
	for _, p := range []string{"/projects/" + project, comp, comp + "/deploy", comp + "/configs", "/builds/" + build} {
		b.open(p)
		if w := eval[int](b, `document.documentElement.scrollWidth`); w > 390 {
			t.Errorf("%s is %d px wide at 390 px", p, w)
		}
	}
	b.do("back to a desktop", chromedp.EmulateViewport(1280, 900))

	// A viewer sees no write controls, and the server refuses a write anyway.
	var viewer struct {
		Token string `json:"token"`
	}
	a.call("POST", "/api/v1/tokens", map[string]any{"name": "watcher", "role": "viewer"}, http.StatusCreated, &viewer)
	b.click(`form[action="/sign-out"] button`)
	b.waitText("h1", "Sign in", 10*time.Second)
	b.fill("#token", viewer.Token)
	b.click(`form[action="/sign-in"] button[type=submit]`)
	b.waitText("h1", "Projects", 10*time.Second)
	for _, p := range []string{"/projects", "/projects/" + project, comp, comp + "/deploy", comp + "/configs"} {
		b.open(p)
		if p == comp {
			b.waitText("#commits", head[:7], 20*time.Second)
		}
		if n := eval[int](b, `document.querySelectorAll("[data-api], button.primary").length`); n != 0 {
			t.Errorf("the viewer's %s has %d write controls", p, n)
		}
	}
	status := eval[int](b, `(async () => (await fetch("/api/v1/projects", {method: "POST", headers: {"Content-Type": "application/json",
		"X-CSRF-Token": document.querySelector('meta[name="csrf-token"]').content}, body: JSON.stringify({name: "nope"})})).status)()`)
	if status != http.StatusForbidden {
		t.Errorf("the viewer's write: status %d, want 403", status)
	}
}

// buildStatus is the build's status now.
func buildStatus(t *testing.T, a api, id string) string {
	t.Helper()
	var b buildDetail
	a.call("GET", "/api/v1/builds/"+id, nil, http.StatusOK, &b)
	return b.Status
}
