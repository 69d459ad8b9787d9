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
	id := c.Param("id")
	return s.serveLog(c, logSource{
		what: "build log",
		read: func(ctx context.Context, after int64) ([]store.LogLine, error) {
			return s.store.BuildLog(ctx, id, after, logBatch)
		},
		ended: func(ctx context.Context) (bool, error) {
			b, err := s.store.GetBuild(ctx, id)
			return buildFinished(b.Status), err
		},
	})
}

// taskRunLogs answers GET /api/v1/runs/{run}/logs[?after=N][&follow=true]: a task run's output, as buildLogs
// answers a build's log.
func (s *Server) taskRunLogs(c echo.Context) error {
	id := c.Param("run")
	return s.serveLog(c, logSource{
		what: "task run log",
		read: func(ctx context.Context, after int64) ([]store.LogLine, error) {
			return s.store.TaskRunLog(ctx, id, after, logBatch)
		},
		ended: func(ctx context.Context) (bool, error) {
			r, err := s.store.GetTaskRun(ctx, id)
			return runFinished(r.Status), err
		},
	})
}

// logSource is a log serveLog sends: what names it in errors, read returns the lines after a line number (at
// most logBatch) and ended says whether its owner (a build, a run) has ended, so no line comes after.
type logSource struct {
	what  string
	read  func(ctx context.Context, after int64) ([]store.LogLine, error)
	ended func(ctx context.Context) (bool, error)
}

// serveLog answers a log's GET with its after and follow parameters (see buildLogs).
func (s *Server) serveLog(c echo.Context, src logSource) error {
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
	// The first reads happen before the status line, so a missing build is still a JSON 404. Whether the build
	// has ended is read before its lines, so no line appended before its end is missed.
	ended := false
	if follow {
		var err error
		if ended, err = src.ended(ctx); err != nil {
			return err
		}
	}
	lines, err := src.read(ctx, after)
	if err != nil {
		return err
	}

	st := s.startStream(c, echo.MIMETextPlainCharsetUTF8, follow)
	lw := logWriter{st: st, what: src.what}
	if !follow {
		for {
			if err := lw.write(lines); err != nil {
				return st.gone(err)
			}
			if len(lines) < logBatch {
				return nil
			}
			if lines, err = src.read(ctx, lw.last(after)); err != nil {
				return st.gone(err)
			}
		}
	}
	return s.followLog(ctx, src, &lw, after, lines, ended)
}

// followLog sends the lines already read, then polls the store for more until the build has ended (ended says
// whether it had before lines were read) and no line is left.
func (s *Server) followLog(ctx context.Context, src logSource, lw *logWriter, after int64, lines []store.LogLine, ended bool) error {
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
			if lines, err = src.read(ctx, after); err != nil {
				return lw.st.gone(err)
			}
		}
		if ended || !lw.st.wait(tick.C) {
			return nil
		}
		var err error
		if ended, err = src.ended(ctx); err != nil {
			return lw.st.gone(err)
		}
		if lines, err = src.read(ctx, after); err != nil {
			return lw.st.gone(err)
		}
	}
}

// logWriter writes log lines as text to st, one batch per write.
type logWriter struct {
	st   *stream
	what string
	buf  []byte
	seq  int64
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
	return lw.st.write(lw.what, lw.buf)
}

// last is the number of the last line written, or after when none has been.
func (lw *logWriter) last(after int64) int64 { return max(lw.seq, after) }
