package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/slipway-dev/slipway/api"
)

// Reading a log again: after a dropped connection, an error answer that may pass, or a followed stream that
// ended before its build did, the log is read again after the last line printed, up to followRetries times in a
// row without a new line, waiting followBackoff first and twice as long each time after.
const (
	followRetries = 5
	followBackoff = 250 * time.Millisecond
)

// The progress line is shown on stderr, when it is a terminal, while a followed build has printed no line for
// progressQuiet; it is refreshed every progressTick.
const (
	progressQuiet = 3 * time.Second
	progressTick  = time.Second
)

// spinner holds the frames of the progress line's spinner.
const spinner = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"

func (r *runner) logsCmd() *cobra.Command {
	var follow bool
	cmd := &cobra.Command{Use: "logs <build-id>|<run-id> [-f]", Short: "print a build's log or a task run's output; -f follows it until the build or run ends",
		Args: args("<build-id>"), ValidArgsFunction: r.completeBuildIDs}
	cf := addClientFlags(cmd.Flags())
	cmd.Flags().BoolVarP(&follow, "follow", "f", false, "print new lines until the build ends, then how it ended; exit 1 unless it succeeded")
	cmd.RunE = func(cmd *cobra.Command, pos []string) error {
		c, err := cf.connect()
		if err != nil {
			return err
		}
		if isRunID(pos[0]) {
			return r.runOutput(cmd.Context(), c, pos[0], follow)
		}
		return r.followLog(cmd.Context(), c, pos[0], follow)
	}
	return cmd
}

// followLog prints the build's log to stdout. With follow it prints new lines as they come until the build has
// ended, then how it ended to stderr, and returns exitError 1 unless the build succeeded. A read cut short is
// resumed after the last whole line printed, so no line is lost or printed twice.
func (r *runner) followLog(ctx context.Context, c *apiClient, id string, follow bool) error {
	out := &logOutput{stdout: r.stdout, stderr: r.stderr, last: time.Now()}
	stopProgress := func() {}
	if follow && isTerminal(r.stderr) {
		pctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() {
			defer close(done)
			out.showProgress(pctx, c, id)
		}()
		stopProgress = sync.OnceFunc(func() {
			cancel()
			<-done
			out.clearProgress()
		})
	}
	defer stopProgress()

	backoff := r.backoff
	if backoff <= 0 {
		backoff = followBackoff
	}
	var seen int64
	var b api.Build
	ended := !follow // once the build has ended, one plain read gets what the last stream did not
	for failures := 0; ; {
		n, err := c.readLog(ctx, id, seen, !ended, out.line)
		seen += n
		if n > 0 {
			failures = 0
		}
		if err == nil && ended {
			break
		}
		if err == nil {
			// A followed log ends when its build has, or when the server stops: ask which.
			if err = c.do(ctx, http.MethodGet, buildPath(id), nil, &b); err == nil {
				if finished(b.Status) {
					ended = true
					continue
				}
				err = fmt.Errorf("the log stream ended while the build is %s", b.Status)
			}
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if !retryable(err) {
			return err
		}
		if failures++; failures > followRetries {
			return fmt.Errorf("reading the log of build %s: giving up after %d attempts: %w", id, failures, err)
		}
		wait := backoff << (failures - 1)
		out.note("slipway: reading the log of build %s: %v; resuming after line %d in %s\n", id, err, seen, wait)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
	}
	if !follow {
		return nil
	}
	stopProgress()
	fmt.Fprintln(r.stderr, outcome(b))
	if b.Status != api.BuildSucceeded {
		return exitError{1}
	}
	return nil
}

// readLog reads the build's log after line number after, with follow=true when follow, and passes each whole line
// (newline included) to emit; it returns how many it passed. A followed read's unfinished last line is dropped,
// as the stream may have been cut in the middle of it; a plain read's is passed with a newline added.
func (c *apiClient) readLog(ctx context.Context, id string, after int64, follow bool, emit func(string) error) (int64, error) {
	q := url.Values{}
	if after > 0 {
		q.Set("after", strconv.FormatInt(after, 10))
	}
	if follow {
		q.Set("follow", "true")
	}
	path := buildPath(id) + "/logs"
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	body, err := c.stream(ctx, path)
	if err != nil {
		return 0, err
	}
	defer body.Close()
	br := bufio.NewReader(body)
	var n int64
	for {
		line, err := br.ReadString('\n')
		if err == io.EOF && !follow && line != "" {
			line, err = line+"\n", nil
		}
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, fmt.Errorf("reading the log of build %s: %w", id, err)
		}
		if err := emit(line); err != nil {
			return n, &outputError{err}
		}
		n++
	}
}

// outputError is a failure to write the log out: reading it again would not help.
type outputError struct{ err error }

func (e *outputError) Error() string { return "writing the log: " + e.err.Error() }
func (e *outputError) Unwrap() error { return e.err }

// retryable reports whether reading a log again may succeed where err failed: not after an API refusal (4xx
// other than 429) or when the log cannot be written out.
func retryable(err error) bool {
	var apiErr *apiError
	if errors.As(err, &apiErr) {
		return apiErr.temporary()
	}
	var out *outputError
	return !errors.As(err, &out)
}

// outcome is the line that says how a build ended, such as "build b-1 failed after 12s: RUN exited 1".
func outcome(b api.Build) string {
	s := "build " + b.ID + " " + b.Status
	if d, ok := buildDuration(b); ok {
		if b.Status == api.BuildSucceeded {
			s += " in " + d.String()
		} else {
			s += " after " + d.String()
		}
	}
	if b.Status == api.BuildSucceeded && b.Digest != "" {
		s += ": " + b.Digest
	}
	if b.Error != "" {
		s += ": " + b.Error
	}
	return s
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// logOutput writes log lines to stdout, and notes and a progress line to stderr; a log line or a note replaces
// the progress line, so the two streams do not garble each other on one terminal.
type logOutput struct {
	stdout, stderr io.Writer
	mu             sync.Mutex
	shown          bool      // a progress line is on stderr
	last           time.Time // when the last log line was written
}

// line writes one log line.
func (o *logOutput) line(s string) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.clearLocked()
	o.last = time.Now()
	_, err := io.WriteString(o.stdout, s)
	return err
}

// note writes a message to stderr.
func (o *logOutput) note(format string, args ...any) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.clearLocked()
	fmt.Fprintf(o.stderr, format, args...)
}

// clearProgress removes the progress line, if one is shown.
func (o *logOutput) clearProgress() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.clearLocked()
}

func (o *logOutput) clearLocked() {
	if o.shown {
		fmt.Fprint(o.stderr, "\r\x1b[K")
		o.shown = false
	}
}

// showProgress shows what the build is doing in a progress line while no log line has come for progressQuiet,
// until ctx ends.
func (o *logOutput) showProgress(ctx context.Context, c *apiClient, id string) {
	t := time.NewTicker(progressTick)
	defer t.Stop()
	for frame := 0; ; frame++ {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		o.mu.Lock()
		quiet := time.Since(o.last) >= progressQuiet
		o.mu.Unlock()
		if !quiet {
			continue
		}
		var b api.Build
		if err := c.do(ctx, http.MethodGet, buildPath(id), nil, &b); err != nil {
			continue // the log read reports what matters
		}
		text := progressText(b, time.Now(), frame)
		o.mu.Lock()
		fmt.Fprint(o.stderr, "\r\x1b[K"+text)
		o.shown = true
		o.mu.Unlock()
	}
}

// progressText describes a build's state at now, such as "⠹ build b-1 running: step build for 42s".
func progressText(b api.Build, now time.Time, frame int) string {
	frames := []rune(spinner)
	s := fmt.Sprintf("%c build %s %s", frames[frame%len(frames)], b.ID, b.Status)
	for _, st := range b.Steps {
		if st.Status != api.StepRunning {
			continue
		}
		s += ": step " + st.Name
		if st.StartedAt != nil {
			s += " for " + now.Sub(*st.StartedAt).Round(time.Second).String()
		}
		break
	}
	return s
}
