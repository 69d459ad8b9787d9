package trivyscan

import (
	"slices"
	"testing"
)

func TestTailKeepsTrivysInternalNoticesOutOfTheBuildLog(t *testing.T) {
	var logged, notices []string
	tl := tail{log: func(l string) { logged = append(logged, l) }, notice: func(l string) { notices = append(notices, l) }}
	lines := "2026-08-13T10:00:00Z\tINFO\t[vuln] Vulnerability scanning is enabled\n" +
		"2026-08-13T10:00:00Z\tINFO\t[checks-client] No downloadable checks were loaded as --skip-check-update is enabled, loading from existing cache...\n" +
		"2026-08-13T10:00:00Z\tERROR\t[misconfig] Falling back to embedded checks\terr=\"failed to check cache: stat /x/policy/content: no such file or directory\"\n" +
		"2026-08-13T10:00:00Z\tINFO\t[secret] Secret scanning is enabled\n" +
		"2026-08-13T10:00:00Z\tINFO\t[secret] If your scanning is slow, please try '--scanners vuln' to disable secret scanning\n" +
		"2026-08-13T10:00:00Z\tINFO\t[secret] Please see https://trivy.dev/docs/v0.74/guide/scanner/secret#recommendation for faster secret detection\n" +
		"2026-08-13T10:00:01Z\tINFO\tDetected OS\tfamily=\"alpine\" version=\"3.20.3\""
	if _, err := tl.Write([]byte(lines[:40])); err != nil {
		t.Fatal(err)
	}
	if _, err := tl.Write([]byte(lines[40:])); err != nil {
		t.Fatal(err)
	}
	last := tl.String() // flushes the unfinished last line
	want := []string{
		"2026-08-13T10:00:00Z\tINFO\t[vuln] Vulnerability scanning is enabled",
		"2026-08-13T10:00:00Z\tINFO\t[secret] Secret scanning is enabled",
		"2026-08-13T10:00:01Z\tINFO\tDetected OS\tfamily=\"alpine\" version=\"3.20.3\"",
	}
	if !slices.Equal(logged, want) {
		t.Errorf("build log got %q, want %q", logged, want)
	}
	if len(notices) != 4 {
		t.Errorf("notices %q, want the checks, fall-back and advice lines", notices)
	}
	if want := 7; len(tl.lines) != want || last == "" {
		t.Errorf("kept %d lines for errors, want all %d (notices too)", len(tl.lines), want)
	}
}
