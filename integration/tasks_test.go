package integration

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/client"

	"github.com/slipway-dev/slipway/baseimages"
	"github.com/slipway-dev/slipway/dataplane"
)

// taskRun is a run as GET /api/v1/runs/{id} shows it.
type taskRun struct {
	ID, Environment, Build, Trigger, Status, Message, WorkflowID string
	ExitCode                                                     *int
	DurationSeconds                                              float64
}

// waitRun polls the run until it has ended.
func waitRun(t *testing.T, a api, id string, within time.Duration) taskRun {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		var r taskRun
		a.call("GET", "/api/v1/runs/"+id, nil, http.StatusOK, &r)
		if r.Status == "succeeded" || r.Status == "failed" {
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("run %s still %s after %s", id, r.Status, within)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// taskRepo is a repository whose image runs script with busybox's sh and ends.
func taskRepo(t *testing.T, dir, script string) string {
	t.Helper()
	gitRepo(t, dir, map[string]string{"Dockerfile": "FROM busybox\nCMD [\"sh\", \"-c\", " + quoteJSON(script) + "]\n"})
	return "file://" + dir
}

func quoteJSON(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// TestScheduledAndManualTasks builds two tasks — a scheduled-task and a manual-task — with the real buildkitd,
// deploys them to development (a task's deploy fixes its release; nothing starts), and then: the scheduled task
// runs every minute by a Temporal Schedule, each run a container on the environment's Docker network with the
// environment's configs and secrets, its output and exit code kept; the manual task runs on demand and its
// non-zero exit is recorded failed; promoted to production by digest, the scheduled task runs there with
// production's configs. No run leaves a container behind, and the secret is in no run's output.
func TestScheduledAndManualTasks(t *testing.T) {
	if _, err := os.Stat(baseimages.BusyboxBinary); err != nil {
		t.Skipf("%s missing: %v", baseimages.BusyboxBinary, err)
	}
	docker := dockerEngine(t)
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	dev := startDev(t, data)
	a := newAPI(t, dev, data)
	project := "task" + strings.ToLower(time.Now().Format("150405"))
	t.Cleanup(func() { removeContainersOf(t, project) })
	a.call("POST", "/api/v1/projects", map[string]any{"name": project}, http.StatusCreated, nil)
	withoutApprovals(t, a, project)
	comps := "/api/v1/projects/" + project + "/components"
	const canary = "s3cret-task-canary"
	a.call("POST", comps, map[string]any{"name": "cleanup", "type": "scheduled-task",
		"repo": taskRepo(t, filepath.Join(dir, "cleanup"), `echo "cleaning $TABLE"; echo "key has ${#API_KEY} characters"`)}, http.StatusCreated, nil)
	a.call("POST", comps, map[string]any{"name": "report", "type": "manual-task",
		"repo": taskRepo(t, filepath.Join(dir, "report"), `echo "report for $REGION" >&2; exit 3`)}, http.StatusCreated, nil)
	body := string(a.call("POST", comps, map[string]any{"name": "bad", "type": "cron", "repo": "file:///nowhere"}, http.StatusUnprocessableEntity, nil))
	if !strings.Contains(body, `"field":"type"`) {
		t.Errorf("an unknown type: %s", body)
	}
	cleanup, report := comps+"/cleanup", comps+"/report"
	for env, table := range map[string]string{"development": "sessions", "production": "orders"} {
		a.call("PUT", cleanup+"/environments/"+env+"/configs/TABLE", map[string]any{"value": table}, http.StatusCreated, nil)
		a.call("PUT", cleanup+"/environments/"+env+"/configs/API_KEY", map[string]any{"value": canary, "secret": true}, http.StatusCreated, nil)
	}
	a.call("PUT", report+"/environments/development/configs/REGION", map[string]any{"value": "eu"}, http.StatusCreated, nil)

	builds := map[string]string{}
	for _, base := range []string{cleanup, report} {
		var started struct{ ID string }
		a.call("POST", base+"/builds", map[string]any{}, http.StatusAccepted, &started)
		if b := waitBuild(t, a, started.ID, 3*time.Minute); b.Status != "succeeded" {
			t.Fatalf("build of %s: %+v\n%s", base, b, a.call("GET", "/api/v1/builds/"+started.ID+"/logs", nil, http.StatusOK, nil))
		}
		builds[base] = started.ID
		var d deploymentState
		a.call("POST", base+"/environments/development/deploy", map[string]any{"build": started.ID}, http.StatusAccepted, &d)
		if d = waitDeployment(t, a, base, d.ID, 2*time.Minute); d.Status != "succeeded" || d.URL != "" || !strings.Contains(d.Message, "released") {
			t.Fatalf("deployment of the task %s: %+v, want released with no URL", base, d)
		}
	}
	// Nothing runs for a task between its runs.
	list, err := docker.Client.ContainerList(t.Context(), client.ContainerListOptions{All: true,
		Filters: client.Filters{}.Add("label", dataplane.LabelProject+"="+project)})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Items) != 0 {
		t.Fatalf("%d containers of the tasks exist after their deploys, want none", len(list.Items))
	}

	// The schedule: every minute, in development. Its first run is due at the next minute; meanwhile the manual task.
	var sched struct {
		Next []time.Time
	}
	a.call("PUT", cleanup+"/environments/development/schedule", map[string]any{"cron": "not a cron"}, http.StatusUnprocessableEntity, nil)
	a.call("PUT", cleanup+"/environments/development/schedule", map[string]any{"cron": "* * * * *"}, http.StatusOK, &sched)
	if len(sched.Next) != 3 || sched.Next[0].Second() != 0 {
		t.Errorf("next runs %v, want three on the minute", sched.Next)
	}
	a.call("PUT", report+"/environments/development/schedule", map[string]any{"cron": "* * * * *"}, http.StatusConflict, nil)

	var manual taskRun
	a.call("POST", report+"/environments/development/runs", nil, http.StatusAccepted, &manual)
	manual = waitRun(t, a, manual.ID, 2*time.Minute)
	if manual.Status != "failed" || manual.ExitCode == nil || *manual.ExitCode != 3 || manual.Build != builds[report] || manual.Trigger != "manual" {
		t.Errorf("manual run %+v, want failed with exit code 3 of build %s", manual, builds[report])
	}
	if out := string(a.call("GET", "/api/v1/runs/"+manual.ID+"/logs", nil, http.StatusOK, nil)); out != "report for eu\n" {
		t.Errorf("manual run's output %q, want its stderr", out)
	}
	if os.Getenv("SLIPWAY_RECORD_HISTORIES") != "" {
		recordHistory(t, dev.Temporal, dev.Keys, manual.WorkflowID, "../workflows/testdata/task_run.json")
	}

	// The scheduled run, within a minute and a bit.
	deadline := time.Now().Add(100 * time.Second)
	var scheduled []taskRun
	for len(scheduled) == 0 {
		var page struct{ Items []taskRun }
		a.call("GET", cleanup+"/runs?environment=development", nil, http.StatusOK, &page)
		for _, r := range page.Items {
			if r.Status == "succeeded" || r.Status == "failed" {
				scheduled = append(scheduled, r)
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no scheduled run ended within 100 s: %+v", page.Items)
		}
		time.Sleep(time.Second)
	}
	first := scheduled[0]
	out := string(a.call("GET", "/api/v1/runs/"+first.ID+"/logs", nil, http.StatusOK, nil))
	if first.Status != "succeeded" || first.Trigger != "schedule" || *first.ExitCode != 0 || out != "cleaning sessions\nkey has 18 characters\n" {
		t.Errorf("scheduled run %+v with output %q, want succeeded with development's configs", first, out)
	}
	if strings.Contains(out, canary) {
		t.Errorf("the secret is in the run's output")
	}
	a.call("DELETE", cleanup+"/environments/development/schedule", nil, http.StatusNoContent, nil)

	// Promoted by digest, the task runs in production with production's configs (an admin runs it there).
	var promoted deploymentState
	if promoted = deployedBy(t, a, cleanup, a.call("POST", cleanup+"/promote", map[string]any{"build": builds[cleanup], "to": "production"},
		http.StatusAccepted, nil), 2*time.Minute); promoted.Status != "succeeded" || promoted.Build != builds[cleanup] {
		t.Fatalf("promotion of the task: %+v", promoted)
	}
	var prod taskRun
	a.call("POST", cleanup+"/environments/production/runs", nil, http.StatusAccepted, &prod)
	prod = waitRun(t, a, prod.ID, 2*time.Minute)
	if out := string(a.call("GET", "/api/v1/runs/"+prod.ID+"/logs", nil, http.StatusOK, nil)); prod.Status != "succeeded" || !strings.HasPrefix(out, "cleaning orders\n") {
		t.Errorf("production run %+v with output %q, want production's TABLE", prod, out)
	}
	list, err = docker.Client.ContainerList(t.Context(), client.ContainerListOptions{All: true,
		Filters: client.Filters{}.Add("label", dataplane.LabelProject+"="+project)})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Items) != 0 {
		t.Errorf("%d containers are left after the runs, want none", len(list.Items))
	}
}
