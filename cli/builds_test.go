package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slipway-dev/slipway/api"
)

const (
	fakeToken  = "tok"
	fakeCommit = "0123456789abcdef0123456789abcdef01234567"
	fakeDigest = "sha256:fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"
)

// fakeNow is the time in runCLI's command lines.
var fakeNow = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

// fakeAPI mimics the builds endpoints of the slipway API for build b-1 of shop/api.
type fakeAPI struct {
	t *testing.T
	// lines is the log of b-1.
	lines []string
	// statuses are the statuses successive GETs of b-1 answer; the last one stays.
	statuses []string
	// cut makes the first followed read of the log stop after this many lines (0: never): with cutAbort by
	// dropping the connection in the middle of the next line, otherwise by ending the answer cleanly.
	cut      int
	cutAbort bool
	// logStatus, when not 0, is the status every log read fails with.
	logStatus int
	// history is the builds list of shop/api, newest first.
	history []map[string]any

	mu       sync.Mutex
	cutDone  bool
	logReads []string // the query of each log read
	lists    []string // the query of each builds list
	gets     int
}

// reads returns the query of each log read so far.
func (f *fakeAPI) reads() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.logReads)
}

// listed returns the query of each builds list so far and forgets them.
func (f *fakeAPI) listed() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := f.lists
	f.lists = nil
	return out
}

func (f *fakeAPI) start() *httptest.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v1/projects/{p}/components/{c}/builds", f.trigger)
	mux.HandleFunc("GET /api/v1/projects/{p}/components/{c}/builds", f.list)
	mux.HandleFunc("GET /api/v1/builds/{id}", f.get)
	mux.HandleFunc("GET /api/v1/builds/{id}/logs", f.logs)
	mux.HandleFunc("POST /api/v1/builds/{id}/cancel", f.cancel)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+fakeToken {
			apiFail(w, http.StatusUnauthorized, "unauthenticated", "a valid token is required")
			return
		}
		mux.ServeHTTP(w, r)
	}))
	f.t.Cleanup(srv.Close)
	return srv
}

func apiFail(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"code": code, "message": msg}})
}

func reply(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (f *fakeAPI) trigger(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Commit  string `json:"commit"`
		Rebuild bool   `json:"rebuild"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		apiFail(w, http.StatusBadRequest, "bad_json", err.Error())
		return
	}
	if r.PathValue("p") != "shop" || r.PathValue("c") != "api" {
		apiFail(w, http.StatusNotFound, "not_found", "component not found")
		return
	}
	switch {
	case req.Commit == "nope":
		apiFail(w, http.StatusUnprocessableEntity, "unknown_commit", `commit "nope" names no commit of the component's repository`)
	case req.Commit == "main" && !req.Rebuild:
		reply(w, http.StatusOK, map[string]any{"id": "b-1", "workflowId": "build/shop/api/" + fakeCommit, "commit": fakeCommit, "status": "succeeded", "existing": true})
	default:
		reply(w, http.StatusAccepted, map[string]any{"id": "b-1", "workflowId": "build/shop/api/" + fakeCommit, "commit": fakeCommit, "status": "queued", "existing": false})
	}
}

func (f *fakeAPI) get(w http.ResponseWriter, r *http.Request) {
	if r.PathValue("id") != "b-1" {
		apiFail(w, http.StatusNotFound, "not_found", "build "+r.PathValue("id")+" not found")
		return
	}
	f.mu.Lock()
	status := f.statuses[min(f.gets, len(f.statuses)-1)]
	f.gets++
	f.mu.Unlock()
	created := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	b := map[string]any{"id": "b-1", "project": "shop", "component": "api", "status": status, "commit": fakeCommit,
		"createdAt": created, "startedAt": created.Add(time.Second)}
	if finished(status) {
		b["endedAt"] = created.Add(66 * time.Second)
	}
	switch status {
	case api.BuildSucceeded:
		b["digest"] = fakeDigest
	case api.BuildFailed:
		b["error"] = "RUN exited 1"
	}
	reply(w, http.StatusOK, b)
}

func (f *fakeAPI) logs(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.logReads = append(f.logReads, r.URL.RawQuery)
	cut := f.cut > 0 && !f.cutDone && r.URL.Query().Get("follow") == "true"
	if cut {
		f.cutDone = true
	}
	f.mu.Unlock()
	if f.logStatus != 0 {
		apiFail(w, f.logStatus, "unavailable", "the store is unavailable")
		return
	}
	if r.PathValue("id") != "b-1" {
		apiFail(w, http.StatusNotFound, "not_found", "build "+r.PathValue("id")+" not found")
		return
	}
	after, _ := strconv.Atoi(r.URL.Query().Get("after"))
	lines := f.lines[min(after, len(f.lines)):]
	w.Header().Set("Content-Type", "text/plain; charset=UTF-8")
	w.WriteHeader(http.StatusOK)
	if !cut {
		for _, l := range lines {
			fmt.Fprintln(w, l)
		}
		return
	}
	for _, l := range lines[:f.cut] {
		fmt.Fprintln(w, l)
	}
	if f.cutAbort {
		fmt.Fprint(w, lines[f.cut][:3]) // half a line, then the connection drops
		w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler)
	}
}

func (f *fakeAPI) cancel(w http.ResponseWriter, r *http.Request) {
	if r.PathValue("id") != "b-1" {
		apiFail(w, http.StatusNotFound, "not_found", "build "+r.PathValue("id")+" not found")
		return
	}
	reply(w, http.StatusAccepted, map[string]any{"id": "b-1", "workflowId": "w", "status": "running", "cancelRequested": true})
}

// list pages through history like the API: cursor is the ID of the last build of the previous page.
func (f *fakeAPI) list(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.lists = append(f.lists, r.URL.RawQuery)
	f.mu.Unlock()
	q := r.URL.Query()
	limit := 50
	if v := q.Get("limit"); v != "" {
		limit, _ = strconv.Atoi(v)
	}
	items := f.history
	if c := q.Get("cursor"); c != "" {
		i := slices.IndexFunc(items, func(b map[string]any) bool { return b["id"] == c })
		items = items[i+1:]
	}
	if s := q.Get("status"); s != "" {
		items = slices.DeleteFunc(slices.Clone(items), func(b map[string]any) bool { return b["status"] != s })
	}
	page := map[string]any{"items": items[:min(limit, len(items))]}
	if len(items) > limit {
		page["next"] = items[limit-1]["id"]
	}
	reply(w, http.StatusOK, page)
}

// runCLI runs the command line against srv and returns its exit code, stdout and stderr. Reading a log again, or
// polling with --wait, waits a millisecond; the clock stands at fakeNow.
func runCLI(t *testing.T, srv *httptest.Server, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	r := &runner{
		env:    envOf(map[string]string{"SLIPWAY_SERVER": srv.URL, "SLIPWAY_TOKEN": fakeToken}),
		stdout: &stdout, stderr: &stderr, backoff: time.Millisecond, now: func() time.Time { return fakeNow },
	}
	code := r.run(context.Background(), args)
	return code, stdout.String(), stderr.String()
}

func logLines(n int) []string {
	var lines []string
	for i := 1; i <= n; i++ {
		lines = append(lines, fmt.Sprintf("#%d step %d of the build", i, i))
	}
	return lines
}

func joinLines(lines []string) string { return strings.Join(lines, "\n") + "\n" }

func TestBuildPrintsIDAndSummary(t *testing.T) {
	srv := (&fakeAPI{t: t}).start()
	code, stdout, stderr := runCLI(t, srv, "build", "shop/api")
	if code != 0 || stdout != "b-1\n" {
		t.Fatalf("exit %d, stdout %q, stderr %q; want exit 0 and the ID alone on stdout", code, stdout, stderr)
	}
	if want := "build b-1 of shop/api at " + fakeCommit + " (queued)\n"; stderr != want {
		t.Fatalf("stderr %q, want %q", stderr, want)
	}

	code, stdout, stderr = runCLI(t, srv, "build", "--commit", "main", "shop/api")
	if want := "build b-1 of shop/api at " + fakeCommit + " (existing, succeeded)\n"; code != 0 || stdout != "b-1\n" || stderr != want {
		t.Fatalf("existing build: exit %d, stdout %q, stderr %q; want stderr %q", code, stdout, stderr, want)
	}
}

func TestBuildFollowStreamsLogAndFailsWithBuild(t *testing.T) {
	f := &fakeAPI{t: t, lines: logLines(3), statuses: []string{api.BuildFailed}}
	srv := f.start()
	code, stdout, stderr := runCLI(t, srv, "build", "shop/api", "--follow")
	if code != 1 {
		t.Fatalf("exit %d, want 1 for a failed build; stderr %q", code, stderr)
	}
	if want := "b-1\n" + joinLines(f.lines); stdout != want {
		t.Fatalf("stdout %q, want the ID then the log %q", stdout, want)
	}
	if want := "build b-1 failed after 1m5s: RUN exited 1\n"; !strings.HasSuffix(stderr, want) {
		t.Fatalf("stderr %q, want it to end with %q", stderr, want)
	}
	if !slices.Contains(f.reads(), "follow=true") {
		t.Fatalf("log reads %q, want a followed one", f.reads())
	}
}

func TestBuildShowsAPIError(t *testing.T) {
	srv := (&fakeAPI{t: t}).start()
	code, stdout, stderr := runCLI(t, srv, "build", "shop/api", "--commit", "nope")
	want := `slipway build: commit "nope" names no commit of the component's repository (unknown_commit, HTTP 422)`
	if code != 1 || stdout != "" || !strings.Contains(stderr, want) {
		t.Fatalf("exit %d, stdout %q, stderr %q; want exit 1 and %q", code, stdout, stderr, want)
	}
}

func TestLogsFollowResumesWithoutLosingOrRepeatingLines(t *testing.T) {
	for _, abort := range []bool{true, false} {
		t.Run(fmt.Sprintf("abort=%v", abort), func(t *testing.T) {
			// A clean end of a followed read while the build runs is what a server that stops sends.
			f := &fakeAPI{t: t, lines: logLines(10), cut: 4, cutAbort: abort, statuses: []string{"running", api.BuildFailed}}
			if abort {
				f.statuses = []string{api.BuildFailed}
			}
			srv := f.start()
			code, stdout, stderr := runCLI(t, srv, "logs", "-f", "b-1")
			if code != 1 {
				t.Fatalf("exit %d, want 1 for a failed build; stderr %q", code, stderr)
			}
			if want := joinLines(f.lines); stdout != want {
				t.Fatalf("stdout %q, want every line once %q", stdout, want)
			}
			if want := []string{"follow=true", "after=4&follow=true", "after=10"}; !slices.Equal(f.reads(), want) {
				t.Fatalf("log reads %q, want %q", f.reads(), want)
			}
			if !strings.Contains(stderr, "resuming after line 4") || !strings.HasSuffix(stderr, "build b-1 failed after 1m5s: RUN exited 1\n") {
				t.Fatalf("stderr %q, want a resume note and the outcome", stderr)
			}
		})
	}
}

func TestLogsTakesFlagsAfterTheBuildID(t *testing.T) {
	for _, args := range [][]string{
		{"logs", "b-1", "-f"},
		{"logs", "-f", "b-1"},
		{"logs", "b-1", "--follow"},
		{"logs", "--follow=true", "--", "b-1"},
	} {
		f := &fakeAPI{t: t, lines: logLines(2), statuses: []string{api.BuildSucceeded}}
		srv := f.start()
		code, stdout, stderr := runCLI(t, srv, args...)
		if code != 0 || stdout != joinLines(f.lines) {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want exit 0 and the log", args, code, stdout, stderr)
			continue
		}
		if want := "build b-1 succeeded in 1m5s: " + fakeDigest + "\n"; stderr != want {
			t.Errorf("%q: stderr %q, want %q", args, stderr, want)
		}
		if len(f.reads()) == 0 || f.reads()[0] != "follow=true" {
			t.Errorf("%q: log reads %q, want a followed read first", args, f.reads())
		}
	}

	// Client flags after the positional argument, too.
	f := &fakeAPI{t: t, lines: logLines(2)}
	srv := f.start()
	var stdout, stderr bytes.Buffer
	r := &runner{env: envOf(nil), stdout: &stdout, stderr: &stderr}
	code := r.run(context.Background(), []string{"logs", "b-1", "--server", srv.URL, "--token", fakeToken})
	if code != 0 || stdout.String() != joinLines(f.lines) || stderr.String() != "" {
		t.Fatalf("exit %d, stdout %q, stderr %q; want exit 0 and only the log", code, stdout.String(), stderr.String())
	}
	if !slices.Equal(f.reads(), []string{""}) {
		t.Fatalf("log reads %q, want one plain read", f.reads())
	}
}

func TestLogsGivesUpAfterRetries(t *testing.T) {
	f := &fakeAPI{t: t, logStatus: http.StatusServiceUnavailable, statuses: []string{"running"}}
	srv := f.start()
	code, stdout, stderr := runCLI(t, srv, "logs", "-f", "b-1")
	if code != 1 || stdout != "" || !strings.Contains(stderr, "giving up after 6 attempts: the store is unavailable (unavailable, HTTP 503)") {
		t.Fatalf("exit %d, stdout %q, stderr %q; want exit 1 and a give-up message", code, stdout, stderr)
	}
	if len(f.reads()) != followRetries+1 {
		t.Fatalf("%d log reads, want %d", len(f.reads()), followRetries+1)
	}
}

func TestLogsOfUnknownBuildIsNotRetried(t *testing.T) {
	f := &fakeAPI{t: t}
	srv := f.start()
	code, _, stderr := runCLI(t, srv, "logs", "-f", "b-404")
	if code != 1 || !strings.Contains(stderr, "build b-404 not found (not_found, HTTP 404)") || len(f.reads()) != 1 {
		t.Fatalf("exit %d, stderr %q, %d log reads; want exit 1, the API's message and one read", code, stderr, len(f.reads()))
	}
}

func fakeHistory(n int) []map[string]any {
	created := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	var out []map[string]any
	for i := n; i >= 1; i-- {
		b := map[string]any{"id": fmt.Sprintf("b-%d", i), "status": api.BuildSucceeded, "commit": strings.Repeat(strconv.Itoa(i), 40),
			"digest": fakeDigest, "createdAt": created.Add(time.Duration(i) * time.Hour),
			"startedAt": created.Add(time.Duration(i)*time.Hour + time.Second), "endedAt": created.Add(time.Duration(i)*time.Hour + 95*time.Second)}
		b["scan"] = map[string]any{"vulnerabilities": map[string]int{"critical": 0, "high": i}, "secrets": 0, "misconfigurations": 1, "passed": true}
		if i == n {
			b["status"], b["digest"] = "running", ""
			delete(b, "endedAt")
			delete(b, "scan")
		}
		if i == 1 {
			b["status"], b["digest"] = "failed", ""
			b["scan"] = map[string]any{"vulnerabilities": map[string]int{"critical": 1}, "secrets": 1, "passed": false,
				"notScanned": []map[string]string{{"scanner": "vuln", "reason": "vulnerability database unavailable"}}}
		}
		out = append(out, b)
	}
	return out
}

func TestBuildsPrintsTableAndFollowsCursors(t *testing.T) {
	f := &fakeAPI{t: t, history: fakeHistory(5)}
	srv := f.start()
	code, stdout, stderr := runCLI(t, srv, "builds", "shop/api", "--limit", "2", "--all")
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	want := `ID   STATUS     COMMIT        DIGEST               SCAN                                                  CREATED               DURATION
b-5  running    555555555555  -                    -                                                     2030-01-02T08:04:05Z  -
b-4  succeeded  444444444444  sha256:fedcba987654  C0 H4 M0 L0 secrets:0 misconfig:1 passed              2030-01-02T07:04:05Z  1m34s
b-3  succeeded  333333333333  sha256:fedcba987654  C0 H3 M0 L0 secrets:0 misconfig:1 passed              2030-01-02T06:04:05Z  1m34s
b-2  succeeded  222222222222  sha256:fedcba987654  C0 H2 M0 L0 secrets:0 misconfig:1 passed              2030-01-02T05:04:05Z  1m34s
b-1  failed     111111111111  -                    C1 H0 M0 L0 secrets:1 misconfig:0 no-vuln-db blocked  2030-01-02T04:04:05Z  1m34s
`
	if stdout != want {
		t.Fatalf("stdout:\n%s\nwant:\n%s", stdout, want)
	}
	if got, want := f.listed(), []string{"limit=2", "cursor=b-4&limit=2", "cursor=b-2&limit=2"}; !slices.Equal(got, want) {
		t.Fatalf("list requests %q, want %q", got, want)
	}

	code, stdout, stderr = runCLI(t, srv, "builds", "--limit", "2", "shop/api")
	if got := f.listed(); code != 0 || strings.Count(stdout, "\n") != 3 || !strings.Contains(stderr, "--all lists them all") || len(got) != 1 {
		t.Fatalf("one page: exit %d, stdout %q, stderr %q, requests %q; want a header, 2 rows and a hint", code, stdout, stderr, got)
	}

	code, stdout, _ = runCLI(t, srv, "builds", "shop/api", "--status", "running")
	if got := f.listed(); code != 0 || !strings.Contains(stdout, "b-5") || strings.Contains(stdout, "b-4") || !slices.Equal(got, []string{"status=running"}) {
		t.Fatalf("--status: exit %d, stdout %q, requests %q", code, stdout, got)
	}
}

func TestCancelRequestsCancellation(t *testing.T) {
	srv := (&fakeAPI{t: t}).start()
	code, stdout, stderr := runCLI(t, srv, "cancel", "b-1")
	if code != 0 || !strings.Contains(stdout, "cancel of build b-1 requested") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}

func TestClientVerbsCheckArguments(t *testing.T) {
	f := &fakeAPI{t: t}
	srv := f.start()
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"logs"}, "missing <build-id>\n(see: slipway logs --help)"},
		{[]string{"logs", "b-1", "b-2"}, `unexpected argument "b-2"`},
		{[]string{"cancel"}, "missing <build-id>"},
		{[]string{"build", "shop"}, `"shop" is not <project>/<component>`},
		{[]string{"builds", "shop/api/x"}, `"shop/api/x" is not <project>/<component>`},
	}
	for _, c := range cases {
		code, _, stderr := runCLI(t, srv, c.args...)
		if code != 2 || !strings.Contains(stderr, c.want) {
			t.Errorf("%q: exit %d, stderr %q; want exit 2 and %q", c.args, code, stderr, c.want)
		}
	}
	if got := f.reads(); len(got) != 0 {
		t.Errorf("bad command lines sent %q, want nothing", got)
	}
}

func TestProgressTextNamesTheRunningStep(t *testing.T) {
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	started := now.Add(-42 * time.Second)
	b := api.Build{ID: "b-1", Status: "running", Steps: []api.Step{
		{Name: "checkout", Status: api.StepSucceeded}, {Name: "build", Status: "running", StartedAt: &started}, {Name: "push", Status: "pending"},
	}}
	if got, want := progressText(b, now, 1), "⠙ build b-1 running: step build for 42s"; got != want {
		t.Fatalf("progressText = %q, want %q", got, want)
	}
	if got, want := progressText(api.Build{ID: "b-1", Status: "queued"}, now, 0), "⠋ build b-1 queued"; got != want {
		t.Fatalf("progressText = %q, want %q", got, want)
	}
}
