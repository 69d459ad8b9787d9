package buildkit

import (
	"bytes"
	"context"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// maxLine bounds one line held back while waiting for its newline; a longer one is cut there.
const maxLine = 64 << 10

// lineWriter is an io.Writer that calls emit once per complete line, without the newline (and
// without a trailing carriage return). It is safe for concurrent use.
type lineWriter struct {
	mu   sync.Mutex
	buf  []byte
	emit func(string)
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		w.emit(strings.TrimSuffix(string(w.buf[:i]), "\r"))
		w.buf = w.buf[i+1:]
	}
	if len(w.buf) > maxLine {
		w.emit(string(w.buf))
		w.buf = w.buf[:0]
	}
	return len(p), nil
}

// flush emits a last line that has no newline.
func (w *lineWriter) flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.buf) > 0 {
		w.emit(strings.TrimSuffix(string(w.buf), "\r"))
		w.buf = nil
	}
}

// outputLog takes buildkitd's stdout and stderr: it logs each line at the level buildkitd gave it
// and keeps the last tailLines lines for start errors.
type outputLog struct {
	lineWriter
	logger *slog.Logger
	quiet  atomic.Bool // log every line at debug level: buildkitd is being stopped

	tailMu sync.Mutex
	last   []string
}

func newOutputLog(logger *slog.Logger) *outputLog {
	o := &outputLog{logger: logger}
	o.emit = o.line
	return o
}

func (o *outputLog) line(s string) {
	if s == "" {
		return
	}
	level := buildkitdLevel(s)
	if o.quiet.Load() {
		level = slog.LevelDebug
	}
	o.logger.Log(context.Background(), level, "buildkitd", "line", s)
	o.tailMu.Lock()
	defer o.tailMu.Unlock()
	o.last = append(o.last, s)
	if len(o.last) > tailLines {
		o.last = o.last[len(o.last)-tailLines:]
	}
}

// tail returns the last lines of output, for an error message, or "" when there were none.
func (o *outputLog) tail() string {
	o.tailMu.Lock()
	defer o.tailMu.Unlock()
	if len(o.last) == 0 {
		return ""
	}
	return "; buildkitd's last output:\n" + strings.Join(o.last, "\n")
}

// startupNotices are the warnings buildkitd prints at every start on an ordinary machine, about
// what slipway does not use; they say nothing is wrong.
var startupNotices = []string{
	`msg="CDI setup error `,                                 // no Container Device Interface (GPU) spec directories
	`msg="using host network as the default"`,               // --build-network host: build steps share the host's network, as asked
	`msg="failed check for fsverity support"`,               // the file system lacks fs-verity, which BuildKit only tries
	`msg="currently, only the default worker can be used."`, // slipway runs one worker
}

// buildkitdLevel maps the level of a buildkitd (logrus) line to slog's. Info and below go to
// debug because buildkitd is chatty at info, and so do the errors of its gRPC methods, such as a
// failed build (the client gets them and reports them), and its startupNotices.
func buildkitdLevel(line string) slog.Level {
	switch {
	case strings.Contains(line, "/moby.buildkit.v1.") && strings.Contains(line, " returned error: "):
		return slog.LevelDebug
	case slices.ContainsFunc(startupNotices, func(n string) bool { return strings.Contains(line, n) }):
		return slog.LevelDebug
	case strings.Contains(line, "level=error"), strings.Contains(line, "level=fatal"), strings.Contains(line, "level=panic"):
		return slog.LevelError
	case strings.Contains(line, "level=warning"):
		return slog.LevelWarn
	case strings.Contains(line, "level="):
		return slog.LevelDebug
	default: // not a log record: a panic trace or a message printed before logging was set up
		return slog.LevelWarn
	}
}
