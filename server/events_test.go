package server

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/slipway-dev/slipway/api"
	"github.com/slipway-dev/slipway/store"
)

// sseMessage is one message of a server-sent event stream; a comment line is a message of its own.
type sseMessage struct {
	id, event, data, comment string
	hasID                    bool
}

// sseReader reads the messages of a followed change feed.
type sseReader struct {
	t *testing.T
	r *bufio.Reader
}

// next reads the next message or comment; io.EOF when the stream has ended.
func (sr *sseReader) next() (sseMessage, error) {
	var m sseMessage
	for {
		line, err := sr.r.ReadString('\n')
		if err != nil {
			if line != "" {
				return m, errors.New("the stream ended inside a message: " + strconv.Quote(line))
			}
			return m, err
		}
		line = strings.TrimSuffix(line, "\n")
		switch field, value, _ := strings.Cut(line, ": "); {
		case line == "":
			return m, nil
		case strings.HasPrefix(line, ":"):
			m.comment = strings.TrimPrefix(line, ": ")
		case field == "id":
			m.id, m.hasID = value, true
		case field == "event":
			m.event = value
		case field == "data":
			m.data = value
		default:
			sr.t.Fatalf("unexpected line %q", line)
		}
	}
}

// event skips bare ids and comments and returns the next event, decoded; it fails the test when the stream
// ends or its context does first.
func (sr *sseReader) event() api.Event {
	sr.t.Helper()
	for {
		m, err := sr.next()
		if err != nil {
			sr.t.Fatalf("reading the change feed: %v", err)
		}
		if m.data == "" {
			continue
		}
		var e api.Event
		if err := json.Unmarshal([]byte(m.data), &e); err != nil {
			sr.t.Fatalf("event data %q: %v", m.data, err)
		}
		if m.id != strconv.FormatInt(e.Seq, 10) || m.event != e.Kind {
			sr.t.Fatalf("message id %q event %q carries %+v", m.id, m.event, e)
		}
		return e
	}
}

// openEvents opens GET /api/v1/events?<query> as the viewer, with Last-Event-ID lastID unless it is "", and
// returns a reader of its messages.
func (e *testEnv) openEvents(ctx context.Context, ts *httptest.Server, query, lastID string) *sseReader {
	e.t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, ts.URL+"/api/v1/events?"+query, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+e.viewer)
	req.Header.Set("Accept", "text/event-stream")
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	resp, err := ts.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(resp.Body)
		e.t.Fatalf("GET /api/v1/events?%s: status %d: %s", query, resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		e.t.Errorf("Content-Type %q, want text/event-stream", ct)
	}
	return &sseReader{t: e.t, r: bufio.NewReader(resp.Body)}
}

// lastSeq returns the store's newest event seq.
func (e *testEnv) lastSeq() int64 {
	e.t.Helper()
	seq, err := e.st.LastEventSeq(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	return seq
}

// newBuild stores a queued build id of project/component.
func (e *testEnv) newBuild(project, component, id string) {
	e.t.Helper()
	if _, err := e.st.CreateBuild(context.Background(), store.Build{ID: id, Project: project, Component: component, Commit: shaMain}); err != nil {
		e.t.Fatal(err)
	}
}

func wantEvent(t *testing.T, got api.Event, kind, project, component, ref string) {
	t.Helper()
	if got.Kind != kind || got.Project != project || got.Component != component || got.Ref != ref || got.At.IsZero() {
		t.Fatalf("event %+v, want kind %q of %s/%s ref %q", got, kind, project, component, ref)
	}
}

func TestEventsStreamNewChanges(t *testing.T) {
	e, _ := newBuildEnv(t) // the default poll: an event arrives within about 250 ms
	ts := httptest.NewServer(e.h)
	t.Cleanup(ts.Close)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()

	start := e.lastSeq()
	sr := e.openEvents(ctx, ts, "", "")
	// Without a cursor the stream starts after the newest event, and says so at once.
	m, err := sr.next()
	if err != nil || !m.hasID || m.id != strconv.FormatInt(start, 10) || m.data != "" {
		t.Fatalf("first message %+v, %v; want a bare id %d", m, err, start)
	}
	e.newBuild("shop", "api", "b-1")
	got := sr.event()
	wantEvent(t, got, api.EventBuild, "shop", "api", "b-1")
	if got.Seq != start+1 {
		t.Errorf("seq %d, want %d", got.Seq, start+1)
	}
	e.setStatus("b-1", api.BuildRunning)
	wantEvent(t, sr.event(), api.EventBuild, "shop", "api", "b-1")
	e.must(http.StatusCreated, http.MethodPut, "/api/v1/projects/shop/components/api/environments/production/configs/LOG_LEVEL",
		e.developer, map[string]any{"value": "debug-canary"}, nil)
	m, err = sr.next()
	for err == nil && m.data == "" {
		m, err = sr.next()
	}
	if err != nil || m.event != api.EventConfig || strings.Contains(m.data, "debug-canary") ||
		!strings.Contains(m.data, `"environment":"production","ref":"LOG_LEVEL"`) {
		t.Fatalf("config event %+v, %v; want its key and environment, never its value", m, err)
	}
}

func TestEventsStreamFiltersAndResumes(t *testing.T) {
	e, _ := newBuildEnv(t)
	e.srv.eventPoll = 5 * time.Millisecond
	e.createComponent("shop", "web")
	e.createProject("blog")
	e.createComponent("blog", "api")
	ts := httptest.NewServer(e.h)
	t.Cleanup(ts.Close)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()

	shopAPI := e.openEvents(ctx, ts, "project=shop&component=api", "")
	shop := e.openEvents(ctx, ts, "project=shop", "")
	e.newBuild("blog", "api", "b-blog")
	skipped := e.lastSeq()
	// Left-out events still move the client's resume point: a bare id of the event left out.
	for {
		m, err := shopAPI.next()
		if err != nil {
			t.Fatalf("reading the filtered feed: %v", err)
		}
		if m.data != "" {
			t.Fatalf("the filtered feed sent %+v before the bare id %d", m, skipped)
		}
		if m.id == strconv.FormatInt(skipped, 10) {
			break
		}
	}
	e.newBuild("shop", "web", "b-web")
	e.newBuild("shop", "api", "b-1")
	first := shopAPI.event()
	wantEvent(t, first, api.EventBuild, "shop", "api", "b-1")
	wantEvent(t, shop.event(), api.EventBuild, "shop", "web", "b-web")
	wantEvent(t, shop.event(), api.EventBuild, "shop", "api", "b-1")

	// While no one follows, more changes; a client resuming after first gets each once, in order.
	e.setStatus("b-1", api.BuildRunning)
	e.newBuild("blog", "api", "b-blog-2")
	e.setStatus("b-1", api.BuildFailed)
	id := strconv.FormatInt(first.Seq, 10)
	for _, resume := range []*sseReader{
		e.openEvents(ctx, ts, "project=shop&component=api", id),
		e.openEvents(ctx, ts, "project=shop&component=api&after="+id, ""),
		e.openEvents(ctx, ts, "project=shop&component=api&after=0", id), // the header wins
	} {
		a, b := resume.event(), resume.event()
		wantEvent(t, a, api.EventBuild, "shop", "api", "b-1")
		wantEvent(t, b, api.EventBuild, "shop", "api", "b-1")
		if a.Seq != first.Seq+1 || b.Seq != first.Seq+3 {
			t.Errorf("resumed after %d with seq %d and %d, want %d and %d", first.Seq, a.Seq, b.Seq, first.Seq+1, first.Seq+3)
		}
	}
}

func TestEventsStreamKeepAliveAndEndStreams(t *testing.T) {
	e, _ := newBuildEnv(t)
	e.srv.eventPoll = 5 * time.Millisecond
	e.srv.keepAlive = 20 * time.Millisecond
	ts := httptest.NewServer(e.h)
	t.Cleanup(ts.Close)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()

	sr := e.openEvents(ctx, ts, "", "")
	for {
		m, err := sr.next()
		if err != nil {
			t.Fatalf("reading the feed: %v", err)
		}
		if m.comment == "keep-alive" {
			break
		}
	}
	// The client goes away: the handler returns (and logs its request line).
	leaving, leave := context.WithCancel(ctx)
	gone := e.openEvents(leaving, ts, "", "")
	if _, err := gone.next(); err != nil {
		t.Fatal(err)
	}
	leave()
	for strings.Count(e.logs.String(), "route=/api/v1/events") < 1 {
		if ctx.Err() != nil {
			t.Fatal("the events handler did not return after the client left")
		}
		time.Sleep(5 * time.Millisecond)
	}

	// The server shuts down: open streams end, and new ones at once.
	e.srv.EndStreams()
	for {
		if _, err := sr.next(); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("after EndStreams: %v; want the end of the stream", err)
		}
	}
	later := e.openEvents(ctx, ts, "after=0", "")
	for {
		if _, err := later.next(); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("a stream opened after EndStreams: %v; want its end", err)
		}
	}
}

func TestEventsList(t *testing.T) {
	e, _ := newBuildEnv(t)
	e.createProject("blog")
	e.createComponent("blog", "api")
	e.newBuild("shop", "api", "b-1")
	e.newBuild("blog", "api", "b-2")
	last := e.lastSeq()

	var all api.EventList
	e.must(http.StatusOK, http.MethodGet, "/api/v1/events?follow=false", e.viewer, nil, &all)
	if len(all.Events) != int(last) || all.Last != last || all.More || all.Events[0].Seq != 1 {
		t.Fatalf("every event: %+v, want seq 1..%d", all, last)
	}
	for _, ev := range all.Events {
		if ev.Kind == api.EventProject && ev.Component != "" || ev.Project == "" {
			t.Errorf("event %+v", ev)
		}
	}

	// Accept: application/json asks for the list too; a filter keeps the matching events, and Last moves past
	// the rest.
	req := httptest.NewRequest(http.MethodGet, "/api/v1/events?project=shop&component=api&after=2", nil)
	req.Header.Set("Authorization", "Bearer "+e.viewer)
	req.Header.Set("Accept", "application/json")
	rec := serve(e.h, req)
	var shop api.EventList
	if err := json.Unmarshal(rec.Body.Bytes(), &shop); rec.Code != http.StatusOK || err != nil {
		t.Fatalf("status %d, %v: %s", rec.Code, err, rec.Body)
	}
	if len(shop.Events) != 1 || shop.Last != last {
		t.Fatalf("shop/api after 2: %+v, want only b-1 and last %d", shop, last)
	}
	wantEvent(t, shop.Events[0], api.EventBuild, "shop", "api", "b-1")
	rec = e.must(http.StatusOK, http.MethodGet, "/api/v1/events?follow=false&after="+strconv.FormatInt(last, 10), e.viewer, nil, nil)
	if got := strings.TrimSpace(rec.Body.String()); got != `{"events":[],"last":`+strconv.FormatInt(last, 10)+`}` {
		t.Errorf("nothing new: %s", got)
	}

	wantError(t, e.do(http.MethodGet, "/api/v1/events?follow=false", "", nil), http.StatusUnauthorized, "unauthorized", "")
	wantError(t, e.do(http.MethodGet, "/api/v1/events", "", nil), http.StatusUnauthorized, "unauthorized", "")
	wantError(t, e.do(http.MethodGet, "/api/v1/events?after=-1", e.viewer, nil), http.StatusUnprocessableEntity, "invalid", "after")
	wantError(t, e.do(http.MethodGet, "/api/v1/events?after=x", e.viewer, nil), http.StatusUnprocessableEntity, "invalid", "after")
	wantError(t, e.do(http.MethodGet, "/api/v1/events?follow=maybe", e.viewer, nil), http.StatusUnprocessableEntity, "invalid", "follow")
	wantError(t, e.do(http.MethodGet, "/api/v1/events?project=Shop_1", e.viewer, nil), http.StatusUnprocessableEntity, "invalid", "project")
	wantError(t, e.do(http.MethodGet, "/api/v1/events?component=-x", e.viewer, nil), http.StatusUnprocessableEntity, "invalid", "component")
	req = httptest.NewRequest(http.MethodGet, "/api/v1/events", nil)
	req.Header.Set("Authorization", "Bearer "+e.viewer)
	req.Header.Set("Last-Event-ID", "seven")
	wantError(t, serve(e.h, req), http.StatusUnprocessableEntity, "invalid", "Last-Event-ID")
}
