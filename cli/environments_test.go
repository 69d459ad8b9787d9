package cli

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeEnvAPI lists shop's environments and answers a PATCH of production with production bound as asked; it
// keeps the PATCH bodies.
func fakeEnvAPI(t *testing.T, bodies *[]string) *httptest.Server {
	mux := http.NewServeMux()
	dev := map[string]any{"name": "development", "production": false, "replicas": 0, "dataPlane": "docker"}
	prod := map[string]any{"name": "production", "production": true, "replicas": 2, "dataPlane": "kubernetes",
		"deployTimeoutSeconds": 300, "kubernetes": map[string]any{"context": "live", "namespace": "shop-live", "hasKubeconfig": true},
		"approvalRequired": true, "approval": map[string]any{"minApprovals": 2, "approvers": []any{"admin", "rel-mgr"}}, "freezeMode": "refuse",
		"freezeWindows": []any{map[string]any{"name": "weekend", "cron": "0 18 * * 5", "durationSeconds": 223200, "timeZone": "Europe/Berlin"}},
		"stopped":       map[string]any{"reason": "incident 42", "actor": "root", "at": "2030-01-02T03:04:05Z"}}
	mux.HandleFunc("GET /api/v1/projects/shop/environments", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{"items": []any{dev, prod,
			map[string]any{"name": "qa", "replicas": 1, "dataPlane": "kubernetes", "kubernetes": map[string]any{"hasKubeconfig": false}},
			map[string]any{"name": "edge", "replicas": 1, "dataPlane": "kubernetes", "kubernetes": map[string]any{"inCluster": true}}}})
	})
	mux.HandleFunc("PATCH /api/v1/projects/shop/environments/{env}", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		*bodies = append(*bodies, r.PathValue("env")+" "+string(b))
		if r.PathValue("env") != "production" {
			w.WriteHeader(http.StatusForbidden)
			_, _ = io.WriteString(w, `{"error":{"code":"forbidden","message":"changing an environment's data plane needs an admin token","field":"dataPlane"}}`)
			return
		}
		_ = json.NewEncoder(w).Encode(prod)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func TestEnvSetAndList(t *testing.T) {
	var bodies []string
	srv := fakeEnvAPI(t, &bodies)
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(kubeconfig, []byte("apiVersion: v1\nkind: Config\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	code, stdout, stderr := runCLI(t, srv, "env", "set", "shop/production", "--data-plane", "kubernetes", "--kubeconfig", kubeconfig,
		"--kube-context", "live", "--namespace", "shop-live", "--ingress-namespace", "ingress-nginx", "--ingress-namespace", "monitoring",
		"--deploy-timeout", "5m")
	want := "ENVIRONMENT  PRODUCTION  REPLICAS  DATA PLANE  CLUSTER       NAMESPACE  DEPLOY TIMEOUT  APPROVAL              FREEZE\n" +
		"production   yes         2         kubernetes  context live  shop-live  5m0s            2 from admin,rel-mgr  1 window(s), refuse; stopped\n" +
		"freeze windows of production (in one: refuse): weekend (0 18 * * 5 for 62h0m0s, Europe/Berlin)\n" +
		"the line of production is stopped by root at 2030-01-02T03:04:05Z: incident 42\n"
	if code != 0 || stdout != want {
		t.Fatalf("env set: exit %d, stderr %q, stdout\n%s\nwant\n%s", code, stderr, stdout, want)
	}
	wantBody := `production {"dataPlane":"kubernetes","deployTimeoutSeconds":300,"kubeconfig":"apiVersion: v1\nkind: Config\n",` +
		`"kubernetes":{"context":"live","ingressNamespaces":["ingress-nginx","monitoring"],"namespace":"shop-live"}}`
	if len(bodies) != 1 || bodies[0] != wantBody {
		t.Fatalf("PATCH bodies %q, want [%q]", bodies, wantBody)
	}

	// Only the flags given are sent: "" deletes the kubeconfig, --in-cluster=false turns in-cluster off.
	bodies = nil
	code, _, stderr = runCLI(t, srv, "env", "set", "shop/production", "--kubeconfig", "", "--in-cluster=false", "--ingress-namespace", "")
	if want := `production {"kubeconfig":"","kubernetes":{"inCluster":false,"ingressNamespaces":[]}}`; code != 0 || len(bodies) != 1 || bodies[0] != want {
		t.Fatalf("env set: exit %d, stderr %q, bodies %q, want [%q]", code, stderr, bodies, want)
	}

	// Refused before or by the API: the reason is said and nothing else is sent.
	bodies = nil
	for _, tc := range []struct {
		args []string
		code int
		say  string
	}{
		{[]string{"shop/production"}, 2, "nothing to set"},
		{[]string{"shop/production", "--deploy-timeout", "1500ms"}, 2, "--deploy-timeout 1.5s: want whole seconds"},
		{[]string{"shop/production", "--kubeconfig", filepath.Join(t.TempDir(), "missing")}, 2, "--kubeconfig: open"},
		{[]string{"shop", "--data-plane", "docker"}, 2, `"shop" is not <project>/<environment>`},
		{[]string{"shop/qa", "--data-plane", "docker"}, 1, "needs an admin token"},
	} {
		code, _, stderr := runCLI(t, srv, append([]string{"env", "set"}, tc.args...)...)
		if code != tc.code || !strings.Contains(stderr, tc.say) {
			t.Errorf("env set %q: exit %d, stderr %q; want exit %d saying %q", tc.args, code, stderr, tc.code, tc.say)
		}
	}
	if len(bodies) != 1 || !strings.HasPrefix(bodies[0], "qa ") {
		t.Errorf("refused commands sent %q, want only the one the API refused", bodies)
	}

	code, stdout, stderr = runCLI(t, srv, "env", "list", "shop")
	want = "ENVIRONMENT  PRODUCTION  REPLICAS  DATA PLANE  CLUSTER                          NAMESPACE  DEPLOY TIMEOUT  APPROVAL              FREEZE\n" +
		"development  no          1         docker      -                                -          default         no                    -\n" +
		"production   yes         2         kubernetes  context live                     shop-live  5m0s            2 from admin,rel-mgr  1 window(s), refuse; stopped\n" +
		"qa           no          1         kubernetes  current context (no kubeconfig)  (default)  default         no                    -\n" +
		"edge         no          1         kubernetes  in-cluster                       (default)  default         no                    -\n" +
		"freeze windows of production (in one: refuse): weekend (0 18 * * 5 for 62h0m0s, Europe/Berlin)\n" +
		"the line of production is stopped by root at 2030-01-02T03:04:05Z: incident 42\n"
	if code != 0 || stdout != want {
		t.Fatalf("env list: exit %d, stderr %q, stdout\n%s\nwant\n%s", code, stderr, stdout, want)
	}
}
