package server

import (
	"context"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/slipway-dev/slipway/store"
)

// logBatch is how many log lines one store read returns.
const logBatch = 1000

// defaultLogPoll is how often a followed log asks the store for new lines.
const defaultLogPoll = 200 * time.Millisecond

// buildLogs answers GET /api/v1/builds/{id}/logs[?after=N][&follow=true] as text/plain, one log line per line.
// after=N starts after line N (lines are numbered from 1 without gaps, so a client that has read k lines resumes
// with after=k). With follow=true the response stays open and new lines are sent (and flushed) as the worker
// appends them to the store, until the build has ended and every line is sent, the client goes away or the
// server shuts down. Logs come only from the store, so they follow a worker in another process.
func (s *Server) buildLogs(c echo.Context) error {
	var after int64
	if v := c.QueryParam("after"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return invalid("after", "after must be a line number (a whole number, 0 or more)")
		}
		after = n
	}
	follow := false
	if v := c.QueryParam("follow"); v != "" {
		f, err := strconv.ParseBool(v)
		if err != nil {
			return invalid("follow", "follow must be true or false")
		}
		follow = f
	}
	ctx := c.Request().Context()
	id := c.Param("id")
	// The first reads happen before the status line, so a missing build is still a JSON 404. Whether the build
	// has ended is read before its lines, so no line appended before its end is missed.
	ended := false
	if follow {
		b, err := s.store.GetBuild(ctx, id)
		if err != nil {
			return err
		}
		ended = buildFinished(b.Status)
	}
	lines, err := s.store.BuildLog(ctx, id, after, logBatch)
	if err != nil {
		return err
	}

	st := s.startStream(c, echo.MIMETextPlainCharsetUTF8, follow)
	lw := logWriter{st: st}
	if !follow {
		for {
			if err := lw.write(lines); err != nil {
				return st.gone(err)
			}
			if len(lines) < logBatch {
				return nil
			}
			if lines, err = s.store.BuildLog(ctx, id, lw.last(after), logBatch); err != nil {
				return st.gone(err)
			}
		}
	}
	return s.followLog(ctx, id, &lw, after, lines, ended)
}

// followLog sends the lines already read, then polls the store for more until the build has ended (ended says
// whether it had before lines were read) and no line is left.
func (s *Server) followLog(ctx context.Context, id string, lw *logWriter, after int64, lines []store.LogLine, ended bool) error {
	tick := time.NewTicker(s.logPoll)
	defer tick.Stop()
	for {
		for {
			if err := lw.write(lines); err != nil {
				return lw.st.gone(err)
			}
			after = lw.last(after)
			if len(lines) < logBatch {
				break
			}
			var err error
			if lines, err = s.store.BuildLog(ctx, id, after, logBatch); err != nil {
				return lw.st.gone(err)
			}
		}
		if ended || !lw.st.wait(tick.C) {
			return nil
		}
		b, err := s.store.GetBuild(ctx, id)
		if err != nil {
			return lw.st.gone(err)
		}
		ended = buildFinished(b.Status)
		if lines, err = s.store.BuildLog(ctx, id, after, logBatch); err != nil {
			return lw.st.gone(err)
		}
	}
}

// logWriter writes log lines as text to st, one batch per write.
type logWriter struct {
	st  *stream
	buf []byte
	seq int64
}

// write sends lines, flushed when following.
func (lw *logWriter) write(lines []store.LogLine) error {
	if len(lines) == 0 {
		return nil
	}
	lw.buf = lw.buf[:0]
	for _, l := range lines {
		lw.buf = append(lw.buf, l.Text...)
		lw.buf = append(lw.buf, '\n')
	}
	lw.seq = lines[len(lines)-1].Seq
	return lw.st.write("build log", lw.buf)
}

// last is the number of the last line written, or after when none has been.
func (lw *logWriter) last(after int64) int64 { return max(lw.seq, after) }
