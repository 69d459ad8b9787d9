package integration

import (
	"bufio"
	"bytes"
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/slipway-dev/slipway/ociregistry"
	"github.com/slipway-dev/slipway/projectfile"
	"github.com/slipway-dev/slipway/stack"
)

// readmeQuickStart names the README sections whose shell blocks a new user runs, in order, with
// `slipway dev` running (`make run`).
var readmeQuickStart = []string{"## Build something", "## Deploy and promote", "## Projects as code", readmeCurlAppendix}

// readmeCurlAppendix is the README section that repeats the quick start's API calls with curl; the quick start
// itself uses slipway's verbs only.
const readmeCurlAppendix = "## Appendix: the quick start's API calls with curl"

// TestReadmeQuickStartUsesTheCLIOnly checks that the quick start calls slipway's API through its verbs: no curl of
// /api/v1, and no sed or jq to read the API's JSON (curl of the deployed app itself is fine).
func TestReadmeQuickStartUsesTheCLIOnly(t *testing.T) {
	script := readmeScript(t, "../README.md", readmeQuickStart[:3]...)
	for i, line := range strings.Split(script, "\n") {
		if strings.Contains(line, "/api/v1") || strings.Contains(line, "jq ") || strings.Contains(line, "sed ") || strings.Contains(line, "Authorization") {
			t.Errorf("quick start line %d calls the API without slipway: %s", i+1, line)
		}
	}
	// The example file of "Projects as code" is one apply takes.
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, _ := strings.Cut(string(readme), "## Projects as code")
	_, example, ok := strings.Cut(rest, "```yaml\n")
	example, _, _ = strings.Cut(example, "```")
	if !ok || !strings.Contains(example, "apiVersion: slipway.dev/v1") {
		t.Fatalf("no slipway.yaml example in the README's \"Projects as code\"")
	}
	if _, err := projectfile.Parse("README.md", []byte(example)); err != nil {
		t.Errorf("the README's example slipway.yaml: %v", err)
	}
}

// readmeRepo is the path the quick start copies examples/hello to; the test gives each run its own.
const readmeRepo = "/tmp/hello"

// TestReadmeQuickStart runs the README's quick start as written, against `./bin/slipway dev` started as
// `make run` starts it: from the top of a tree laid out like this repository (bin/, examples/), with the
// default, relative data dir .slipway. Only the listen addresses differ (free ports, through SLIPWAY_*
// variables, so the command line is the README's), and the quick start's repository gets a fresh path.
// Then a new commit of hello deploys itself to development, and the test measures how soon after the
// build queued that deployment the entry serves it.
func TestReadmeQuickStart(t *testing.T) {
	dockerEngine(t)
	t.Cleanup(func() { removeContainersOf(t, "shop") })
	top := t.TempDir()
	if err := os.Mkdir(filepath.Join(top, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	buildSlipway(t, filepath.Join(top, "bin", "slipway"))
	for link, target := range map[string]string{
		"bin/buildkitd": devConfig(top).Build.BuildkitdBinary, "bin/trivy": devConfig(top).Scan.TrivyBinary, "examples": "../examples",
	} {
		abs, err := filepath.Abs(target)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(abs, filepath.Join(top, link)); err != nil {
			t.Fatal(err)
		}
	}
	repo := filepath.Join(top, "hello-repo")
	script := strings.ReplaceAll(readmeScript(t, "../README.md", readmeQuickStart...), readmeRepo, repo)

	ctx, cancel := context.WithTimeout(t.Context(), 8*time.Minute)
	defer cancel()
	dev := exec.CommandContext(ctx, "./bin/slipway", "dev")
	// The end of ctx (t.Context ends before the cleanups run) stops slipway dev as Ctrl-C does: a kill would
	// leave its buildkitd's network namespaces mounted in the data dir, which then cannot be removed.
	dev.Cancel = func() error { return dev.Process.Signal(os.Interrupt) }
	dev.WaitDelay = 15 * time.Second
	dev.Dir = top
	dev.Env = append(withoutSlipwayVars(os.Environ()),
		"SLIPWAY_HTTP=127.0.0.1:0", "SLIPWAY_TEMPORAL=127.0.0.1:0", "SLIPWAY_UI=127.0.0.1:0", "SLIPWAY_REGISTRY=127.0.0.1:0", "SLIPWAY_EDGE=127.0.0.1:0")
	var devErr bytes.Buffer
	dev.Stderr = &devErr
	if err := dev.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- dev.Wait() }()
	t.Cleanup(func() {
		_ = dev.Process.Signal(os.Interrupt)
		select {
		case <-exited: //nolint:errcheck // its exit status after the Ctrl-C does not matter
		case <-time.After(15 * time.Second):
			_ = dev.Process.Kill()
			t.Errorf("slipway dev did not stop within 15 s of Ctrl-C; its last output:\n%s", devErr.String()[max(0, devErr.Len()-2000):])
		}
		// A stopped slipway dev leaves nothing mounted in its data dir (its buildkitd's network
		// namespaces are released), so a user can delete .slipway; what is left is named, with what
		// slipway dev said about it, and unmounted so the temp dir's removal does not hide it.
		if left := mountsUnder(t, top); len(left) > 0 {
			t.Errorf("still mounted under the data dir after slipway dev stopped: %v\nslipway dev's last output:\n%s", left, devErr.String()[max(0, devErr.Len()-3000):])
			for _, m := range slices.Backward(left) {
				_ = syscall.Unmount(m, syscall.MNT_DETACH)
			}
		}
	})
	e := waitEndpoints(t, filepath.Join(top, ".slipway", stack.EndpointsFile), exited, &devErr)

	sh := exec.CommandContext(ctx, "bash", "-euo", "pipefail", "-c", script)
	sh.Dir = top
	sh.Env = withoutSlipwayVars(os.Environ())
	out, err := sh.CombinedOutput()
	if err != nil {
		t.Fatalf("the README's quick start failed: %v\n--- its output:\n%s\n--- slipway dev:\n%s", err, out, devErr.String())
	}
	// The export applied back (no changes), the API's OpenAPI document, the build's detail, the image's top layer, the promotion's outcome and
	// production's /healthz and the DORA figures' heading.
	for _, want := range []string{"\nno changes\n", "OpenAPI 3.1.0: ", `"status":"succeeded"`, "www/index.html", "succeeded: production serves build", "\nok\n",
		"DORA figures of shop in production, the last 7 days"} {
		if !bytes.Contains(out, []byte(want)) {
			t.Errorf("the quick start's output lacks %q:\n%s", want, out)
		}
	}

	// Everything went to the relative data dir under the directory slipway dev was started in.
	for _, f := range []string{"slipway.db", "temporal.db", "admin-token", "registry", "work"} {
		if _, err := os.Stat(filepath.Join(top, ".slipway", f)); err != nil {
			t.Errorf("relative data dir: %v", err)
		}
	}
	// slipway dev's own buildkitd keeps the build cache on disk: none is exported to the registry.
	cred, err := ociregistry.LoadCredentials(filepath.Join(top, ".slipway", stack.RegistryCredentialsFile))
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodHead, "http://"+e.Registry+"/v2/shop/hello/manifests/buildcache", nil)
	req.SetBasicAuth(cred.Username, cred.Password)
	if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != http.StatusNotFound {
		t.Errorf("the registry answers %v, %v for shop/hello:buildcache, want 404: slipway dev keeps the cache in buildkitd", res, err)
	} else {
		res.Body.Close()
	}
	token, err := os.ReadFile(filepath.Join(top, ".slipway", stack.AdminTokenFile))
	if err != nil {
		t.Fatal(err)
	}
	a := api{t: t, base: e.HTTP, token: strings.TrimSpace(string(token))}
	const base = "/api/v1/projects/shop/components/hello"
	var deps struct {
		Items []struct {
			Environment string
			Current     *struct{ Build, Digest, URL, Status string }
		}
	}
	a.call("GET", base+"/deployments", nil, http.StatusOK, &deps)
	if len(deps.Items) != 2 || deps.Items[0].Current == nil || deps.Items[1].Current == nil ||
		deps.Items[0].Current.Build != deps.Items[1].Current.Build || deps.Items[0].Current.Digest != deps.Items[1].Current.Digest {
		t.Fatalf("after the quick start development and production should serve the same build by digest: %+v", deps)
	}

	// The quick start ends by turning autoDeploy on: a new commit now deploys itself to development, as soon
	// as its image is pushed and its spec stored.
	commitChange(t, repo, map[string]string{"www/index.html": "hello again\n"})
	id := strings.TrimSpace(runCLIIn(t, top, "./bin/slipway", "build", "shop/hello"))
	url := deps.Items[0].Current.URL
	deadline := time.Now().Add(3 * time.Minute)
	var served time.Time
	for served.IsZero() {
		if time.Now().After(deadline) {
			t.Fatalf("development did not serve the new commit within 3 minutes\n%s", devErr.String())
		}
		if resp, err := http.Get(url + "/"); err == nil {
			var body bytes.Buffer
			_, _ = body.ReadFrom(resp.Body)
			resp.Body.Close()
			if strings.Contains(body.String(), "hello again") {
				served = time.Now()
				break
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	b := waitBuild(t, a, id, time.Minute)
	var queued time.Time
	for _, s := range b.Steps {
		if s.Name == "deploy" && s.EndedAt != nil {
			queued = *s.EndedAt
		}
	}
	if b.Status != "succeeded" || queued.IsZero() {
		t.Fatalf("auto-built %+v: want succeeded with its deploy step ended", b)
	}
	// The rollout itself (pull, start, readiness, switch) takes about a second here.
	if took := served.Sub(queued); took > 5*time.Second {
		t.Errorf("development served the auto-deployed build %s after it was queued, want within 5 s", took.Round(time.Millisecond))
	} else {
		t.Logf("auto-deploy: queued → serving in %s", took.Round(time.Millisecond))
	}
	// And it is recorded succeeded as soon as it serves: the old release (busybox httpd ignores SIGTERM, so it
	// takes its whole 30 s stop grace) is removed afterwards. Before, deploy --wait waited out that grace.
	type historyEntry struct {
		Build, Status string
		CreatedAt     time.Time
		DeployedAt    *time.Time
	}
	var hist struct {
		Items []struct{ History []historyEntry }
	}
	for until := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		a.call("GET", base+"/deployments", nil, http.StatusOK, &hist)
		i := slices.IndexFunc(hist.Items[0].History, func(d historyEntry) bool { return d.Build == id })
		if i >= 0 && hist.Items[0].History[i].DeployedAt != nil {
			d := hist.Items[0].History[i]
			if took := d.DeployedAt.Sub(d.CreatedAt); d.Status != "succeeded" || took > 10*time.Second {
				t.Errorf("the auto-deployment of %s is recorded %s %s after it was queued; want succeeded within 10 s", id, d.Status, took)
			}
			break
		}
		if time.Now().After(until) {
			t.Fatalf("the auto-deployment of %s is not recorded ended 20 s after it served: %+v", id, hist.Items[0].History)
		}
	}
}

// readmeScript returns the ```sh blocks of the README's sections with these headings, in order, as one script.
func readmeScript(t *testing.T, path string, headings ...string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var script strings.Builder
	in, block, found := false, false, 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case block && line == "```":
			block = false
		case block:
			script.WriteString(line + "\n")
		case strings.HasPrefix(line, "## "):
			in = false
			for _, h := range headings {
				if line == h {
					in, found = true, found+1
				}
			}
		case in && line == "```sh":
			block = true
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if found != len(headings) || script.Len() == 0 {
		t.Fatalf("%s: found %d of the sections %q, with %d bytes of shell", path, found, headings, script.Len())
	}
	return script.String()
}

// buildSlipway builds the slipway binary to path.
func buildSlipway(t *testing.T, path string) {
	t.Helper()
	build := exec.Command("go", "build", "-o", path, "../cmd/slipway")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
}

// runCLIIn runs a program in dir without SLIPWAY_* variables and returns its standard output.
func runCLIIn(t *testing.T, dir, bin string, args ...string) string {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = withoutSlipwayVars(os.Environ())
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", bin, strings.Join(args, " "), err, stderr.String())
	}
	return string(out)
}

// mountinfoUnescape undoes /proc/self/mountinfo's octal escapes of space, tab, newline and backslash in a
// mount point (its fifth field).
var mountinfoUnescape = strings.NewReplacer(`\040`, " ", `\011`, "\t", `\012`, "\n", `\134`, `\`)

// mountsUnder returns the mount points at or below dir, in /proc/self/mountinfo's order (the oldest first).
func mountsUnder(t *testing.T, dir string) []string {
	t.Helper()
	info, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	var points []string
	for l := range strings.Lines(string(info)) {
		fields := strings.Fields(l)
		if len(fields) < 5 {
			continue
		}
		p := mountinfoUnescape.Replace(fields[4])
		if p == dir || strings.HasPrefix(p, dir+"/") {
			points = append(points, p)
		}
	}
	return points
}
