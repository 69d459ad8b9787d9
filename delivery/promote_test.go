package delivery

import (
	"errors"
	"strings"
	"testing"

	"github.com/slipway-dev/slipway/api"
	"github.com/slipway-dev/slipway/store"
)

func TestPromotionTarget(t *testing.T) {
	comp := store.Component{Project: "shop", Name: "api"}
	no, yes := false, true
	// Production without approvals: only an admin promotes there.
	envs := []store.Environment{{Name: "development"}, {Name: "staging"},
		{Name: "production", Production: true, Rules: store.ReleaseRules{Approval: &api.Approval{Required: &no}}}}
	// Production with approvals (the default): a developer asks, the approvers decide; skipping is still an admin's.
	approved := []store.Environment{envs[0], envs[1], {Name: "production", Production: true, Rules: store.ReleaseRules{Approval: &api.Approval{Required: &yes}}}}
	for _, tc := range []struct {
		name      string
		approvals bool
		current   []string
		p         Promotion
		admin     bool
		target    int
		build     string
		kind      Kind
		code      string
		wantInMsg string
	}{
		{name: "next after the first that differs", current: []string{"b2", "b1", "b1"}, target: 1, build: "b2"},
		{name: "build names where it runs", current: []string{"b2", "b1", ""}, p: Promotion{Build: "b1"}, admin: true, target: 2, build: "b1"},
		{name: "production needs an admin", current: []string{"b2", "b1", ""}, p: Promotion{Build: "b1"},
			kind: Forbidden, code: "forbidden", wantInMsg: "production is a production environment: promoting there needs an admin token"},
		{name: "everything promoted", current: []string{"b1", "b1", "b1"}, kind: Conflict, code: "nothing_to_promote"},
		{name: "build not running", current: []string{"b1", "", ""}, p: Promotion{Build: "b9"}, kind: Conflict, code: "not_running",
			wantInMsg: "build b9 is not running in any environment of api"},
		{name: "last environment", current: []string{"b1", "b1", "b1"}, p: Promotion{Build: "b1"}, kind: Conflict, code: "last_environment"},
		{name: "to an unknown environment", current: []string{"b1", "", ""}, p: Promotion{To: "qa"}, kind: Invalid, code: "invalid",
			wantInMsg: `environment "qa" is not one of project "shop"'s`},
		{name: "to the first", current: []string{"b1", "", ""}, p: Promotion{To: "development"}, kind: Invalid, code: "invalid"},
		{name: "to, release of the one before", current: []string{"b1", "", ""}, p: Promotion{To: "staging"}, target: 1, build: "b1"},
		{name: "nothing runs before", current: []string{"", "", ""}, p: Promotion{To: "staging"}, kind: Conflict, code: "not_running",
			wantInMsg: "nothing runs in development to promote to staging"},
		{name: "skipping needs an admin", current: []string{"b2", "b1", ""}, p: Promotion{Build: "b2", To: "production"}, admin: false,
			kind: Forbidden, code: "forbidden"},
		{name: "skipping into staging needs an admin", current: []string{"b2", "", ""}, p: Promotion{Build: "b1", To: "staging"},
			kind: Conflict, code: "not_running", wantInMsg: "(only an admin may skip)"},
		{name: "an admin skips", current: []string{"b2", "b1", ""}, p: Promotion{Build: "b2", To: "production"}, admin: true, target: 2, build: "b2"},
		{name: "a developer asks for production where approvals decide", approvals: true, current: []string{"b2", "b1", ""},
			p: Promotion{Build: "b1"}, target: 2, build: "b1"},
		{name: "a developer does not skip into production where approvals decide", approvals: true, current: []string{"b2", "b1", ""},
			p: Promotion{Build: "b2", To: "production"}, kind: Conflict, code: "not_running", wantInMsg: "(only an admin may skip)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := envs
			if tc.approvals {
				in = approved
			}
			target, build, err := PromotionTarget(comp, in, tc.current, tc.p, tc.admin)
			if tc.code == "" {
				if err != nil || target != tc.target || build != tc.build {
					t.Fatalf("PromotionTarget = %d, %q, %v; want %d, %q", target, build, err, tc.target, tc.build)
				}
				return
			}
			var refused *Error
			if !errors.As(err, &refused) || refused.Kind != tc.kind || refused.Code != tc.code {
				t.Fatalf("PromotionTarget error %#v, want kind %d code %s", err, tc.kind, tc.code)
			}
			if tc.wantInMsg != "" && !strings.Contains(refused.Message, tc.wantInMsg) {
				t.Fatalf("message %q lacks %q", refused.Message, tc.wantInMsg)
			}
		})
	}
}
