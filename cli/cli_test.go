package cli

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"github.com/slipway-dev/slipway/secretbox"
)

func envOf(m map[string]string) Env {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestVariablesApplyUnlessFlagGiven(t *testing.T) {
	r := &runner{env: envOf(map[string]string{
		"SLIPWAY_DATA_DIR":     "/var/lib/slipway",
		"SLIPWAY_HTTP":         "0.0.0.0:9000",
		"SLIPWAY_TEMPORAL_TLS": "true",
		"SLIPWAY_F":            "true",
	}), stderr: &bytes.Buffer{}}
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	dataDir := fs.String("data-dir", ".slipway", "")
	httpAddr := fs.String("http", "127.0.0.1:8080", "")
	tls := fs.Bool("temporal-tls", false, "")
	ui := fs.String("ui", "127.0.0.1:8233", "")
	follow := fs.BoolP("follow", "f", false, "")
	if err := fs.Parse([]string{"--http", "127.0.0.1:0"}); err != nil {
		t.Fatal(err)
	}
	if err := r.applyEnv(fs); err != nil {
		t.Fatal(err)
	}
	if *dataDir != "/var/lib/slipway" || !*tls {
		t.Fatalf("variables not applied: data-dir=%q temporal-tls=%v", *dataDir, *tls)
	}
	if *httpAddr != "127.0.0.1:0" {
		t.Fatalf("--http = %q, the flag must win over SLIPWAY_HTTP", *httpAddr)
	}
	if *ui != "127.0.0.1:8233" || *follow {
		t.Fatalf("--ui = %q, --follow = %v: want their defaults (a short form has no variable)", *ui, *follow)
	}
}

func TestBadVariableIsAUsageErrorNamingIt(t *testing.T) {
	r := &runner{env: envOf(map[string]string{"SLIPWAY_TEMPORAL_TLS": "maybe"}), stderr: &bytes.Buffer{}}
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	fs.Bool("temporal-tls", false, "")
	if err := r.applyEnv(fs); err == nil || !strings.Contains(err.Error(), "SLIPWAY_TEMPORAL_TLS") {
		t.Fatalf("error = %v, want one naming SLIPWAY_TEMPORAL_TLS", err)
	}
	var stdout, stderr bytes.Buffer
	code := Main(context.Background(), []string{"worker"}, envOf(map[string]string{"SLIPWAY_TEMPORAL_TLS": "maybe"}), IO{Out: &stdout, Err: &stderr})
	if code != exitUsage || !strings.Contains(stderr.String(), "SLIPWAY_TEMPORAL_TLS") {
		t.Fatalf("slipway worker with SLIPWAY_TEMPORAL_TLS=maybe: exit %d, stderr %q; want exit 2 naming it", code, stderr.String())
	}
}

func TestHelpListsVerbsAndExitCodes(t *testing.T) {
	for _, args := range [][]string{nil, {"--help"}, {"help"}} {
		var stdout, stderr bytes.Buffer
		code := Main(context.Background(), args, envOf(nil), IO{Out: &stdout, Err: &stderr})
		for _, want := range []string{"project", "component", "secret", "apply", "deployments", "completion", "Exit codes: 0 done; 1", "SLIPWAY_<FLAG>"} {
			if !strings.Contains(stdout.String(), want) {
				t.Errorf("slipway %v: exit %d, stdout lacks %q:\n%s", args, code, want, stdout.String())
			}
		}
		if code != 0 {
			t.Errorf("slipway %v: exit %d, want 0", args, code)
		}
	}
	var stdout, stderr bytes.Buffer
	if code := Main(context.Background(), []string{"secret", "set", "--help"}, envOf(nil), IO{Out: &stdout, Err: &stderr}); code != 0 ||
		!strings.Contains(stdout.String(), "never from the command line") || !strings.Contains(stdout.String(), "--from-file") {
		t.Errorf("slipway secret set --help: exit %d:\n%s", code, stdout.String())
	}
}

func TestMainRejectsBadInvocations(t *testing.T) {
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"fly"}, 2, `unknown command "fly"`},
		{[]string{"build", "--bogus"}, 2, "unknown flag: --bogus"},
		{[]string{"server"}, 1, "--db is required"},
		{[]string{"worker", "--db", "sqlite:///x.db"}, 1, "--kek-file is required"},
		{[]string{"dev", "--tls-cert", "c.pem"}, 1, "--tls-cert and --tls-key must be given together"},
		{[]string{"dev", "--edge-tls-key", "k.pem"}, 1, "--edge-tls-cert and --edge-tls-key must be given together"},
		{[]string{"dev", "--edge-domain", "Apps_Example"}, 1, `--edge-domain "Apps_Example": want a DNS name`},
		{[]string{"dev", "--edge", "8000"}, 1, `--edge "8000": want host:port`},
		{[]string{"worker", "--db", "sqlite:///x.db", "--kek-file", "k", "--edge-tls-cert", "c.pem"}, 1, "--edge-tls-cert and --edge-tls-key must be given together"},
		{[]string{"worker", "--db", "sqlite:///x.db", "--kek-file", "k", "--data-plane", "nomad"}, 1, `--data-plane "nomad": want docker or kubernetes, or none`},
		{[]string{"worker", "--db", "sqlite:///x.db", "--kek-file", "k", "--data-plane", "docker,docker"}, 1, `--data-plane "docker" is given twice`},
		{[]string{"worker", "--db", "sqlite:///x.db", "--kek-file", "k", "--data-plane", "none,docker"}, 1, `--data-plane "none": want docker or kubernetes, or none`},
		{[]string{"worker", "--db", "sqlite:///x.db", "--kek-file", "k", "--data-plane", ""}, 1, `--data-plane is empty`},
		{[]string{"dev", "extra"}, 2, `unexpected argument "extra"`},
		{[]string{"keys", "spin"}, 2, `unknown command "spin"`},
		{[]string{"project", "get"}, 2, "missing <project>"},
		{[]string{"component", "get", "shop"}, 2, `"shop" is not <project>/<component>`},
		{[]string{"token", "create"}, 2, `required flag(s) "name" not set`},
		{[]string{"token", "create", "--name", "x", "--data-dir", "/nonexistent"}, 1, "no running slipway dev found"},
	}
	for _, c := range cases {
		var stdout, stderr bytes.Buffer
		code := Main(context.Background(), c.args, envOf(nil), IO{Out: &stdout, Err: &stderr})
		if code != c.code || !strings.Contains(stderr.String(), c.want) {
			t.Errorf("slipway %v: exit %d, stderr %q; want exit %d and %q", c.args, code, stderr.String(), c.code, c.want)
		}
	}
}

func TestKeysRotateOfflineAddsAnActiveKEK(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kek.json")
	var stdout, stderr bytes.Buffer
	if code := Main(context.Background(), []string{"keys", "create", "--kek-file", path}, envOf(nil), IO{Out: &stdout, Err: &stderr}); code != 0 {
		t.Fatalf("keys create: exit %d: %s", code, stderr.String())
	}
	k, err := secretbox.LoadKeyring(path)
	if err != nil {
		t.Fatal(err)
	}
	first := k.ActiveID()
	stdout.Reset()
	if code := Main(context.Background(), []string{"keys", "rotate", "--kek-file", path}, envOf(nil), IO{Out: &stdout, Err: &stderr}); code != 0 {
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
