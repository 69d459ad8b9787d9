package cli

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/slipway-dev/slipway/api"
	"github.com/slipway-dev/slipway/store"
)

// TestReleaseRulesStopsQuarantineAndAuditAgainstTheRealAPI runs the governance verbs that need no Temporal against
// slipway's own API: what they send is what it takes, and what it answers is what they print.
func TestReleaseRulesStopsQuarantineAndAuditAgainstTheRealAPI(t *testing.T) {
	a := newRealAPI(t)
	a.must("project", "create", "shop")
	a.must("component", "create", "shop/api", "--repo", "file:///tmp/api")

	a.must("env", "set", "shop/production", "--approval-required=true", "--min-approvals", "2", "--approvers", "admin,rel-mgr",
		"--approval-expiry", "48h", "--freeze-mode", "refuse", "--freeze", "weekend;0 18 * * 5;62h;Europe/Berlin",
		"--freeze", "black friday;2030-11-29T00:00:00Z;2030-12-02T00:00:00Z")
	// One approval flag changes that setting only: the API replaces the whole rule, the verb sends the rest as it was.
	out := a.must("env", "set", "shop/production", "--min-approvals", "3")
	if !regexpLines(out, `^production\s+yes\s+.*3 from admin,rel-mgr\s+2 window\(s\), refuse$`,
		`^freeze windows of production \(in one: refuse\): weekend \(0 18 \* \* 5 for 62h0m0s, Europe/Berlin\), `+
			`black friday \(2030-11-29T00:00:00Z to 2030-12-02T00:00:00Z\)$`) {
		t.Errorf("env set --min-approvals:\n%s", out)
	}
	var envs []api.Environment
	if err := json.Unmarshal([]byte(a.must("env", "list", "shop", "-o", "json")), &envs); err != nil {
		t.Fatal(err)
	}
	prod := envs[len(envs)-1]
	if ap := prod.Approval; ap == nil || ap.Required == nil || !*ap.Required || ap.MinApprovals != 3 || ap.ExpirySeconds != 48*3600 ||
		strings.Join(ap.Approvers, ",") != "admin,rel-mgr" || len(prod.FreezeWindows) != 2 || prod.FreezeWindows[0].DurationSeconds != 62*3600 {
		t.Fatalf("production's rules: %+v", prod.ReleaseRules)
	}

	a.must("env", "set", "shop/production", "--stop", "incident 42")
	if out := a.must("env", "list", "shop"); !regexpLines(out, `^the line of production is stopped by root at \S+: incident 42$`) {
		t.Errorf("env list after --stop:\n%s", out)
	}
	a.must("env", "set", "shop/production", "--start", "--no-freeze", "--approvers", "")
	envs = nil // decoding into the old items would keep the fields the answer leaves out
	if err := json.Unmarshal([]byte(a.must("env", "list", "shop", "-o", "json")), &envs); err != nil {
		t.Fatal(err)
	}
	if prod := envs[len(envs)-1]; prod.Stopped != nil || len(prod.FreezeWindows) != 0 || len(prod.Approval.Approvers) != 0 || prod.Approval.MinApprovals != 3 {
		t.Fatalf("production after --start --no-freeze --approvers '': %+v", prod.ReleaseRules)
	}
	for _, tc := range []struct {
		args []string
		code int
		say  string
	}{
		{[]string{"--freeze", "weekend;0 18 * * 5"}, exitUsage, "want NAME;CRON;DURATION[;TZ] or NAME;START;END"},
		{[]string{"--freeze", "weekend;0 18 * * 5;1.5s"}, exitUsage, "want whole seconds above zero"},
		{[]string{"--freeze", "x;2030-01-01T00:00:00Z;soon"}, exitUsage, "both RFC 3339 times"},
		{[]string{"--freeze", "x;1 2 3;1h", "--no-freeze"}, exitUsage, "none of the others can be"},
		{[]string{"--freeze-mode", "later"}, exitUsage, `--freeze-mode "later": want wait or refuse`},
		{[]string{"--stop", ""}, exitUsage, "--stop needs a reason"},
		{[]string{"--approval-expiry", "90m30ms"}, exitUsage, "want whole seconds"},
		{[]string{"--freeze", "nightly;every night;8h"}, 1, `cron expression "every night" does not parse`},
		{[]string{"--min-approvals", "11"}, 1, "minApprovals must be from 0 to 10"},
	} {
		code, _, stderr := a.run("", append([]string{"env", "set", "shop/production"}, tc.args...)...)
		if code != tc.code || !strings.Contains(stderr, tc.say) {
			t.Errorf("env set %q: exit %d, stderr %q; want exit %d saying %q", tc.args, code, stderr, tc.code, tc.say)
		}
	}

	// The project's whole line.
	if code, _, stderr := a.run("", "project", "stop", "shop"); code != exitUsage || !strings.Contains(stderr, `"reason" not set`) {
		t.Errorf("project stop without --reason: exit %d, stderr %q", code, stderr)
	}
	if _, _, stderr := a.run("", "project", "stop", "shop", "--reason", "release freeze for the audit"); !strings.Contains(stderr,
		"the line of project shop is stopped by root at ") || !strings.Contains(stderr, "release freeze for the audit") {
		t.Errorf("project stop: %q", stderr)
	}
	if _, stopped, err := a.st.ProjectStop(t.Context(), "shop"); err != nil || !stopped {
		t.Fatalf("shop's line after project stop: stopped %v, %v", stopped, err)
	}
	a.must("project", "start", "shop")
	if _, stopped, err := a.st.ProjectStop(t.Context(), "shop"); err != nil || stopped {
		t.Fatalf("shop's line after project start: stopped %v, %v", stopped, err)
	}

	// A build put aside, then let through again.
	if _, err := a.st.CreateBuild(t.Context(), store.Build{ID: "b-1", Project: "shop", Component: "api", Commit: fakeCommit, WorkflowID: "w"}); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := a.run("", "build", "quarantine", "b-1", "--reason", "CVE-2030-0001 in libpay"); code != 0 ||
		!strings.Contains(stderr, "quarantined build b-1 (by root at ") {
		t.Fatalf("build quarantine: exit %d, stderr %q", code, stderr)
	}
	a.must("build", "unquarantine", "b-1")
	if code, _, stderr := a.run("", "build", "quarantine", "b-9", "--reason", "x"); code != 1 || !strings.Contains(stderr, "not found") {
		t.Errorf("quarantine of an unknown build: exit %d, stderr %q", code, stderr)
	}

	// Who did all that, newest first.
	out = a.must("audit", "--project", "shop")
	if !regexpLines(out, `^TIME\s+ACTOR\s+ACTION\s+WHERE\s+TARGET\s+REASON\s+RESULT$`,
		`^\S+Z\s+root\s+unquarantine\s+shop/api\s+b-1\s+-\s+`,
		`^\S+Z\s+root\s+quarantine\s+shop/api\s+b-1\s+CVE-2030-0001 in libpay\s+`,
		`^\S+Z\s+root\s+stop\s+shop\s+-\s+release freeze for the audit\s+`,
		`^\S+Z\s+root\s+stop\s+shop/-/production\s+-\s+incident 42\s+`,
		`^\S+Z\s+root\s+environment_set\s+shop/-/production\s+release rules\s+`) {
		t.Errorf("audit:\n%s", out)
	}
	if lines := strings.Split(out, "\n"); !strings.Contains(lines[1], "unquarantine") {
		t.Errorf("audit is not newest first:\n%s", out)
	}
	out = a.must("audit", "--action", "stop", "--jsonl")
	var stops []api.AuditEntry
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var e api.AuditEntry
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			t.Fatalf("audit --jsonl line %q: %v", l, err)
		}
		stops = append(stops, e)
	}
	if len(stops) != 2 || stops[0].Reason != "release freeze for the audit" || stops[1].Environment != "production" {
		t.Errorf("audit --action stop --jsonl: %+v", stops)
	}
	if code, _, stderr := a.run("", "audit", "--limit", "5000"); code != 1 || !strings.Contains(stderr, "limit must be a whole number from 1 to 1000") {
		t.Errorf("audit --limit 5000: exit %d, stderr %q", code, stderr)
	}

	if out := a.must("promotions", "shop", "-o", "json"); strings.TrimSpace(out) != "[]" {
		t.Errorf("promotions of a project with none: %q", out)
	}
	if code, _, stderr := a.run("", "promotions", "shop", "--status", "waiting"); code != 1 || !strings.Contains(stderr, "is not a promotion status") {
		t.Errorf("promotions --status waiting: exit %d, stderr %q", code, stderr)
	}
}
