package integration

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/slipway-dev/slipway/baseimages"
	"github.com/slipway-dev/slipway/dataplane"
	"github.com/slipway-dev/slipway/ociregistry"
	"github.com/slipway-dev/slipway/stack"
	"github.com/slipway-dev/slipway/trivyscan/trivytest"
)

// benchRoundsVar names the environment variable that sets BenchmarkCommitToHealthy's rounds; unset, the
// benchmark is skipped (`make bench` runs every benchmark, `make bench-e2e` sets it).
const benchRoundsVar = "SLIPWAY_BENCH_E2E_ROUNDS"

// servePoll is how often both sides look for the new commit being served: the same for both, and short
// next to what is measured.
const servePoll = 20 * time.Millisecond

// BenchmarkCommitToHealthy measures commit → healthy in development twice per round, each time on a fresh
// commit of examples/hello (its page carries a marker of the round): through `slipway dev` — an auto-deploying
// component with development's required configs set, a build triggered for the commit, the clock stopped when
// development's URL serves the marker — and through the same tools scripted strictly one after another on the
// same buildkitd, registry, vulnerability database and Docker Engine — git clone, buildctl, trivy image --input
// with slipway's flags and scanners, crane push, docker run, polling /healthz. Rounds alternate which side goes
// first; one warm-up round of each is not counted. Both scan with the fixture vulnerability database
// (bin/trivydb-fixture), slipway's DBDir. It prints every round's times, each side's stage breakdown
// with medians, and the median ratio slipway/raw, which it also reports as the metric "slipway/raw".
//
// It needs bin/buildctl and bin/crane besides what the integration tests need, and runs only when
// SLIPWAY_BENCH_E2E_ROUNDS is set: `make bench-e2e` (ROUNDS=5 by default).
func BenchmarkCommitToHealthy(b *testing.B) {
	rounds := benchRounds(b)
	if _, err := os.Stat(baseimages.BusyboxBinary); err != nil {
		b.Fatalf("%s missing (Debian package busybox-static, `make deps`), so nothing seeds `FROM busybox`: %v", baseimages.BusyboxBinary, err)
	}
	dockerEngine(b)
	dir := b.TempDir()
	data := filepath.Join(dir, "data")
	cfg := devConfig(data)
	// Both sides scan with the fixture vulnerability database: a real one, the same, and no network.
	cfg.Scan.DBDir = trivytest.DB(b)
	e := &e2eBench{
		b: b, ctx: b.Context(), work: filepath.Join(dir, "raw"), src: filepath.Join(dir, "hello"),
		trivy: cfg.Scan.TrivyBinary, dbDir: cfg.Scan.DBDir, buildctl: benchTool(b, "buildctl"), crane: benchTool(b, "crane"),
		buildkit: "unix://" + filepath.Join(data, "buildkit", "buildkitd.sock"),
		project:  "bench" + strings.ToLower(time.Now().Format("150405")),
		http:     &http.Client{Timeout: 2 * time.Second},
	}
	e.dev = startDevWith(b, cfg)
	e.api = newAPI(b, e.dev, data)
	e.dockerConfig = craneConfig(b, data, e.dev.Endpoints.Registry)
	b.Cleanup(e.removeContainers)
	e.setUp()

	// Warm-up: slipway's first deploy makes the environment's network and entry, the raw side's first run
	// pulls the base layer into Docker; BuildKit's and Docker's caches are then warm for both alike.
	e.slipway("warm-up slipway")
	e.raw("warm-up raw")

	var results []e2eRound
	for b.Loop() {
		for i := range rounds {
			r := e2eRound{slipwayFirst: i%2 == 0}
			if r.slipwayFirst {
				r.slipway, r.raw = e.slipway(fmt.Sprintf("round %d slipway", i+1)), e.raw(fmt.Sprintf("round %d raw", i+1))
			} else {
				r.raw, r.slipway = e.raw(fmt.Sprintf("round %d raw", i+1)), e.slipway(fmt.Sprintf("round %d slipway", i+1))
			}
			results = append(results, r)
		}
	}
	slip, raw := median(totals(results, true)), median(totals(results, false))
	printE2E(os.Stdout, results)
	b.ReportMetric(slip.Seconds(), "slipway-s")
	b.ReportMetric(raw.Seconds(), "raw-s")
	b.ReportMetric(slip.Seconds()/raw.Seconds(), "slipway/raw")
}

// benchRounds reads SLIPWAY_BENCH_E2E_ROUNDS, skipping the benchmark when it is unset.
func benchRounds(b *testing.B) int {
	v := os.Getenv(benchRoundsVar)
	if v == "" {
		b.Skipf("%s is not set: `make bench-e2e` runs this benchmark", benchRoundsVar)
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		b.Fatalf("%s=%q: want a number of rounds ≥ 1", benchRoundsVar, v)
	}
	return n
}

// benchTool returns bin/<name>, failing the benchmark when it is not built.
func benchTool(b *testing.B, name string) string {
	path, err := filepath.Abs(filepath.Join("..", "bin", name))
	if err == nil {
		_, err = os.Stat(path)
	}
	if err != nil {
		b.Fatalf("%s: %v (`make bench-e2e` builds it)", name, err)
	}
	return path
}

// e2eBench is the state both sides of BenchmarkCommitToHealthy share: one `slipway dev`, one repository.
type e2eBench struct {
	b    *testing.B
	ctx  context.Context
	dev  *stack.Dev
	api  api
	http *http.Client
	// src is the component's repository; work the raw side's scratch directory.
	src, work string
	// trivy, buildctl and crane are the tools' binaries; buildkit is the address of slipway's buildkitd.
	trivy, buildctl, crane, buildkit string
	project                          string
	// dockerConfig is the DOCKER_CONFIG directory crane finds the dev registry's push credentials in.
	dockerConfig string
	// url is development's entry address, known after the warm-up's deploy.
	url string
	// scanners are Trivy's --scanners for the raw side: what slipway's warm-up build scanned.
	scanners string
	// dbDir holds the vulnerability database both sides use; rawCache is the raw side's Trivy cache dir.
	dbDir, rawCache string
	// rawContainers are the raw side's containers, the last one serving.
	rawContainers []string
}

// e2eRound is one round's two measurements.
type e2eRound struct {
	slipwayFirst bool
	slipway, raw e2eTiming
}

// e2eTiming is one commit → healthy: its total and the stages it is made of, in order; the stages add up to
// the total, except those named in parentheses, which lie within others.
type e2eTiming struct {
	total  time.Duration
	stages []e2eStage
}

type e2eStage struct {
	name string
	d    time.Duration
}

// setUp makes the repository, the auto-deploying component with development's configs and the raw side's
// Trivy cache dir.
func (e *e2eBench) setUp() {
	if err := os.CopyFS(e.src, os.DirFS(filepath.Join("..", "examples", "hello"))); err != nil {
		e.b.Fatalf("copying examples/hello: %v", err)
	}
	e.git("init", "-q", "-b", "main")
	e.git("add", "-A")
	e.git("commit", "-q", "-m", "hello")

	// Trivy finds a database in <cache-dir>/db, as slipway links its DBDir.
	e.rawCache = filepath.Join(e.work, "trivy")
	if err := os.MkdirAll(e.rawCache, 0o755); err != nil {
		e.b.Fatal(err)
	}
	if err := os.Symlink(e.dbDir, filepath.Join(e.rawCache, "db")); err != nil {
		e.b.Fatal(err)
	}

	e.api.call("POST", "/api/v1/projects", map[string]any{"name": e.project}, http.StatusCreated, nil)
	e.api.call("POST", "/api/v1/projects/"+e.project+"/components", map[string]any{"name": "hello", "repo": "file://" + e.src},
		http.StatusCreated, nil)
	e.api.call("PATCH", e.component(), map[string]any{"autoDeploy": true}, http.StatusOK, nil)
	e.api.call("PUT", e.component()+"/environments/development/configs/GREETING", map[string]any{"value": "hi bench"}, http.StatusCreated, nil)
	e.api.call("PUT", e.component()+"/environments/development/configs/API_TOKEN", map[string]any{"value": "s3cret", "secret": true},
		http.StatusCreated, nil)
}

func (e *e2eBench) component() string { return "/api/v1/projects/" + e.project + "/components/hello" }

// commit commits a page carrying marker and returns the commit's SHA.
func (e *e2eBench) commit(marker string) string {
	page, err := os.ReadFile(filepath.Join("..", "examples", "hello", "www", "index.html"))
	if err != nil {
		e.b.Fatal(err)
	}
	page = bytes.Replace(page, []byte("</body>"), []byte("<p>"+marker+"</p></body>"), 1)
	if err := os.WriteFile(filepath.Join(e.src, "www", "index.html"), page, 0o644); err != nil {
		e.b.Fatal(err)
	}
	e.git("commit", "-q", "-a", "-m", marker)
	return strings.TrimSpace(e.git("rev-parse", "HEAD"))
}

func (e *e2eBench) git(args ...string) string {
	return e.run(e.src, "git", append([]string{"-c", "user.name=bench", "-c", "user.email=bench@example.com"}, args...)...)
}

// run runs a program in dir ("" means the current one) and returns its standard output.
func (e *e2eBench) run(dir, prog string, args ...string) string {
	e.b.Helper()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(e.ctx, prog, args...)
	cmd.Dir, cmd.Stdout, cmd.Stderr = dir, &stdout, &stderr
	cmd.Env = append(os.Environ(), "DOCKER_CONFIG="+e.dockerConfig)
	if err := cmd.Run(); err != nil {
		e.b.Fatalf("%s %s: %v\n%s%s", filepath.Base(prog), strings.Join(args, " "), err, stdout.Bytes(), stderr.Bytes())
	}
	return stdout.String()
}

// craneConfig writes a Docker config giving the dev registry's push credentials to the registry at host, and
// returns its directory.
func craneConfig(b testing.TB, data, host string) string {
	b.Helper()
	cred, err := ociregistry.LoadCredentials(filepath.Join(data, stack.RegistryCredentialsFile))
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	if err := cred.WriteDockerConfig(dir, host); err != nil {
		b.Fatal(err)
	}
	return dir
}

// e2eBuild is a build as GET /api/v1/builds/{id} shows it, as far as the benchmark reads it.
type e2eBuild struct {
	Status, Error string
	Steps         []struct {
		Name               string
		StartedAt, EndedAt *time.Time
	}
	Scan *struct{ Scanned []string }
}

// slipway commits marker, triggers its build and waits for development's URL to serve it.
func (e *e2eBench) slipway(marker string) e2eTiming {
	sha := e.commit(marker)
	start := time.Now()
	var started struct{ ID string }
	e.api.call("POST", e.component()+"/builds", map[string]any{"commit": sha}, http.StatusAccepted, &started)
	seen := e.waitServed(started.ID, marker)
	total := seen.Sub(start)

	// What it is made of, read once it is over.
	bd := e.waitBuild(started.ID)
	dep := e.waitDeployment(started.ID)
	if dep.URL != e.url {
		e.b.Fatalf("deployment %s serves at %s, not at development's %s", dep.ID, dep.URL, e.url)
	}
	if e.scanners == "" {
		e.scanners = "secret"
		if bd.Scan != nil && slices.Contains(bd.Scan.Scanned, "vuln") {
			e.scanners = "vuln,secret"
		}
	}
	d, err := e.dev.Store.GetDeployment(e.ctx, dep.ID)
	if err != nil || d.StartedAt == nil || d.EndedAt == nil {
		e.b.Fatalf("deployment %s in the store: %+v, %v", dep.ID, d, err)
	}
	t := e2eTiming{total: total}
	last, gaps := start, time.Duration(0)
	for i, s := range bd.Steps {
		if s.StartedAt == nil || s.EndedAt == nil {
			e.b.Fatalf("build %s step %s has no times: %+v", started.ID, s.Name, bd.Steps)
		}
		if i == 0 {
			t.stages = append(t.stages, e2eStage{"trigger→checkout", s.StartedAt.Sub(start)})
		} else {
			gaps += s.StartedAt.Sub(last)
		}
		t.stages = append(t.stages, e2eStage{s.Name, s.EndedAt.Sub(*s.StartedAt)})
		last = *s.EndedAt
	}
	t.stages = append(t.stages,
		e2eStage{"between steps", gaps},
		e2eStage{"build end→rollout start", d.StartedAt.Sub(last)},
		e2eStage{"rollout start→serving", seen.Sub(*d.StartedAt)},
		e2eStage{"(deploy queued→rollout start)", d.StartedAt.Sub(d.CreatedAt)},
		e2eStage{"(rollout start→recorded ended)", d.EndedAt.Sub(*d.StartedAt)},
	)
	return t
}

// waitServed polls development's URL until it serves marker and returns when it first did; until the URL is
// known it is read from the deployments. It starts on the URL once the build's deployment is queued, as the
// raw side polls only after docker run: until then it reads the store, in process, which costs next to
// nothing, where a request through the entry every servePoll costs the pipeline CPU while it scans. The
// build and its deployment are checked each second, to fail fast.
func (e *e2eBench) waitServed(build, marker string) time.Time {
	var seen time.Time
	lastCheck := time.Now()
	queued := false
	e.poll(5*time.Minute, fmt.Sprintf("development serving %q (build %s)", marker, build), func() bool {
		if !queued {
			_, err := e.dev.Store.GetDeployment(e.ctx, "d-auto-"+strings.TrimPrefix(build, "b-"))
			queued = err == nil
		}
		if e.url == "" {
			if cur, ok := e.current(); ok && cur.Build == build && cur.URL != "" {
				e.url = cur.URL
			}
		}
		if queued && e.url != "" && strings.Contains(e.page(e.url+"/"), marker) {
			seen = time.Now()
			return true
		}
		if time.Since(lastCheck) > time.Second {
			lastCheck = time.Now()
			var bd e2eBuild
			e.api.call("GET", "/api/v1/builds/"+build, nil, http.StatusOK, &bd)
			if bd.Status == "failed" || bd.Status == "cancelled" {
				e.b.Fatalf("build %s %s: %s", build, bd.Status, bd.Error)
			}
			if d, ok := e.deploymentOf(build); ok && d.Status == "failed" {
				e.b.Fatalf("deployment of build %s failed: %s", build, d.Message)
			}
		}
		return false
	})
	return seen
}

// poll calls done every servePoll until it returns true, failing the benchmark after within.
func (e *e2eBench) poll(within time.Duration, what string, done func() bool) {
	e.b.Helper()
	deadline := time.Now().Add(within)
	tick := time.NewTicker(servePoll)
	defer tick.Stop()
	for !done() {
		if time.Now().After(deadline) {
			e.b.Fatalf("no %s after %s", what, within)
		}
		select {
		case <-tick.C:
		case <-e.ctx.Done():
			e.b.Fatalf("waiting for %s: %v", what, context.Cause(e.ctx))
		}
	}
}

// page returns the body of url, "" when it does not answer 200.
func (e *e2eBench) page(url string) string {
	resp, err := e.http.Get(url)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return ""
	}
	return string(body)
}

// e2eDeployments is GET …/deployments as far as the benchmark reads it.
type e2eDeployments struct {
	Items []struct {
		Environment string
		Current     *deploymentState
		History     []deploymentState
	}
}

func (e *e2eBench) development() (cur *deploymentState, history []deploymentState) {
	var out e2eDeployments
	e.api.call("GET", e.component()+"/deployments", nil, http.StatusOK, &out)
	for _, it := range out.Items {
		if it.Environment == "development" {
			return it.Current, it.History
		}
	}
	e.b.Fatalf("no development environment in %+v", out)
	return nil, nil
}

func (e *e2eBench) current() (deploymentState, bool) {
	cur, _ := e.development()
	if cur == nil {
		return deploymentState{}, false
	}
	return *cur, true
}

func (e *e2eBench) deploymentOf(build string) (deploymentState, bool) {
	_, history := e.development()
	for _, d := range history {
		if d.Build == build {
			return d, true
		}
	}
	return deploymentState{}, false
}

// waitBuild waits for the build to end, which it must have done successfully.
func (e *e2eBench) waitBuild(id string) e2eBuild {
	var bd e2eBuild
	e.poll(time.Minute, "end of build "+id+" after its commit was served", func() bool {
		bd = e2eBuild{}
		e.api.call("GET", "/api/v1/builds/"+id, nil, http.StatusOK, &bd)
		if bd.Status == "failed" || bd.Status == "cancelled" {
			e.b.Fatalf("build %s %s: %s", id, bd.Status, bd.Error)
		}
		return bd.Status == "succeeded"
	})
	return bd
}

// waitDeployment waits for the build's deployment to development to be recorded as succeeded and current.
func (e *e2eBench) waitDeployment(build string) deploymentState {
	var dep deploymentState
	e.poll(time.Minute, "record of build "+build+" as development's current release after it served", func() bool {
		d, ok := e.deploymentOf(build)
		if ok && d.Status == "failed" {
			e.b.Fatalf("deployment of build %s failed: %s", build, d.Message)
		}
		if !ok || d.Status != "succeeded" {
			return false
		}
		cur, ok := e.current()
		dep = d
		return ok && cur.ID == d.ID
	})
	return dep
}

// raw commits marker and takes it to a healthy container with the tools alone, one after another.
func (e *e2eBench) raw(marker string) e2eTiming {
	sha := e.commit(marker)
	if err := os.MkdirAll(e.work, 0o755); err != nil {
		e.b.Fatal(err)
	}
	dir, err := os.MkdirTemp(e.work, "round-")
	if err != nil {
		e.b.Fatal(err)
	}
	defer os.RemoveAll(dir)
	src, layout := filepath.Join(dir, "src"), filepath.Join(dir, "image")
	var t e2eTiming
	start := time.Now()
	mark := start
	lap := func(stage string) {
		now := time.Now()
		t.stages = append(t.stages, e2eStage{stage, now.Sub(mark)})
		mark = now
	}

	e.run("", "git", "clone", "-q", "file://"+e.src, src)
	e.run(src, "git", "checkout", "-q", "--detach", sha)
	lap("clone")
	e.run("", e.buildctl, "--addr", e.buildkit, "build", "--progress", "plain", "--frontend", "dockerfile.v0",
		"--local", "context="+src, "--local", "dockerfile="+src, "--output", "type=oci,dest="+layout+",tar=false")
	lap("build")
	// trivyscan's flags, with the scanners slipway's build used.
	e.run("", e.trivy, "image", "--input", layout, "--skip-version-check", "--disable-telemetry",
		"--format", "json", "--output", filepath.Join(dir, "report.json"), "--no-progress",
		"--cache-dir", e.rawCache, "--cache-backend", "memory",
		"--skip-db-update", "--skip-java-db-update", "--skip-check-update", "--offline-scan",
		"--scanners", e.scanners, "--image-config-scanners", "misconfig,secret")
	lap("scan")
	ref := strings.TrimSpace(e.run("", e.crane, "push", "--insecure", layout, e.dev.Endpoints.Registry+"/"+e.project+"-raw/hello:"+sha))
	lap("push")
	id := strings.TrimSpace(e.run("", "docker", "run", "-d", "--label", dataplane.LabelProject+"="+e.project, "-p", "127.0.0.1::8080", ref))
	e.rawContainers = append(e.rawContainers, id)
	lap("docker run")
	addr, _, _ := strings.Cut(strings.TrimSpace(e.run("", "docker", "port", id, "8080/tcp")), "\n")
	e.poll(time.Minute, "answer of container "+id+" on /healthz", func() bool { return e.page("http://"+addr+"/healthz") != "" })
	lap("healthy")
	t.total = time.Since(start)

	// The container before this one is replaced, as slipway replaces development's release.
	if n := len(e.rawContainers); n > 1 {
		e.run("", "docker", "rm", "-f", e.rawContainers[n-2])
	}
	return t
}

// removeContainers removes the containers and networks of the benchmark's project, both sides'.
func (e *e2eBench) removeContainers() {
	filter := "label=" + dataplane.LabelProject + "=" + e.project
	ctx := context.Background()
	out, _ := exec.CommandContext(ctx, "docker", "ps", "-aq", "--filter", filter).Output()
	if ids := strings.Fields(string(out)); len(ids) > 0 {
		_ = exec.CommandContext(ctx, "docker", append([]string{"rm", "-f"}, ids...)...).Run()
	}
	out, _ = exec.CommandContext(ctx, "docker", "network", "ls", "-q", "--filter", filter).Output()
	if ids := strings.Fields(string(out)); len(ids) > 0 {
		_ = exec.CommandContext(ctx, "docker", append([]string{"network", "rm"}, ids...)...).Run()
	}
}

// stage returns the duration of the named stage; false when the timing has none of that name.
func (t e2eTiming) stage(name string) (time.Duration, bool) {
	for _, s := range t.stages {
		if s.name == name {
			return s.d, true
		}
	}
	return 0, false
}

// stageNames are the names of the rounds' stages, in the order they first come.
func stageNames(rs []e2eRound, of func(e2eRound) e2eTiming) []string {
	var names []string
	for _, r := range rs {
		for _, s := range of(r).stages {
			if !slices.Contains(names, s.name) {
				names = append(names, s.name)
			}
		}
	}
	return names
}

func totals(rs []e2eRound, slipway bool) []time.Duration {
	var out []time.Duration
	for _, r := range rs {
		if slipway {
			out = append(out, r.slipway.total)
		} else {
			out = append(out, r.raw.total)
		}
	}
	return out
}

// median is the middle of ds, the mean of the two middle ones for an even count.
func median(ds []time.Duration) time.Duration {
	s := slices.Sorted(slices.Values(ds))
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 0 {
		return (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return s[len(s)/2]
}

func secs(d time.Duration) string { return fmt.Sprintf("%.2f", d.Seconds()) }

// printE2E writes the rounds, both sides' stage breakdowns and the medians.
func printE2E(w io.Writer, rs []e2eRound) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(w, "\ncommit → healthy in development, %d rounds (seconds): slipway dev, and the same tools scripted one after another\n", len(rs))
	fmt.Fprintln(tw, "round\tfirst\tslipway\traw\tslipway/raw\t")
	var ratios []float64
	for i, r := range rs {
		first := "raw"
		if r.slipwayFirst {
			first = "slipway"
		}
		ratio := r.slipway.total.Seconds() / r.raw.total.Seconds()
		ratios = append(ratios, ratio)
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%.2f\t\n", i+1, first, secs(r.slipway.total), secs(r.raw.total), ratio)
	}
	slip, raw := median(totals(rs, true)), median(totals(rs, false))
	slices.Sort(ratios)
	midRatio := ratios[len(ratios)/2]
	if len(ratios)%2 == 0 {
		midRatio = (ratios[len(ratios)/2-1] + midRatio) / 2
	}
	fmt.Fprintf(tw, "median\t\t%s\t%s\t%.2f\t\n", secs(slip), secs(raw), slip.Seconds()/raw.Seconds())
	tw.Flush()
	fmt.Fprintf(w, "median ratio slipway/raw: %.2f (median of the rounds' ratios: %.2f)\n", slip.Seconds()/raw.Seconds(), midRatio)

	for _, side := range []struct {
		name string
		of   func(e2eRound) e2eTiming
	}{
		{"slipway stages (from the build's steps and the deployment's times; parenthesized ones lie within others)", func(r e2eRound) e2eTiming { return r.slipway }},
		{"raw stages", func(r e2eRound) e2eTiming { return r.raw }},
	} {
		fmt.Fprintf(w, "\n%s, seconds:\n", side.name)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		header := "stage\t"
		for i := range rs {
			header += strconv.Itoa(i+1) + "\t"
		}
		fmt.Fprintln(tw, header+"median\t")
		for _, stage := range stageNames(rs, side.of) {
			row := stage + "\t"
			var ds []time.Duration
			for _, r := range rs {
				d, ok := side.of(r).stage(stage)
				ds = append(ds, d)
				if !ok {
					row += "-\t"
					continue
				}
				row += secs(d) + "\t"
			}
			fmt.Fprintln(tw, row+secs(median(ds))+"\t")
		}
		var all []time.Duration
		row := "total\t"
		for _, r := range rs {
			all = append(all, side.of(r).total)
			row += secs(side.of(r).total) + "\t"
		}
		fmt.Fprintln(tw, row+secs(median(all))+"\t")
		tw.Flush()
	}
}
