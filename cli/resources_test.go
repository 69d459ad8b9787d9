package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/slipway-dev/slipway/api"
	"github.com/slipway-dev/slipway/secretbox"
	"github.com/slipway-dev/slipway/server"
	"github.com/slipway-dev/slipway/store"
)

// asSlipway is the variable that makes this test binary run as the slipway command line (for the shell
// completion test, whose script calls `slipway __complete …`).
const asSlipway = "SLIPWAY_CLI_TEST_AS_SLIPWAY"

func TestMain(m *testing.M) {
	if os.Getenv(asSlipway) == "1" {
		os.Exit(Main(context.Background(), os.Args[1:], os.LookupEnv, IO{In: os.Stdin, Out: os.Stdout, Err: os.Stderr}))
	}
	os.Exit(m.Run())
}

// realAPI is slipway's real API server over a SQLite store and a keyring in t.TempDir(), with an admin token.
type realAPI struct {
	t     *testing.T
	srv   *httptest.Server
	st    *store.Store
	token string
}

func newRealAPI(t *testing.T) *realAPI {
	t.Helper()
	dir := t.TempDir()
	st, err := store.Open(t.Context(), "sqlite://"+filepath.Join(dir, "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	keys, err := secretbox.LoadOrCreateKeyring(filepath.Join(dir, "kek.json"))
	if err != nil {
		t.Fatal(err)
	}
	token, tok, err := server.MintToken("root", server.RoleAdmin)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.CreateToken(t.Context(), tok); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(server.New(server.Deps{Store: st, Keys: keys, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}).Handler())
	t.Cleanup(srv.Close)
	return &realAPI{t: t, srv: srv, st: st, token: token}
}

// env is the variables that point the command line at the server.
func (a *realAPI) env() map[string]string {
	return map[string]string{"SLIPWAY_SERVER": a.srv.URL, "SLIPWAY_TOKEN": a.token}
}

// run runs the command line with stdin and returns its exit code, stdout and stderr.
func (a *realAPI) run(stdin string, args ...string) (int, string, string) {
	var stdout, stderr bytes.Buffer
	code := Main(a.t.Context(), args, envOf(a.env()), IO{In: strings.NewReader(stdin), Out: &stdout, Err: &stderr})
	return code, stdout.String(), stderr.String()
}

// must runs the command line and fails the test unless it exits 0; it returns stdout.
func (a *realAPI) must(args ...string) string {
	a.t.Helper()
	code, stdout, stderr := a.run("", args...)
	if code != 0 {
		a.t.Fatalf("slipway %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, stdout, stderr)
	}
	return stdout
}

// get GETs path from the API into out.
func (a *realAPI) get(path string, out any) {
	a.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, a.srv.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+a.token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		a.t.Fatalf("GET %s: %s", path, res.Status)
	}
	if err := json.NewDecoder(res.Body).Decode(out); err != nil {
		a.t.Fatal(err)
	}
}

func TestEveryResourceFromTheCommandLine(t *testing.T) {
	a := newRealAPI(t)
	a.must("project", "create", "shop", "--fail-on", "high")
	a.must("env", "create", "shop/staging", "--replicas", "2")
	a.must("env", "order", "shop", "development", "staging", "production")
	if out := a.must("env", "list", "shop"); !regexpLines(out, `^development\s+no`, `^staging\s+no\s+2`, `^production\s+yes`) {
		t.Errorf("env list after order:\n%s", out)
	}
	var p api.ProjectResponse
	if err := json.Unmarshal([]byte(a.must("project", "get", "shop", "-o", "json")), &p); err != nil || p.ScanPolicy.FailOn != "high" ||
		strings.Join(envNames(p.Environments), ",") != "development,staging,production" {
		t.Fatalf("project get -o json: %+v, %v", p, err)
	}

	a.must("component", "create", "shop/hello", "--repo", "file:///tmp/hello", "--path", "src/,Dockerfile", "--auto-deploy")
	a.must("component", "set", "shop/hello", "--branch", "trunk", "--dockerfile", "build/Dockerfile")
	var c api.Component
	if err := yaml.Unmarshal([]byte(a.must("component", "get", "shop/hello", "-o", "yaml")), &c); err != nil {
		t.Fatal(err)
	}
	a.get("/api/v1/projects/shop/components/hello", &c)
	if c.Branch != "trunk" || c.Dockerfile != "build/Dockerfile" || c.Context != "." || !c.AutoDeploy || c.AutoBuild ||
		strings.Join(c.Paths, ",") != "src/,Dockerfile" {
		t.Fatalf("component after create and set: %+v", c)
	}
	var yamlOut map[string]any
	if err := yaml.Unmarshal([]byte(a.must("component", "get", "shop/hello", "-o", "yaml")), &yamlOut); err != nil || yamlOut["autoDeploy"] != true || yamlOut["branch"] != "trunk" {
		t.Fatalf("component get -o yaml: the API's field names: %v, %v", yamlOut, err)
	}
	if out := a.must("component", "get", "shop/hello", "-o", "template={{.branch}} {{index .paths 0}}"); out != "trunk src/\n" {
		t.Errorf("component get -o template: %q", out)
	}
	if code, _, stderr := a.run("", "component", "get", "shop/hello", "-o", "xml"); code != exitUsage || !strings.Contains(stderr, `-o "xml": want table, json, yaml`) {
		t.Errorf("-o xml: exit %d, stderr %q", code, stderr)
	}
	if out := a.must("component", "list", "shop"); !regexpLines(out, `^hello\s+service\s+file:///tmp/hello\s+trunk\s+build/Dockerfile\s+\.\s+no\s+yes$`) {
		t.Errorf("component list:\n%s", out)
	}

	// A task: its type, its (empty) runs, and a run refused while nothing of it is deployed.
	a.must("component", "create", "shop/nightly", "--repo", "file:///tmp/nightly", "--type", "scheduled-task")
	if out := a.must("component", "get", "shop/nightly", "-o", "template={{.type}}"); out != "scheduled-task\n" {
		t.Errorf("component get nightly's type: %q", out)
	}
	if code, _, stderr := a.run("", "component", "create", "shop/odd", "--repo", "file:///tmp/odd", "--type", "cronjob"); code != 1 || !strings.Contains(stderr, "type") {
		t.Errorf("an unknown type: exit %d, stderr %q", code, stderr)
	}
	if out := a.must("runs", "shop/nightly", "--env", "development", "-o", "json"); strings.TrimSpace(out) != "[]" {
		t.Errorf("runs of a task never run: %q", out)
	}
	if code, _, stderr := a.run("", "run", "shop/nightly", "--env", "development"); code != 1 || !strings.Contains(stderr, "nothing of nightly is deployed to development") {
		t.Errorf("run with nothing deployed: exit %d, stderr %q", code, stderr)
	}
	if code, _, stderr := a.run("", "schedule", "set", "shop/nightly", "--env", "development"); code != exitUsage || !strings.Contains(stderr, "cron") {
		t.Errorf("schedule set without --cron: exit %d, stderr %q", code, stderr)
	}
	a.must("component", "delete", "shop/nightly")

	// Configs for two environments at once; secrets from stdin or a file, never from the command line.
	a.must("config", "set", "shop/hello", "--env", "development,production", "GREETING=hello there", "MODE=fast")
	if code, _, stderr := a.run("s3cret-from-stdin\n", "secret", "set", "shop/hello", "API_TOKEN", "--env", "development", "--env", "production"); code != 0 {
		t.Fatalf("secret set from stdin: exit %d: %s", code, stderr)
	}
	file := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(file, []byte("line one\nline two\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	a.must("secret", "set", "shop/hello", "DEPLOY_KEY", "--env", "staging", "--from-file", file)
	if code, _, stderr := a.run("", "secret", "set", "shop/hello", "API_TOKEN=oops", "--env", "staging"); code != exitUsage ||
		!strings.Contains(stderr, "not taken from the command line") {
		t.Errorf("secret set KEY=VALUE: exit %d, stderr %q; want a usage error", code, stderr)
	}
	out := a.must("config", "list", "shop/hello")
	if !regexpLines(out, `^development\s+API_TOKEN\s+secret\s+\(sealed\)`, `^development\s+GREETING\s+config\s+hello there`,
		`^staging\s+DEPLOY_KEY\s+secret\s+\(sealed\)`, `^production\s+MODE\s+config\s+fast`) || strings.Contains(out, "s3cret") || strings.Contains(out, "line one") {
		t.Errorf("config list:\n%s", out)
	}
	var secrets []map[string]any
	if err := json.Unmarshal([]byte(a.must("secret", "list", "shop/hello", "--env", "production", "-o", "json")), &secrets); err != nil ||
		len(secrets) != 1 || secrets[0]["key"] != "API_TOKEN" || secrets[0]["value"] != nil {
		t.Errorf("secret list -o json: %v, %v", secrets, err)
	}
	// The values went in exactly: the stdin one without its newline, the file one whole.
	for _, kv := range [][3]string{{"development", "API_TOKEN", "s3cret-from-stdin"}, {"staging", "DEPLOY_KEY", "line one\nline two\n"}} {
		vals, err := a.st.ListConfigs(t.Context(), "shop", "hello", kv[0])
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, v := range vals {
			found = found || (v.Key == kv[1] && v.Secret)
		}
		if !found {
			t.Errorf("%s in %s not stored as a secret: %+v", kv[1], kv[0], vals)
		}
	}
	a.must("config", "unset", "shop/hello", "--env", "production", "MODE")
	if out := a.must("config", "list", "shop/hello", "--env", "production"); strings.Contains(out, "MODE") {
		t.Errorf("MODE still listed after unset:\n%s", out)
	}

	// The webhook exists once auto-build is on; before, the API's 404 is exit 1 with its message.
	if code, _, stderr := a.run("", "webhook", "show", "shop/hello"); code != exitFailed || !strings.Contains(stderr, "auto-build is off") {
		t.Errorf("webhook show without auto-build: exit %d, stderr %q", code, stderr)
	}
	code, _, stderr := a.run("", "component", "set", "shop/hello", "--auto-build")
	if code != 0 || !strings.Contains(stderr, "secret") {
		t.Fatalf("component set --auto-build: exit %d, stderr %q; want the webhook's URL and secret shown once", code, stderr)
	}
	if out := a.must("webhook", "show", "shop/hello"); !regexpLines(out, `^url:\s+http://127\.0\.0\.1:\d+/webhooks/[a-z]+/[0-9a-f]{32}$`, `^registered:\s+no$`) {
		t.Errorf("webhook show:\n%s", out)
	}

	if code, _, stderr := a.run("ghp_token\n", "repo-credential", "set", "shop/hello"); code != 0 || !strings.Contains(stderr, "token yes") {
		t.Errorf("repo-credential set: exit %d, stderr %q", code, stderr)
	}
	a.must("repo-credential", "delete", "shop/hello")

	token := strings.TrimSpace(a.must("token", "create", "--name", "ci", "--role", "viewer"))
	if !strings.HasPrefix(token, "slw_") {
		t.Errorf("token create printed %q, want the token", token)
	}
	if out := a.must("token", "list"); !regexpLines(out, `^tok-\S+\s+ci\s+viewer`) || strings.Contains(out, token) {
		t.Errorf("token list:\n%s", out)
	}
	// A viewer reads, and is refused a write with the API's reason.
	env := a.env()
	env["SLIPWAY_TOKEN"] = token
	var stdout, errOut bytes.Buffer
	if code := Main(t.Context(), []string{"component", "delete", "shop/hello"}, envOf(env), IO{Out: &stdout, Err: &errOut}); code != exitFailed ||
		!strings.Contains(errOut.String(), "HTTP 403") {
		t.Errorf("viewer component delete: exit %d, stderr %q", code, errOut.String())
	}

	a.must("component", "delete", "shop/hello")
	a.must("project", "delete", "shop")
	if out := a.must("project", "list", "-o", "json"); strings.TrimSpace(out) != "[]" {
		t.Errorf("project list after delete: %s", out)
	}
}

func TestCompletionNamesFromTheAPI(t *testing.T) {
	a := newRealAPI(t)
	a.must("project", "create", "shop")
	a.must("component", "create", "shop/hello", "--repo", "file:///tmp/hello")
	a.must("component", "create", "shop/web", "--repo", "file:///tmp/web")
	a.must("config", "set", "shop/hello", "--env", "development", "GREETING=hi", "MODE=fast")
	if code, _, stderr := a.run("t0k", "secret", "set", "shop/hello", "API_TOKEN", "--env", "development"); code != 0 {
		t.Fatal(stderr)
	}
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"__complete", "component", "get", ""}, []string{"shop/"}},
		{[]string{"__complete", "component", "get", "shop/"}, []string{"shop/hello", "shop/web"}},
		{[]string{"__complete", "deploy", "shop/hello", "--env", ""}, []string{"development", "production"}},
		{[]string{"__complete", "env", "order", "shop", "production", ""}, []string{"development"}},
		{[]string{"__complete", "builds", "shop/hello", "-o", ""}, []string{"table", "json", "yaml"}},
		{[]string{"__complete", "config", "unset", "shop/hello", "--env", "development", "MODE", ""}, []string{"GREETING"}},
		{[]string{"__complete", "secret", "unset", "shop/hello", "--env", "development", ""}, []string{"API_TOKEN"}},
	} {
		_, out, _ := a.run("", tc.args...)
		lines := strings.Split(strings.TrimSpace(out), "\n")
		got := lines[:len(lines)-1] // the last line is the directive, ":4"
		if strings.Join(got, " ") != strings.Join(tc.want, " ") {
			t.Errorf("slipway %s: completions %q, want %q", strings.Join(tc.args, " "), got, tc.want)
		}
	}

	// In bash, with the script `slipway completion bash` prints, as a user's shell runs it: with Debian's
	// bash-completion, which cobra's script needs (scripts/deps.sh installs it).
	const bashCompletion = "/usr/share/bash-completion/bash_completion"
	if _, err := os.Stat(bashCompletion); err != nil {
		if os.Getenv("CI_REQUIRE_BASH_COMPLETION") != "" {
			t.Fatalf("no bash-completion (apt-get install bash-completion): %v", err)
		}
		t.Skipf("no bash-completion: %v", err)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	script := a.must("completion", "bash")
	complete := func(words ...string) string {
		t.Helper()
		line := strings.Join(words, " ")
		sh := "source " + bashCompletion + "\n" + script + `
COMP_WORDS=(` + shellWords(words) + `)
COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
COMP_LINE=` + shellQuote(line) + `
COMP_POINT=${#COMP_LINE}
__start_slipway
printf '%s\n' "${COMPREPLY[@]}"
`
		cmd := exec.CommandContext(t.Context(), "bash", "--norc", "--noprofile", "-c", sh)
		cmd.Env = append(os.Environ(), asSlipway+"=1", "SLIPWAY_SERVER="+a.srv.URL, "SLIPWAY_TOKEN="+a.token)
		// Outside an interactive shell's completion compopt complains on stderr; COMPREPLY is what bash offers.
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("bash completion of %q: %v\n%s%s", line, err, out, stderr.String())
		}
		return strings.Join(strings.Fields(string(out)), " ")
	}
	if got := complete(exe, "comp"); got != "completion component" {
		t.Errorf("bash completes %q for `slipway comp`, want completion component", got)
	}
	if got := complete(exe, "builds", "shop/w"); got != "shop/web" {
		t.Errorf("bash completes %q for `slipway builds shop/w`, want shop/web", got)
	}
	if got := complete(exe, "config", "set", "shop/hello", "--env", "prod"); got != "production" {
		t.Errorf("bash completes %q for `slipway config set shop/hello --env prod`, want production", got)
	}
}

// regexpLines reports whether each pattern matches some line of out.
func regexpLines(out string, patterns ...string) bool {
	for _, p := range patterns {
		re := regexp.MustCompile(p)
		found := false
		for _, line := range strings.Split(out, "\n") {
			found = found || re.MatchString(line)
		}
		if !found {
			return false
		}
	}
	return true
}

func shellWords(words []string) string {
	q := make([]string, len(words))
	for i, w := range words {
		q[i] = shellQuote(w)
	}
	return strings.Join(q, " ")
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
