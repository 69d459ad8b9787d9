package cli

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/slipway-dev/slipway/api"
)

// TestPromotionPolicyVerificationAndHoldsAgainstTheRealAPI: env set's promotion and verification flags send what
// slipway's API takes, each keeping what the others set; env list says what they mean; release-hold answers the
// API's 404 when nothing is held.
func TestPromotionPolicyVerificationAndHoldsAgainstTheRealAPI(t *testing.T) {
	a := newRealAPI(t)
	a.must("project", "create", "shop")
	a.must("component", "create", "shop/api", "--repo", "file:///tmp/api")

	a.must("env", "set", "shop/production", "--promotion", "auto", "--soak", "30m", "--verify", "/healthz", "--verify", "/version;v2",
		"--verify-window", "2m")
	out := a.must("env", "set", "shop/production", "--soak", "1h") // the policy stays auto, the verification as it was
	if !regexpLines(out, `^builds are promoted into production by themselves, 1h0m0s after serving verified in the environment before$`,
		`^releases in production are verified for 2m0s \(else rolled back\): GET /healthz; GET /version containing "v2"$`) {
		t.Errorf("env set --soak:\n%s", out)
	}
	var envs []api.Environment
	if err := json.Unmarshal([]byte(a.must("env", "list", "shop", "-o", "json")), &envs); err != nil {
		t.Fatal(err)
	}
	prod := envs[len(envs)-1]
	if p, v := prod.Promotion, prod.Verification; p == nil || p.Policy != "auto" || p.SoakSeconds != 3600 || v == nil || v.WindowSeconds != 120 ||
		len(v.HTTP) != 2 || v.HTTP[1].Path != "/version" || v.HTTP[1].BodyContains != "v2" {
		t.Fatalf("production's rules: %+v", prod.ReleaseRules)
	}
	a.must("env", "set", "shop/production", "--no-verify", "--promotion", "manual")
	envs = nil
	if err := json.Unmarshal([]byte(a.must("env", "list", "shop", "-o", "json")), &envs); err != nil {
		t.Fatal(err)
	}
	if prod := envs[len(envs)-1]; prod.Verification != nil || prod.Promotion == nil || prod.Promotion.Policy != "manual" {
		t.Fatalf("production after --no-verify --promotion manual: %+v", prod.ReleaseRules)
	}
	for _, tc := range []struct {
		args []string
		code int
		say  string
	}{
		{[]string{"--promotion", "sometimes"}, exitUsage, `--promotion "sometimes": want manual or auto`},
		{[]string{"--soak", "1.5s"}, exitUsage, "--soak 1.5s: want whole seconds"},
		{[]string{"--verify", "healthz"}, exitUsage, "want PATH[;TEXT], PATH from /"},
		{[]string{"--verify", "/x", "--no-verify"}, exitUsage, "none of the others can be"},
		{[]string{"--verify-window", "2h"}, 1, "windowSeconds must be from 0 to 3600"},
	} {
		code, _, stderr := a.run("", append([]string{"env", "set", "shop/production"}, tc.args...)...)
		if code != tc.code || !strings.Contains(stderr, tc.say) {
			t.Errorf("env set %q: exit %d, stderr %q; want exit %d saying %q", tc.args, code, stderr, tc.code, tc.say)
		}
	}
	if code, _, stderr := a.run("", "release-hold", "shop/api", "--env", "production"); code != 1 || !strings.Contains(stderr, "not found") {
		t.Errorf("release-hold with nothing held: exit %d, stderr %q", code, stderr)
	}
}

// TestNotificationVerbsAgainstTheRealAPI: notification add prints the secret slipway made once, list never does.
func TestNotificationVerbsAgainstTheRealAPI(t *testing.T) {
	a := newRealAPI(t)
	a.must("project", "create", "shop")
	code, out, stderr := a.run("", "notification", "add", "shop", "--url", "https://hooks.example.com/slipway", "--format", "slack",
		"--event", "deployment.rolled_back", "--event", "build.failed")
	secret, _ := strings.CutPrefix(strings.TrimSpace(stderr), "the hook's signing secret, shown this once: ")
	if code != 0 || !strings.HasPrefix(secret, "swsec_") || !regexpLines(out, `^nh-\S+\s+https://hooks.example.com/slipway\s+slack\s+deployment.rolled_back,build.failed\s+root\s+`) {
		t.Fatalf("notification add: exit %d\n%s\n%s", code, out, stderr)
	}
	list := a.must("notification", "list", "shop")
	if strings.Contains(list, secret) || !strings.Contains(list, "https://hooks.example.com/slipway") {
		t.Fatalf("notification list:\n%s", list)
	}
	if code, _, stderr := a.run("", "notification", "add", "shop", "--url", "https://x.example", "--event", "build.started"); code != 1 ||
		!strings.Contains(stderr, `"build.started" is not an event`) {
		t.Errorf("an unknown event: exit %d, %q", code, stderr)
	}
	id := strings.Fields(strings.Split(list, "\n")[1])[0]
	if out := a.must("notification", "deliveries", "shop", id); !strings.HasPrefix(out, "DELIVERY") {
		t.Errorf("notification deliveries:\n%s", out)
	}
	a.must("notification", "delete", "shop", id)
}
