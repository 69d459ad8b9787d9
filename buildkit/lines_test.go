package buildkit

import (
	"log/slog"
	"reflect"
	"strings"
	"testing"
)

func TestLineWriterSplitsLines(t *testing.T) {
	var got []string
	w := &lineWriter{emit: func(s string) { got = append(got, s) }}
	for _, chunk := range []string{"#1 [internal] load", " build definition\n#1 DONE 0.0s\r\n", "\n", "#2 0.41 hi\n#2 partial"} {
		if n, err := w.Write([]byte(chunk)); n != len(chunk) || err != nil {
			t.Fatalf("Write = %d, %v", n, err)
		}
	}
	want := []string{"#1 [internal] load build definition", "#1 DONE 0.0s", "", "#2 0.41 hi"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("lines %q, want %q", got, want)
	}
	w.flush()
	if last := got[len(got)-1]; last != "#2 partial" {
		t.Errorf("flush emitted %q, want the partial line", last)
	}
	w.flush()
	if len(got) != len(want)+1 {
		t.Errorf("second flush emitted again: %q", got)
	}
}

func TestLineWriterCutsOverlongLines(t *testing.T) {
	var got []string
	w := &lineWriter{emit: func(s string) { got = append(got, s) }}
	if _, err := w.Write([]byte(strings.Repeat("x", maxLine+1))); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || len(got[0]) != maxLine+1 {
		t.Fatalf("got %d lines, want the overlong one emitted", len(got))
	}
}

func TestBuildkitdLevel(t *testing.T) {
	for line, want := range map[string]slog.Level{
		`time="…" level=info msg="running server on /x.sock"`:                                          slog.LevelDebug,
		`time="…" level=debug msg="x"`:                                                                 slog.LevelDebug,
		`time="…" level=warning msg="using host network as the default"`:                               slog.LevelDebug,
		`time="…" level=warning msg="failed to create the sandbox"`:                                    slog.LevelWarn,
		`time="…" level=error msg="failed to create worker"`:                                           slog.LevelError,
		`time="…" level=fatal msg="x"`:                                                                 slog.LevelError,
		`time="…" level=error msg="/moby.buildkit.v1.Control/Solve returned error: rpc error: code …"`: slog.LevelDebug,
		`panic: runtime error`:                                                                         slog.LevelWarn,
		// Its warnings at every start are no news.
		`time="…" level=warning msg="CDI setup error /etc/cdi: failed to monitor for changes: no such file or directory"`:        slog.LevelDebug,
		`time="…" level=warning msg="failed check for fsverity support" error="enable fsverity failed: operation not supported"`: slog.LevelDebug,
		`time="…" level=warning msg="currently, only the default worker can be used."`:                                           slog.LevelDebug,
	} {
		if got := buildkitdLevel(line); got != want {
			t.Errorf("buildkitdLevel(%q) = %v, want %v", line, got, want)
		}
	}
}

func TestOutputLogKeepsTheTail(t *testing.T) {
	o := newOutputLog(slog.New(slog.DiscardHandler))
	if o.tail() != "" {
		t.Errorf("tail of nothing = %q", o.tail())
	}
	for i := range tailLines + 5 {
		if _, err := o.Write([]byte(strings.Repeat("l", i+1) + "\n")); err != nil {
			t.Fatal(err)
		}
	}
	tail := o.tail()
	if strings.Contains(tail, "\nl\n") || !strings.HasSuffix(tail, strings.Repeat("l", tailLines+5)) {
		t.Errorf("tail = %q, want the last %d lines", tail, tailLines)
	}
}
