package server

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/slipway-dev/slipway/api"
	"github.com/slipway-dev/slipway/store"
)

// newLogBuild stores build id of shop/api with the given status and log lines.
func (e *testEnv) newLogBuild(id, status string, lines ...string) {
	e.t.Helper()
	ctx := context.Background()
	if _, err := e.st.CreateBuild(ctx, store.Build{ID: id, Project: "shop", Component: "api", Commit: shaMain, WorkflowID: "w-" + id}); err != nil {
		e.t.Fatal(err)
	}
	if err := e.st.AppendBuildLog(ctx, id, lines...); err != nil {
		e.t.Fatal(err)
	}
	if status != api.BuildQueued {
		e.setStatus(id, status)
	}
}

func (e *testEnv) setStatus(id, status string) {
	e.t.Helper()
	if _, err := e.st.UpdateBuild(context.Background(), id, func(b *store.Build) error { b.Status = status; return nil }); err != nil {
		e.t.Fatal(err)
	}
}

// numbered returns "<prefix> <i>" for i in [from, to).
func numbered(prefix string, from, to int) []string {
	var out []string
	for i := from; i < to; i++ {
		out = append(out, fmt.Sprintf("%s %d", prefix, i))
	}
	return out
}

func text(lines []string) string {
	if len(lines) == 0 {
		return ""
	}
	return strings.Join(lines, "\n") + "\n"
}

func TestBuildLogsFull(t *testing.T) {
	e, _ := newBuildEnv(t)
	lines := numbered("line", 1, 2*logBatch+501) // more than one store read
	e.newLogBuild("b-1", api.BuildRunning, lines...)
	e.newLogBuild("b-empty", api.BuildQueued)

	rec := e.must(http.StatusOK, http.MethodGet, "/api/v1/builds/b-1/logs", e.viewer, nil, nil)
	if ct := rec.Header().Get("Content-Type"); ct != "text/plain; charset=UTF-8" {
		t.Errorf("Content-Type %q", ct)
	}
	if rec.Body.String() != text(lines) {
		t.Errorf("log has %d bytes, want %d: all %d lines", rec.Body.Len(), len(text(lines)), len(lines))
	}
	for _, after := range []int{0, 1, 999, 1000, 2400, len(lines) - 1, len(lines), len(lines) + 5} {
		rec := e.must(http.StatusOK, http.MethodGet, fmt.Sprintf("/api/v1/builds/b-1/logs?after=%d&follow=false", after), e.viewer, nil, nil)
		if want := text(lines[min(after, len(lines)):]); rec.Body.String() != want {
			t.Errorf("after=%d: %d bytes, want %d", after, rec.Body.Len(), len(want))
		}
	}
	if rec := e.must(http.StatusOK, http.MethodGet, "/api/v1/builds/b-empty/logs", e.viewer, nil, nil); rec.Body.Len() != 0 {
		t.Errorf("empty log is %q", rec.Body)
	}
	wantError(t, e.do(http.MethodGet, "/api/v1/builds/b-1/logs?after=-1", e.viewer, nil), http.StatusUnprocessableEntity, "invalid", "after")
	wantError(t, e.do(http.MethodGet, "/api/v1/builds/b-1/logs?after=x", e.viewer, nil), http.StatusUnprocessableEntity, "invalid", "after")
	wantError(t, e.do(http.MethodGet, "/api/v1/builds/b-1/logs?follow=maybe", e.viewer, nil), http.StatusUnprocessableEntity, "invalid", "follow")
	wantError(t, e.do(http.MethodGet, "/api/v1/builds/b-nope/logs", e.viewer, nil), http.StatusNotFound, "not_found", "")
	wantError(t, e.do(http.MethodGet, "/api/v1/builds/b-nope/logs?follow=true", e.viewer, nil), http.StatusNotFound, "not_found", "")
}

// follow opens GET /api/v1/builds/{id}/logs?follow=true&<query> on a real HTTP server and returns the response.
func (e *testEnv) follow(ctx context.Context, ts *httptest.Server, id, query string) *http.Response {
	e.t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, ts.URL+"/api/v1/builds/"+id+"/logs?follow=true&"+query, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+e.viewer)
	resp, err := ts.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(resp.Body)
		e.t.Fatalf("follow %s: status %d: %s", id, resp.StatusCode, body)
	}
	return resp
}

// readLine reads one line of a followed log.
func readLine(t *testing.T, r *bufio.Reader) string {
	t.Helper()
	line, err := r.ReadString('\n')
	if err != nil {
		t.Fatalf("reading the followed log: got %q, %v", line, err)
	}
	return strings.TrimSuffix(line, "\n")
}

func TestBuildLogsFollowStreamsUntilTheBuildEnds(t *testing.T) {
	e, _ := newBuildEnv(t)
	e.srv.logPoll = 5 * time.Millisecond
	e.newLogBuild("b-1", api.BuildRunning, "first")
	ts := httptest.NewServer(e.h)
	t.Cleanup(ts.Close)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()

	resp := e.follow(ctx, ts, "b-1", "")
	if ct := resp.Header.Get("Content-Type"); ct != "text/plain; charset=UTF-8" {
		t.Errorf("Content-Type %q", ct)
	}
	r := bufio.NewReader(resp.Body)
	if got := readLine(t, r); got != "first" {
		t.Fatalf("first line %q", got)
	}
	// Each line arrives while the build runs.
	for i := range 3 {
		want := fmt.Sprintf("live %d", i)
		if err := e.st.AppendBuildLog(ctx, "b-1", want); err != nil {
			t.Fatal(err)
		}
		if got := readLine(t, r); got != want {
			t.Fatalf("line %q, want %q", got, want)
		}
	}
	// Lines appended from another goroutine, then the build ends: the stream ends with all of them.
	rest := numbered("line", 0, 1500)
	done := make(chan error, 1)
	go func() {
		for i := 0; i < len(rest); i += 100 {
			if err := e.st.AppendBuildLog(ctx, "b-1", rest[i:i+100]...); err != nil {
				done <- err
				return
			}
		}
		_, err := e.st.UpdateBuild(ctx, "b-1", func(b *store.Build) error { b.Status = api.BuildSucceeded; return nil })
		done <- err
	}()
	got, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("reading the rest of the followed log: %v", err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if string(got) != text(rest) {
		t.Errorf("rest of the log: %d lines, want %d", strings.Count(string(got), "\n"), len(rest))
	}
}

func TestBuildLogsFollowFinishedBuildAndResume(t *testing.T) {
	e, _ := newBuildEnv(t)
	e.srv.logPoll = time.Hour // a finished build's log must end without waiting for a poll
	lines := numbered("line", 1, 11)
	e.newLogBuild("b-1", api.BuildFailed, lines...)
	e.newLogBuild("b-empty", api.BuildCancelled)
	ts := httptest.NewServer(e.h)
	t.Cleanup(ts.Close)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()

	for _, tc := range []struct {
		id, query, want string
	}{
		{"b-1", "", text(lines)},
		{"b-1", "after=7", text(lines[7:])},
		{"b-1", "after=10", ""},
		{"b-empty", "", ""},
	} {
		got, err := io.ReadAll(e.follow(ctx, ts, tc.id, tc.query).Body)
		if err != nil || string(got) != tc.want {
			t.Errorf("follow %s?%s = %q, %v; want %q", tc.id, tc.query, got, err, tc.want)
		}
	}
}

func TestBuildLogsFollowEndsWhenTheClientLeavesOrTheServerStops(t *testing.T) {
	e, _ := newBuildEnv(t)
	e.srv.logPoll = 5 * time.Millisecond
	e.newLogBuild("b-1", api.BuildRunning, "first")
	ts := httptest.NewServer(e.h)
	t.Cleanup(ts.Close)

	// The client goes away: the handler returns (and logs its request line).
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	leaving, leave := context.WithCancel(ctx)
	r := bufio.NewReader(e.follow(leaving, ts, "b-1", "").Body)
	if got := readLine(t, r); got != "first" {
		t.Fatalf("first line %q", got)
	}
	leave()
	for !strings.Contains(e.logs.String(), "route=/api/v1/builds/:id/logs") {
		if ctx.Err() != nil {
			t.Fatal("the follow handler did not return after the client left")
		}
		time.Sleep(5 * time.Millisecond)
	}

	// The server shuts down: open streams end, and so do new ones.
	r = bufio.NewReader(e.follow(ctx, ts, "b-1", "").Body)
	if got := readLine(t, r); got != "first" {
		t.Fatalf("first line %q", got)
	}
	e.srv.EndStreams()
	if rest, err := io.ReadAll(r); err != nil || len(rest) != 0 {
		t.Errorf("after EndStreams the stream gave %q, %v; want its end", rest, err)
	}
	e.srv.EndStreams() // twice is fine
	if got, err := io.ReadAll(e.follow(ctx, ts, "b-1", "").Body); err != nil || string(got) != "first\n" {
		t.Errorf("follow after EndStreams = %q, %v; want the lines so far, then the end", got, err)
	}
}
