package server

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/slipway-dev/slipway/api"
	"github.com/slipway-dev/slipway/store"
)

// kubeToken is the credential in testKubeconfig: no response, error or log line may ever show it.
const kubeToken = "kc-token-7f3a9e1d55c2"

// testKubeconfig has contexts live (current; cluster and user present), nocluster, nouser and noserver.
const testKubeconfig = `apiVersion: v1
kind: Config
current-context: live
clusters:
- name: prod
  cluster:
    server: https://k8s.example.com:6443
- name: bare
  cluster:
    insecure-skip-tls-verify: true
users:
- name: deployer
  user:
    token: ` + kubeToken + `
contexts:
- name: live
  context: {cluster: prod, user: deployer}
- name: nocluster
  context: {cluster: gone, user: deployer}
- name: nouser
  context: {cluster: prod, user: gone}
- name: noserver
  context: {cluster: bare, user: deployer}
`

// environment returns the project's environment as listed by the API, failing when the listing shows the
// kubeconfig's credential.
func (e *testEnv) environment(project, name string) store.Environment {
	e.t.Helper()
	var p api.Page[store.Environment]
	rec := e.must(http.StatusOK, http.MethodGet, "/api/v1/projects/"+project+"/environments", e.viewer, nil, &p)
	if strings.Contains(rec.Body.String(), kubeToken) {
		e.t.Fatalf("the environments list shows the kubeconfig: %s", rec.Body)
	}
	for _, env := range p.Items {
		if env.Name == name {
			return env
		}
	}
	e.t.Fatalf("no environment %q in %+v", name, p.Items)
	return store.Environment{}
}

// storedKubeconfig returns the environment's kubeconfig as stored, opened, or "" when none is.
func (e *testEnv) storedKubeconfig(project, name string) string {
	e.t.Helper()
	sealed, err := e.st.GetKubeconfig(e.t.Context(), project, name)
	if errors.Is(err, store.ErrNotFound) {
		return ""
	}
	if err != nil {
		e.t.Fatal(err)
	}
	plain, err := e.keys.Open(store.KubeconfigAAD(project, name), sealed)
	if err != nil {
		e.t.Fatalf("opening the stored kubeconfig: %v", err)
	}
	return string(plain)
}

// patchEnv sends PATCH environment as token and fails unless the answer is want; it never shows the kubeconfig.
func (e *testEnv) patchEnv(want int, name, token string, body map[string]any, out any) string {
	e.t.Helper()
	rec := e.must(want, http.MethodPatch, "/api/v1/projects/shop/environments/"+name, token, body, out)
	if strings.Contains(rec.Body.String(), kubeToken) {
		e.t.Fatalf("PATCH answered with the kubeconfig's content: %s", rec.Body)
	}
	return rec.Body.String()
}

func TestEnvironmentKubernetesBinding(t *testing.T) {
	e := newTestEnv(t)
	e.createProject("shop")
	path := "/api/v1/projects/shop/environments/production"

	// Only an admin binds an environment to a data plane.
	for field, body := range map[string]map[string]any{
		"dataPlane":  {"dataPlane": "kubernetes", "kubernetes": map[string]any{"inCluster": true}},
		"kubernetes": {"kubernetes": map[string]any{"namespace": "x"}},
		"kubeconfig": {"kubeconfig": testKubeconfig},
	} {
		wantError(t, e.do(http.MethodPatch, path, e.developer, body), http.StatusForbidden, "forbidden", field)
	}

	// Kubernetes needs a kubeconfig or inCluster; a kubeconfig needs kubernetes.
	apiErr := wantError(t, e.do(http.MethodPatch, path, e.admin, map[string]any{"dataPlane": "kubernetes"}),
		http.StatusUnprocessableEntity, "invalid", "kubeconfig")
	if apiErr.Message != "environment production on kubernetes needs a kubeconfig or inCluster" {
		t.Errorf("message %q", apiErr.Message)
	}
	wantError(t, e.do(http.MethodPatch, path, e.admin, map[string]any{"kubeconfig": testKubeconfig}),
		http.StatusUnprocessableEntity, "invalid", "kubeconfig")

	// A bad kubeconfig, or one without the context used, is refused before anything is stored, unquoted.
	for _, tc := range []struct {
		name string
		body map[string]any
		msg  string
	}{
		{"does not parse", map[string]any{"kubeconfig": "clusters: [\n  token: " + kubeToken}, "does not parse as one (at line 2)"},
		{"not a config", map[string]any{"kubeconfig": "users: " + kubeToken}, "does not parse as one"},
		{"no context", map[string]any{"kubernetes": map[string]any{"context": "staging"}}, `no context "staging"`},
		{"no current", map[string]any{"kubeconfig": strings.Replace(testKubeconfig, "current-context: live", "", 1)}, "no current-context"},
		{"missing cluster", map[string]any{"kubernetes": map[string]any{"context": "nocluster"}}, `names cluster "gone"`},
		{"missing user", map[string]any{"kubernetes": map[string]any{"context": "nouser"}}, `names user "gone"`},
		{"no server", map[string]any{"kubernetes": map[string]any{"context": "noserver"}}, `cluster "bare" of the kubeconfig has no server`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.body["dataPlane"] = "kubernetes"
			if _, ok := tc.body["kubeconfig"]; !ok {
				tc.body["kubeconfig"] = testKubeconfig
			}
			rec := e.do(http.MethodPatch, path, e.admin, tc.body)
			apiErr := wantError(t, rec, http.StatusUnprocessableEntity, "invalid", "kubeconfig")
			if !strings.Contains(apiErr.Message, tc.msg) {
				t.Errorf("message %q, want one saying %q", apiErr.Message, tc.msg)
			}
			if strings.Contains(rec.Body.String(), kubeToken) || strings.Contains(rec.Body.String(), "k8s.example.com") {
				t.Errorf("the error quotes the kubeconfig: %s", rec.Body)
			}
		})
	}
	if env := e.environment("shop", "production"); env.DataPlane != store.DataPlaneDocker || env.Kubernetes != nil {
		t.Fatalf("refused PATCHes changed production to %+v", env)
	}
	if got := e.storedKubeconfig("shop", "production"); got != "" {
		t.Fatal("a refused PATCH stored the kubeconfig")
	}

	// Bound: the answer and the listing show the binding and that a kubeconfig is stored, never the kubeconfig.
	var env store.Environment
	e.patchEnv(http.StatusOK, "production", e.admin, map[string]any{"dataPlane": "kubernetes", "kubeconfig": testKubeconfig,
		"kubernetes": map[string]any{"context": "live", "namespace": "shop-live", "ingressNamespaces": []string{"ingress-nginx"},
			"maxSurge": 2, "maxUnavailable": 1}, "deployTimeoutSeconds": 300}, &env)
	for _, got := range []store.Environment{env, e.environment("shop", "production")} {
		k := got.Kubernetes
		if got.DataPlane != store.DataPlaneKubernetes || got.DeployTimeoutSeconds != 300 || k == nil || k.Context != "live" ||
			k.Namespace != "shop-live" || !equal(k.IngressNamespaces, []string{"ingress-nginx"}) || *k.MaxSurge != 2 ||
			*k.MaxUnavailable != 1 || k.InCluster || !k.HasKubeconfig {
			t.Fatalf("bound production: %+v %+v", got, k)
		}
	}
	if got := e.storedKubeconfig("shop", "production"); got != testKubeconfig {
		t.Fatalf("stored kubeconfig differs from the one given")
	}

	// Fields absent from "kubernetes" stay; a context is checked against the stored kubeconfig; settings are checked.
	e.patchEnv(http.StatusOK, "production", e.admin, map[string]any{"kubernetes": map[string]any{"namespace": "shop-prod"}}, &env)
	if k := env.Kubernetes; k.Namespace != "shop-prod" || k.Context != "live" || *k.MaxSurge != 2 || !k.HasKubeconfig {
		t.Fatalf("after a namespace change: %+v", k)
	}
	wantError(t, e.do(http.MethodPatch, path, e.admin, map[string]any{"kubernetes": map[string]any{"context": "nouser"}}),
		http.StatusUnprocessableEntity, "invalid", "kubeconfig")
	wantError(t, e.do(http.MethodPatch, path, e.admin, map[string]any{"kubernetes": map[string]any{"namespace": "Shop"}}),
		http.StatusUnprocessableEntity, "invalid", "kubernetes.namespace")
	wantError(t, e.do(http.MethodPatch, path, e.admin, map[string]any{"kubernetes": map[string]any{"maxSurge": 0, "maxUnavailable": 0}}),
		http.StatusUnprocessableEntity, "invalid", "kubernetes.maxUnavailable")
	wantError(t, e.do(http.MethodPatch, path, e.admin, map[string]any{"dataPlane": "nomad"}),
		http.StatusUnprocessableEntity, "invalid", "dataPlane")
	wantError(t, e.do(http.MethodPatch, path, e.developer, map[string]any{"deployTimeoutSeconds": 1201}),
		http.StatusUnprocessableEntity, "invalid", "deployTimeoutSeconds")
	e.patchEnv(http.StatusOK, "production", e.developer, map[string]any{"deployTimeoutSeconds": 120, "replicas": 2}, &env)
	if env.DeployTimeoutSeconds != 120 || env.Kubernetes == nil || !env.Kubernetes.HasKubeconfig {
		t.Fatalf("a developer's PATCH changed the binding: %+v", env)
	}

	// "" deletes the kubeconfig, which only an in-cluster binding may do without.
	wantError(t, e.do(http.MethodPatch, path, e.admin, map[string]any{"kubeconfig": ""}), http.StatusUnprocessableEntity, "invalid", "kubeconfig")
	e.patchEnv(http.StatusOK, "production", e.admin, map[string]any{"kubeconfig": "", "kubernetes": map[string]any{"inCluster": true}}, &env)
	if k := env.Kubernetes; !k.InCluster || k.HasKubeconfig || e.storedKubeconfig("shop", "production") != "" {
		t.Fatalf("after deleting the kubeconfig: %+v", k)
	}
	if k := e.environment("shop", "production").Kubernetes; k == nil || k.HasKubeconfig {
		t.Fatalf("listed after deleting the kubeconfig: %+v", k)
	}

	// Back to docker drops the binding and the kubeconfig.
	e.patchEnv(http.StatusOK, "production", e.admin, map[string]any{"kubeconfig": testKubeconfig}, &env)
	if !env.Kubernetes.HasKubeconfig {
		t.Fatalf("kubeconfig given again: %+v", env.Kubernetes)
	}
	env = store.Environment{} // the answer has no "kubernetes" to overwrite the one decoded before
	e.patchEnv(http.StatusOK, "production", e.admin, map[string]any{"dataPlane": "docker"}, &env)
	if env.DataPlane != store.DataPlaneDocker || env.Kubernetes != nil || e.storedKubeconfig("shop", "production") != "" {
		t.Fatalf("back on docker: %+v, kubeconfig stored: %v", env, e.storedKubeconfig("shop", "production") != "")
	}
	if strings.Contains(e.logs.String(), kubeToken) {
		t.Error("the log shows the kubeconfig")
	}
}

func TestEnvironmentRefusesKubeconfigsThatRunProgramsOrReadFiles(t *testing.T) {
	e := newTestEnv(t)
	e.createProject("shop")
	execConfig := strings.Replace(testKubeconfig, "    token: "+kubeToken, "    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: /bin/sh\n      args: [-c, 'cat /etc/shadow']", 1)
	body := e.patchEnv(http.StatusUnprocessableEntity, "production", e.admin,
		map[string]any{"dataPlane": "kubernetes", "kubeconfig": execConfig}, nil)
	if !strings.Contains(body, `user \"deployer\": exec`) || strings.Contains(body, "shadow") {
		t.Fatalf("exec kubeconfig answer %s", body)
	}
	if env := e.environment("shop", "production"); env.DataPlane != store.DataPlaneDocker {
		t.Fatalf("refused kubeconfig changed the environment: %+v", env)
	}
}
