package server

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/slipway-dev/slipway/api"
)

// An environment's promotion policy and verification are set through PATCH …/environments/{e}, by an admin, and
// refused naming the field when they cannot be kept.
func TestPromotionPolicyAndVerificationRules(t *testing.T) {
	e, _ := newBuildEnv(t)
	envPath := "/api/v1/projects/shop/environments/production"
	for field, body := range map[string]map[string]any{
		"promotion.policy":                     {"promotion": map[string]any{"policy": "sometimes"}},
		"promotion.soakSeconds":                {"promotion": map[string]any{"policy": "auto", "soakSeconds": -1}},
		"verification.windowSeconds":           {"verification": map[string]any{"windowSeconds": 7200}},
		"verification.http[0].path":            {"verification": map[string]any{"http": []map[string]any{{"path": "version"}}}},
		"verification.http[1].status":          {"verification": map[string]any{"http": []map[string]any{{}, {"status": 99}}}},
		"verification.http[0].intervalSeconds": {"verification": map[string]any{"http": []map[string]any{{"intervalSeconds": 301}}}},
	} {
		wantError(t, e.do(http.MethodPatch, envPath, e.admin, body), http.StatusUnprocessableEntity, "invalid", field)
	}
	wantError(t, e.do(http.MethodPatch, envPath, e.developer, map[string]any{"promotion": map[string]any{"policy": "auto"}}),
		http.StatusForbidden, "forbidden", "approval")
	var env api.Environment
	e.must(http.StatusOK, http.MethodPatch, envPath, e.admin, map[string]any{
		"promotion":    map[string]any{"policy": "auto", "soakSeconds": 600},
		"verification": map[string]any{"windowSeconds": 30, "http": []map[string]any{{"path": "/version", "bodyContains": "good", "successes": 2}}},
	}, &env)
	if env.Promotion == nil || env.Promotion.Policy != api.PromotionAuto || env.Promotion.SoakSeconds != 600 ||
		env.Verification == nil || env.Verification.WindowSeconds != 30 || len(env.Verification.HTTP) != 1 || env.Verification.HTTP[0].BodyContains != "good" {
		t.Fatalf("environment %+v", env)
	}
	// Read back as stored; {} removes each.
	var envs api.Page[api.Environment]
	e.must(http.StatusOK, http.MethodGet, "/api/v1/projects/shop/environments", e.viewer, nil, &envs)
	if got := envs.Items[len(envs.Items)-1]; got.Promotion == nil || got.Verification == nil || got.Verification.HTTP[0].Successes != 2 {
		t.Fatalf("environments %+v", envs.Items)
	}
	var removed api.Environment
	e.must(http.StatusOK, http.MethodPatch, envPath, e.admin, map[string]any{"promotion": map[string]any{}, "verification": map[string]any{}}, &removed)
	if removed.Promotion != nil || removed.Verification != nil {
		t.Fatalf("after removing: %+v", removed)
	}
}

// A deploy by hand of a build older than the one serving, into an environment builds are promoted into by
// themselves, holds auto-promotion there and says so; DELETE …/hold releases it. A build that failed its
// verification in an environment is not promoted from it.
func TestHoldsAndFailedVerification(t *testing.T) {
	e, _ := newBuildEnv(t)
	e.succeededBuild("b-1")
	e.succeededBuild("b-2")
	e.setConfigs("development")
	e.serving("development", "b-2")
	e.must(http.StatusOK, http.MethodPatch, "/api/v1/projects/shop/environments/development", e.admin,
		map[string]any{"promotion": map[string]any{"policy": "auto"}}, nil)

	var d api.Deployment
	e.must(http.StatusAccepted, http.MethodPost, apiPath+"/environments/development/deploy", e.developer, map[string]any{"build": "b-1"}, &d)
	if !strings.Contains(d.Message, "auto-promotion into development is held") || !strings.Contains(d.Message, "older than b-2") {
		t.Fatalf("deploy answer %+v", d)
	}
	var deps api.Page[api.EnvironmentDeployments]
	e.must(http.StatusOK, http.MethodGet, apiPath+"/deployments", e.viewer, nil, &deps)
	if h := deps.Items[0].Hold; h == nil || h.Build != "b-1" || h.Actor != "dev" {
		t.Fatalf("development's hold %+v", deps.Items[0].Hold)
	}
	// The console's deploy page says so, with the way to release it, and what development automates.
	page := e.signIn(e.developer).page(http.StatusOK, "/projects/shop/components/api/deploy")
	for _, want := range []string{"Auto-promotion is held: dev deployed build b-1, older than b-2, by hand.",
		`data-api="/api/v1/projects/shop/components/api/environments/development/hold" data-method="DELETE"`,
		"Builds are promoted here by themselves, 0 s after serving verified"} {
		if !strings.Contains(page, want) {
			t.Errorf("the deploy page lacks %q", want)
		}
	}
	hold := apiPath + "/environments/development/hold"
	wantError(t, e.do(http.MethodDelete, hold, e.viewer, nil), http.StatusForbidden, "forbidden", "")
	e.must(http.StatusNoContent, http.MethodDelete, hold, e.developer, nil, nil)
	wantError(t, e.do(http.MethodDelete, hold, e.developer, nil), http.StatusNotFound, "not_found", "")
	var released api.Page[api.EnvironmentDeployments]
	e.must(http.StatusOK, http.MethodGet, apiPath+"/deployments", e.viewer, nil, &released)
	if released.Items[0].Hold != nil {
		t.Fatalf("the hold was not released: %+v", released.Items[0].Hold)
	}

	// Into production (a deploy there is a promotion request), the request's answer says so too.
	e.setConfigs("production")
	e.serving("production", "b-2")
	e.must(http.StatusOK, http.MethodPatch, "/api/v1/projects/shop/environments/production", e.admin,
		map[string]any{"promotion": map[string]any{"policy": "auto"}}, nil)
	var p api.Promotion
	e.must(http.StatusAccepted, http.MethodPost, apiPath+"/environments/production/deploy", e.admin, map[string]any{"build": "b-1"}, &p)
	if p.Status != api.PromotionPendingApproval || !strings.Contains(p.Message, "auto-promotion into production is held") {
		t.Fatalf("deploy into production answer %+v", p)
	}
	if _, held, err := e.st.PromotionHold(context.Background(), "shop", "api", "production"); err != nil || !held {
		t.Fatalf("production's hold: %v, %v", held, err)
	}

	// b-2 failed its verification in development (nothing before it: it keeps serving): it is not promoted.
	if _, err := e.st.VerifyDeployment(context.Background(), "d-development-b-2", api.VerificationFailed, "status 500, want 2xx"); err != nil {
		t.Fatal(err)
	}
	wantError(t, e.do(http.MethodPost, apiPath+"/promote", e.admin, map[string]any{"build": "b-2", "to": "production"}), http.StatusConflict, "failed_verification", "build")
}
