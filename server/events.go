package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/slipway-dev/slipway/api"
	"github.com/slipway-dev/slipway/store"
)

const (
	// defaultEventPoll is how often a followed change feed asks the store for new events.
	defaultEventPoll = 250 * time.Millisecond
	// defaultKeepAlive is how long a followed change feed may stay silent before it sends a comment, so that
	// proxies and browsers do not take it for dead.
	defaultKeepAlive = 15 * time.Second
	// eventBatch is how many events one store read returns, and the most one JSON answer holds.
	eventBatch = 500
	// mimeEventStream is the content type of server-sent events.
	mimeEventStream = "text/event-stream"
)

// eventFilter selects the events of one project and, optionally, one component of it; "" matches any.
type eventFilter struct{ project, component string }

func (f eventFilter) match(e store.Event) bool {
	return (f.project == "" || e.Project == f.project) && (f.component == "" || e.Component == f.component)
}

// events answers GET /api/v1/events[?project=P][&component=C][&after=N][&follow=false]: slipway's change feed.
//
// By default it is a stream of server-sent events (text/event-stream) that stays open: each change is one
// message `id: <seq>`, `event: <kind>` (an api.Event* kind), `data: <api.Event as JSON>`. It starts after the
// seq in the Last-Event-ID header (an EventSource's reconnect), else after ?after=N, else after the newest event
// (only new changes). project and component keep only the events about them; the stream still sends a bare
// `id:` message when it has read past events it left out (and once when it opens), so a client that
// reconnects resumes where it was, without duplicates. A `: keep-alive` comment is sent after keepAlive of
// silence. The stream ends when the client goes away or the server shuts down (EndStreams).
//
// With follow=false, or an Accept header asking for application/json (and not for text/event-stream), it
// answers at once with an api.EventList of the matching events after the cursor (default 0: every event kept).
func (s *Server) events(c echo.Context) error {
	f := eventFilter{project: c.QueryParam("project"), component: c.QueryParam("component")}
	if f.project != "" {
		if err := checkName("project", f.project); err != nil {
			return err
		}
	}
	if f.component != "" {
		if err := checkName("component", f.component); err != nil {
			return err
		}
	}
	after, given, err := eventCursor(c)
	if err != nil {
		return err
	}
	accept := c.Request().Header.Get(echo.HeaderAccept)
	follow := !strings.Contains(accept, echo.MIMEApplicationJSON) || strings.Contains(accept, mimeEventStream)
	if v := c.QueryParam("follow"); v != "" {
		if follow, err = strconv.ParseBool(v); err != nil {
			return invalid("follow", "follow must be true or false")
		}
	}
	ctx := c.Request().Context()
	if !follow {
		list, err := s.eventList(c, f, after)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, list)
	}
	if !given { // read before the status line, so a failure is still a JSON error
		if after, err = s.store.LastEventSeq(ctx); err != nil {
			return err
		}
	}
	st := s.startStream(c, mimeEventStream, true)
	return s.followEvents(st, f, after)
}

// eventCursor returns the seq to start after: the Last-Event-ID header's, else the after parameter's; given
// is false when there is neither.
func eventCursor(c echo.Context) (after int64, given bool, err error) {
	field, v := "Last-Event-ID", c.Request().Header.Get("Last-Event-ID")
	if v == "" {
		field, v = "after", c.QueryParam("after")
	}
	if v == "" {
		return 0, false, nil
	}
	n, perr := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if perr != nil || n < 0 {
		return 0, false, invalid(field, "%s must be an event seq (a whole number, 0 or more)", field)
	}
	return n, true, nil
}

// eventList reads the events after after that f matches, at most eventBatch of them.
func (s *Server) eventList(c echo.Context, f eventFilter, after int64) (api.EventList, error) {
	list := api.EventList{Events: []api.Event{}, Last: after}
	for {
		evs, err := s.store.Events(c.Request().Context(), list.Last, eventBatch)
		if err != nil {
			return api.EventList{}, err
		}
		for _, e := range evs {
			if len(list.Events) == eventBatch {
				list.More = true
				return list, nil
			}
			list.Last = e.Seq
			if f.match(e) {
				list.Events = append(list.Events, apiEvent(e))
			}
		}
		if len(evs) < eventBatch {
			return list, nil
		}
	}
}

// followEvents sends the events after after that f matches as they are committed, until the stream ends.
func (s *Server) followEvents(st *stream, f eventFilter, after int64) error {
	tick := time.NewTicker(s.eventPoll)
	defer tick.Stop()
	// told is the seq the client would resume after; the first message tells it where it starts.
	told := int64(-1)
	var buf []byte
	lastWrite := time.Now()
	for {
		for {
			evs, err := s.store.Events(st.ctx, after, eventBatch)
			if err != nil {
				return st.gone(err)
			}
			buf = buf[:0]
			for _, e := range evs {
				after = e.Seq
				if !f.match(e) {
					continue
				}
				if buf, err = appendSSE(buf, e); err != nil {
					return err
				}
				told = e.Seq
			}
			if after != told {
				buf = fmt.Appendf(buf, "id: %d\n\n", after)
				told = after
			}
			if len(buf) > 0 {
				if err := st.write("events", buf); err != nil {
					return st.gone(err)
				}
				lastWrite = time.Now()
			}
			if len(evs) < eventBatch {
				break
			}
		}
		if !st.wait(tick.C) {
			return nil
		}
		if time.Since(lastWrite) >= s.keepAlive {
			if err := st.write("events", []byte(": keep-alive\n\n")); err != nil {
				return st.gone(err)
			}
			lastWrite = time.Now()
		}
	}
}

// appendSSE appends e to buf as one server-sent event.
func appendSSE(buf []byte, e store.Event) ([]byte, error) {
	data, err := json.Marshal(apiEvent(e))
	if err != nil {
		return buf, fmt.Errorf("encoding event %d: %w", e.Seq, err)
	}
	buf = fmt.Appendf(buf, "id: %d\nevent: %s\ndata: ", e.Seq, e.Kind)
	buf = append(buf, data...)
	return append(buf, '\n', '\n'), nil
}

// apiEvent is e as the API shows it.
func apiEvent(e store.Event) api.Event {
	return api.Event{Seq: e.Seq, At: e.At, Kind: e.Kind, Project: e.Project, Component: e.Component,
		Environment: e.Environment, Ref: e.Ref}
}
