package trivyscan

import (
	"bufio"
	"bytes"
	"strings"
)

// internalNotices are what Trivy logs about its own workings that a build's reader cannot act on:
// the flags slipway runs Trivy with cause them on every scan.
var internalNotices = []string{
	// --skip-check-update without a downloaded checks bundle: Trivy uses the checks built into it.
	"No downloadable checks were loaded as --skip-check-update is enabled",
	"Falling back to embedded checks",
	// Advice to Trivy's command-line users; slipway chooses the scanners.
	"If your scanning is slow, please try",
	"for faster secret detection",
}

// internalNotice says whether a line of Trivy's log is one of internalNotices.
func internalNotice(line string) bool {
	for _, n := range internalNotices {
		if strings.Contains(line, n) {
			return true
		}
	}
	return false
}

// tail passes Trivy's stderr lines on, its internal notices apart, and keeps the last few for errors.
type tail struct {
	// log receives the lines for the build log; nil drops them.
	log func(string)
	// notice receives Trivy's internal notices; nil drops them.
	notice func(string)
	buf    bytes.Buffer
	lines  []string
}

func (t *tail) Write(p []byte) (int, error) {
	t.buf.Write(p)
	for {
		line, err := t.buf.ReadString('\n')
		if err != nil {
			t.buf.WriteString(line) // an unfinished line waits for the rest
			return len(p), nil
		}
		t.add(strings.TrimRight(line, "\r\n"))
	}
}

func (t *tail) add(line string) {
	if line == "" {
		return
	}
	to := t.log
	if internalNotice(line) {
		to = t.notice
	}
	if to != nil {
		to(line)
	}
	t.lines = append(t.lines, line)
	if len(t.lines) > 8 {
		t.lines = t.lines[1:]
	}
}

// String is the last lines written, the unfinished one included.
func (t *tail) String() string {
	if rest := t.buf.String(); rest != "" {
		t.add(rest)
		t.buf.Reset()
	}
	return strings.Join(t.lines, "\n")
}

func lastLine(s string, err error) string {
	sc := bufio.NewScanner(strings.NewReader(s))
	last := ""
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			last = l
		}
	}
	if last == "" {
		return err.Error()
	}
	return last
}
