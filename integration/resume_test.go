package integration

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"go.temporal.io/sdk/client"

	"github.com/slipway-dev/slipway/baseimages"
	"github.com/slipway-dev/slipway/buildkit"
	"github.com/slipway-dev/slipway/config"
	"github.com/slipway-dev/slipway/localtemporal"
	"github.com/slipway-dev/slipway/ociregistry"
	"github.com/slipway-dev/slipway/secretbox"
	"github.com/slipway-dev/slipway/stack"
	"github.com/slipway-dev/slipway/store/storetest"
	"github.com/slipway-dev/slipway/trivyscan/trivytest"
	"github.com/slipway-dev/slipway/workflows"
)

// sleepingMarker is what the test Dockerfile's RUN prints before it sleeps: a log line ending in
// it means the RUN is running.
const sleepingMarker = "resume-test-sleeping"

// TestBuildResumesAfterWorkerKilled runs `slipway worker` as a process against the embedded
// Temporal, a real buildkitd, a registry and the API, kills it (SIGKILL) while a build's RUN is
// running, starts another worker process, and expects the pipeline to start over on it and
// push the image. With SLIPWAY_RECORD_HISTORIES set it records the run's history for the replay
// test: a BuildPipeline that lost its worker session and started over.
func TestBuildResumesAfterWorkerKilled(t *testing.T) {
	s := startSplitBuildStack(t)
	src := filepath.Join(t.TempDir(), "src")
	if err := os.MkdirAll(src, 0o755); err != nil {
		t.Fatal(err)
	}
	commit := gitRepo(t, src, map[string]string{
		"Dockerfile": "FROM " + s.registry + "/base/busybox:latest\n" +
			"RUN echo " + sleepingMarker + " && sleep 8 && echo resumed > /resumed\n",
	})
	a := s.api
	a.call("POST", "/api/v1/projects", map[string]any{"name": "shop"}, http.StatusCreated, nil)
	a.call("POST", "/api/v1/projects/shop/components", map[string]any{"name": "api", "repo": "file://" + src, "branch": "main"}, http.StatusCreated, nil)

	first := s.startWorker(t, "first")
	var started struct {
		ID         string `json:"id"`
		WorkflowID string `json:"workflowId"`
	}
	a.call("POST", "/api/v1/projects/shop/components/api/builds", map[string]any{}, http.StatusAccepted, &started)

	waitLog(t, a, started.ID, 2*time.Minute, func(log string) bool { return countSuffix(log, " "+sleepingMarker) > 0 })
	if err := first.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	_ = first.Wait()
	s.startWorker(t, "second")

	b := waitBuild(t, a, started.ID, 3*time.Minute)
	recovery := time.Since(killed)
	log := string(a.call("GET", "/api/v1/builds/"+started.ID+"/logs", nil, http.StatusOK, nil))
	if b.Status != "succeeded" || !strings.HasPrefix(b.Digest, "sha256:") {
		t.Fatalf("build ended %+v after the worker was killed\nlog:\n%s", b, log)
	}
	t.Logf("build succeeded %s after the worker was killed", recovery.Round(time.Second))
	if n := countSuffix(log, " "+sleepingMarker); n < 2 {
		t.Fatalf("the RUN ran %d time(s), want it run again on the second worker\nlog:\n%s", n, log)
	}
	if n := strings.Count(log, "checking out "+commit); n < 2 {
		t.Fatalf("checked out %d time(s), want a fresh checkout on the second worker\nlog:\n%s", n, log)
	}
	var steps []string
	for _, st := range b.Steps {
		steps = append(steps, st.Name+"="+st.Status)
	}
	if strings.Join(steps, " ") != "checkout=succeeded build=succeeded scan=succeeded push=succeeded spec=succeeded" {
		t.Fatalf("steps %v, want all succeeded: those of the run on the second worker", steps)
	}
	tagged, err := name.ParseReference(s.registry+"/shop/api:"+commit, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if d, err := remote.Head(tagged); err != nil || d.Digest.String() != b.Digest {
		t.Fatalf("tag %s: %v %v, want %s", commit, d, err, b.Digest)
	}

	var res workflows.BuildPipelineResult
	if err := s.temporal.GetWorkflow(context.Background(), started.WorkflowID, "").Get(context.Background(), &res); err != nil {
		t.Fatalf("workflow %s: %v", started.WorkflowID, err)
	}
	if res.Digest != b.Digest {
		t.Fatalf("workflow result %s, API digest %s", res.Digest, b.Digest)
	}
	if os.Getenv("SLIPWAY_RECORD_HISTORIES") != "" {
		recordHistory(t, s.temporal, s.keys, started.WorkflowID, "../workflows/testdata/build_pipeline.json")
	}
}

// cancelStopsSolveWithin bounds how long a build's silent RUN goes on after the build is
// cancelled. Temporal delivers an activity's cancellation in the answer to a heartbeat; BuildImage
// heartbeats every 5 s even when BuildKit prints nothing, and the worker caps the SDK's heartbeat
// throttling at 3 s (without that cap it would hold heartbeats for 48 s).
const cancelStopsSolveWithin = 15 * time.Second

// TestCancelStopsSilentBuild cancels a build through the API while its RUN sleeps without output
// and expects the worker to stop the BuildKit solve, not let it run its five minutes.
func TestCancelStopsSilentBuild(t *testing.T) {
	s := startSplitBuildStack(t)
	src := filepath.Join(t.TempDir(), "src")
	if err := os.MkdirAll(src, 0o755); err != nil {
		t.Fatal(err)
	}
	gitRepo(t, src, map[string]string{
		"Dockerfile": "FROM " + s.registry + "/base/busybox:latest\nRUN echo " + sleepingMarker + " && sleep 300\n",
	})
	a := s.api
	a.call("POST", "/api/v1/projects", map[string]any{"name": "shop"}, http.StatusCreated, nil)
	a.call("POST", "/api/v1/projects/shop/components", map[string]any{"name": "api", "repo": "file://" + src, "branch": "main"}, http.StatusCreated, nil)
	s.startWorker(t, "only")
	var started struct {
		ID string `json:"id"`
	}
	a.call("POST", "/api/v1/projects/shop/components/api/builds", map[string]any{}, http.StatusAccepted, &started)
	waitLog(t, a, started.ID, 2*time.Minute, func(log string) bool { return countSuffix(log, " "+sleepingMarker) > 0 })

	cancelled := time.Now()
	a.call("POST", "/api/v1/builds/"+started.ID+"/cancel", nil, http.StatusAccepted, nil)
	if b := waitBuild(t, a, started.ID, time.Minute); b.Status != "cancelled" {
		t.Fatalf("build %s after cancel, want cancelled", b.Status)
	}
	// BuildImage logs the error the solve ended with once BuildKit has given up the build; the log
	// stays writable after the build is recorded as cancelled.
	deadline := cancelled.Add(cancelStopsSolveWithin)
	for {
		log := string(a.call("GET", "/api/v1/builds/"+started.ID+"/logs", nil, http.StatusOK, nil))
		if strings.Contains(log, "\nERROR: building ") {
			t.Logf("the solve stopped %s after the cancel", time.Since(cancelled).Round(100*time.Millisecond))
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the solve still runs %s after the cancel\nlog:\n%s", cancelStopsSolveWithin, log)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// splitBuildStack is the embedded Temporal, a registry, buildkitd and `slipway server`, all in the
// test process, with workers started as separate `slipway worker` processes.
type splitBuildStack struct {
	bin      string // the slipway binary
	registry string // host:port, plain HTTP
	buildkit string // buildkitd's address
	cfg      config.Config
	api      api
	temporal client.Client      // encrypts payloads with keys, as slipway does
	keys     *secretbox.Keyring // the server's and workers' key file
	workDir  string
	trivy    string // the trivy binary
}

func startSplitBuildStack(t *testing.T) *splitBuildStack {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	bin := filepath.Join(dir, "slipway")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/slipway").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	quiet := slog.New(slog.DiscardHandler)
	ts, err := localtemporal.Start(localtemporal.Config{
		DBPath:           filepath.Join(dir, "temporal.db"),
		Address:          "127.0.0.1:0",
		SearchAttributes: workflows.SearchAttributes(),
		Logger:           quiet,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ts.Stop)

	reg, err := ociregistry.Open(filepath.Join(dir, "registry"), quiet)
	if err != nil {
		t.Fatal(err)
	}
	regSrv := httptest.NewServer(reg)
	t.Cleanup(regSrv.Close)
	registry := strings.TrimPrefix(regSrv.URL, "http://")
	if _, err := baseimages.Busybox(ctx, registry+"/base/busybox:latest"); err != nil {
		t.Fatal(err)
	}

	// buildkitd's socket path must stay under Linux's limit, which t.TempDir() paths can pass.
	bkRoot, err := os.MkdirTemp("", "slipway-bk-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(bkRoot) })
	bkBin, err := filepath.Abs("../bin/buildkitd")
	if err != nil {
		t.Fatal(err)
	}
	bk, err := buildkit.StartDaemon(ctx, buildkit.DaemonConfig{
		Binary:             bkBin,
		RootDir:            bkRoot,
		InsecureRegistries: []string{registry},
		Logger:             slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		_ = bk.Stop(sctx)
	})

	kekFile := filepath.Join(dir, "kek.json")
	keys, err := secretbox.LoadOrCreateKeyring(kekFile)
	if err != nil {
		t.Fatal(err)
	}
	cfg := config.Config{
		DataDir:  dir,
		DB:       storetest.SQLiteDSN(t),
		KEKFile:  kekFile,
		HTTP:     config.HTTP{Address: "127.0.0.1:0"},
		Temporal: config.Temporal{Address: ts.Address(), Namespace: "default"},
		Registry: config.Registry{Address: registry, Insecure: true},
	}
	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	srv, url, err := stack.StartServer(ctx, cfg, log)
	if err != nil {
		t.Fatalf("StartServer: %v", err)
	}
	t.Cleanup(func() { _ = srv.Stop(context.Background()) })
	tok, err := os.ReadFile(filepath.Join(dir, stack.AdminTokenFile))
	if err != nil {
		t.Fatal(err)
	}
	waitReady(t, url)
	return &splitBuildStack{
		bin: bin, registry: registry, buildkit: bk.Address(), cfg: cfg,
		api:      api{t: t, base: url, token: strings.TrimSpace(string(tok))},
		temporal: clientFor(t, ts.Address(), keys),
		keys:     keys,
		workDir:  filepath.Join(dir, "work"),
		trivy:    trivytest.Binary(t),
	}
}

// startWorker starts `slipway worker` on the stack, logging to a file whose content the test log
// shows when the test fails, and kills it when the test ends.
func (s *splitBuildStack) startWorker(t *testing.T, label string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(s.bin, "worker",
		"--db", s.cfg.DB,
		"--kek-file", s.cfg.KEKFile,
		"--temporal-address", s.cfg.Temporal.Address,
		"--buildkit-address", s.buildkit,
		"--registry", s.registry,
		"--registry-insecure",
		"--work-dir", s.workDir,
		"--trivy", s.trivy,
		"--log-level", "warn",
		"--edge", "127.0.0.1:0",
	)
	cmd.Env = withoutSlipwayVars(os.Environ())
	logPath := filepath.Join(t.TempDir(), label+"-worker.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		logFile.Close()
		if t.Failed() {
			out, _ := os.ReadFile(logPath)
			t.Logf("%s worker's output:\n%s", label, out)
		}
	})
	return cmd
}

// waitLog polls the build's log until done accepts it, failing if the build ends first.
func waitLog(t *testing.T, a api, id string, within time.Duration, done func(log string) bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		log := string(a.call("GET", "/api/v1/builds/"+id+"/logs", nil, http.StatusOK, nil))
		if done(log) {
			return
		}
		var b buildDetail
		a.call("GET", "/api/v1/builds/"+id, nil, http.StatusOK, &b)
		if b.Status == "succeeded" || b.Status == "failed" || b.Status == "cancelled" {
			t.Fatalf("build %s ended %s before the log showed what was awaited\nlog:\n%s", id, b.Status, log)
		}
		if time.Now().After(deadline) {
			t.Fatalf("build log not as awaited after %s\nlog:\n%s", within, log)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// countSuffix counts the lines of log that end with suffix.
func countSuffix(log, suffix string) int {
	n := 0
	for line := range strings.Lines(log) {
		if strings.HasSuffix(strings.TrimRight(line, "\r\n"), suffix) {
			n++
		}
	}
	return n
}
