package server

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
)

// stream is a 200 response written in pieces: a build log, or the change feed. A live stream stays open and
// flushes every piece; it ends when its handler returns, which it does once wait says so.
type stream struct {
	ctx  context.Context
	w    *echo.Response
	live bool
	// done is closed by EndStreams.
	done <-chan struct{}
}

// startStream sends the status line and headers of a stream of contentType, never cached nor sniffed. When live,
// proxies are told not to buffer it, the server's write deadline is lifted (a live stream outlives it) and the
// headers are flushed at once, so the client sees the stream open before the first piece.
func (s *Server) startStream(c echo.Context, contentType string, live bool) *stream {
	w := c.Response()
	w.Header().Set(echo.HeaderContentType, contentType)
	w.Header().Set(echo.HeaderXContentTypeOptions, "nosniff") // or browsers buffer the stream to sniff it
	w.Header().Set("Cache-Control", "no-store")
	if live {
		w.Header().Set("X-Accel-Buffering", "no") // nginx and the like: pass each piece on at once
		// A failure only means there is no deadline to lift.
		_ = http.NewResponseController(w).SetWriteDeadline(time.Time{})
	}
	w.WriteHeader(http.StatusOK)
	if live {
		w.Flush()
	}
	return &stream{ctx: c.Request().Context(), w: w, live: live, done: s.streamsDone}
}

// write sends p, flushing it when the stream is live; what names the stream in errors.
func (st *stream) write(what string, p []byte) error {
	if _, err := st.w.Write(p); err != nil {
		return fmt.Errorf("writing %s: %w", what, err)
	}
	if st.live {
		st.w.Flush()
	}
	return nil
}

// wait blocks until tick fires and reports true, or reports false once the client has gone away or EndStreams
// was called: the stream should end then.
func (st *stream) wait(tick <-chan time.Time) bool {
	select {
	case <-st.ctx.Done():
		return false
	case <-st.done:
		return false
	case <-tick:
		return true
	}
}

// gone turns an error after the stream has started into nil when the client has gone away (nothing is wrong
// then), and returns it otherwise to be logged: the status line has been sent, so it cannot be answered.
func (st *stream) gone(err error) error { return clientGone(st.ctx, err) }

// clientGone is stream.gone for a ctx: nil when ctx has ended, err otherwise.
func clientGone(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return nil
	}
	return err
}
