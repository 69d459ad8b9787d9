package cli

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slipway-dev/slipway/secretbox"
)

func envOf(m map[string]string) Env {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestParseTakesVariablesUnlessFlagGiven(t *testing.T) {
	r := &runner{env: envOf(map[string]string{
		"SLIPWAY_DATA_DIR":     "/var/lib/slipway",
		"SLIPWAY_HTTP":         "0.0.0.0:9000",
		"SLIPWAY_TEMPORAL_TLS": "true",
	}), stderr: &bytes.Buffer{}}
	fs := r.flags("test")
	dataDir := fs.String("data-dir", ".slipway", "")
	httpAddr := fs.String("http", "127.0.0.1:8080", "")
	tls := fs.Bool("temporal-tls", false, "")
	ui := fs.String("ui", "127.0.0.1:8233", "")
	if err := r.parse(fs, []string{"--http", "127.0.0.1:0"}); err != nil {
		t.Fatal(err)
	}
	if *dataDir != "/var/lib/slipway" || !*tls {
		t.Fatalf("variables not applied: data-dir=%q temporal-tls=%v", *dataDir, *tls)
	}
	if *httpAddr != "127.0.0.1:0" {
		t.Fatalf("--http = %q, the flag must win over SLIPWAY_HTTP", *httpAddr)
	}
	if *ui != "127.0.0.1:8233" {
		t.Fatalf("--ui = %q, want its default", *ui)
	}
}

func TestParseNamesBadVariable(t *testing.T) {
	r := &runner{env: envOf(map[string]string{"SLIPWAY_TEMPORAL_TLS": "maybe"}), stderr: &bytes.Buffer{}}
	fs := r.flags("test")
	fs.Bool("temporal-tls", false, "")
	err := r.parse(fs, nil)
	if err == nil || !strings.Contains(err.Error(), "SLIPWAY_TEMPORAL_TLS") {
		t.Fatalf("error = %v, want one naming SLIPWAY_TEMPORAL_TLS", err)
	}
}

func TestMainRejectsBadInvocations(t *testing.T) {
	cases := []struct {
		args []string
		code int
		want string
	}{
		{nil, 2, "usage: slipway"},
		{[]string{"fly"}, 2, `unknown command "fly"`},
		{[]string{"server"}, 1, "--db is required"},
		{[]string{"worker", "--db", "sqlite:///x.db"}, 1, "--kek-file is required"},
		{[]string{"dev", "--tls-cert", "c.pem"}, 1, "--tls-cert and --tls-key must be given together"},
		{[]string{"dev", "extra"}, 1, `unexpected argument "extra"`},
		{[]string{"keys", "spin"}, 1, `unknown keys command "spin"`},
		{[]string{"token", "create", "--name", "x", "--data-dir", "/nonexistent"}, 1, "no running slipway dev found"},
	}
	for _, c := range cases {
		var stdout, stderr bytes.Buffer
		code := Main(context.Background(), c.args, envOf(nil), &stdout, &stderr)
		if code != c.code || !strings.Contains(stderr.String(), c.want) {
			t.Errorf("slipway %v: exit %d, stderr %q; want exit %d and %q", c.args, code, stderr.String(), c.code, c.want)
		}
	}
}

func TestKeysRotateOfflineAddsAnActiveKEK(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kek.json")
	var stdout, stderr bytes.Buffer
	if code := Main(context.Background(), []string{"keys", "create", "--kek-file", path}, envOf(nil), &stdout, &stderr); code != 0 {
		t.Fatalf("keys create: exit %d: %s", code, stderr.String())
	}
	k, err := secretbox.LoadKeyring(path)
	if err != nil {
		t.Fatal(err)
	}
	first := k.ActiveID()
	stdout.Reset()
	if code := Main(context.Background(), []string{"keys", "rotate", "--kek-file", path}, envOf(nil), &stdout, &stderr); code != 0 {
		t.Fatalf("keys rotate --kek-file: exit %d: %s", code, stderr.String())
	}
	if err := k.Reload(); err != nil {
		t.Fatal(err)
	}
	if k.ActiveID() == first || !strings.Contains(stdout.String(), "--kek "+k.ActiveID()) {
		t.Fatalf("active KEK %s (was %s); output %q", k.ActiveID(), first, stdout.String())
	}
	if err := k.Require([]string{first}); err != nil {
		t.Fatalf("the old KEK was dropped: %v", err)
	}
}
