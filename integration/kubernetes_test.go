package integration

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/slipway-dev/slipway/baseimages"
	"github.com/slipway-dev/slipway/dataplane"
	"github.com/slipway-dev/slipway/dataplane/kubernetes"
	"github.com/slipway-dev/slipway/dataplane/kubernetes/kubetest"
	"github.com/slipway-dev/slipway/workflows"
)

// TestDeployPromoteAndRestoreOnKubernetes is the deploy-and-promote run with development and production
// bound to a real Kubernetes API (kube-apiserver, controller manager and scheduler, with kwok's nodes and
// pods): build once, auto-deploy to development, promote the same digest to production with production's
// config, then a build whose pods never get ready is rolled back by slipway, the old pods serving.
func TestDeployPromoteAndRestoreOnKubernetes(t *testing.T) {
	if _, err := os.Stat(baseimages.BusyboxBinary); err != nil {
		t.Skipf("%s missing: %v", baseimages.BusyboxBinary, err)
	}
	cp := kubetest.Start(t)
	kc := cp.Client(t)
	kubeconfig, err := os.ReadFile(cp.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	dev := startDevWith(t, devConfig(filepath.Join(dir, "data")))
	a := newAPI(t, dev, filepath.Join(dir, "data"))
	project := "kube" + strings.ToLower(time.Now().Format("150405"))
	a.call("POST", "/api/v1/projects", map[string]any{"name": project}, http.StatusCreated, nil)
	withoutApprovals(t, a, project)
	base := "/api/v1/projects/" + project + "/components/hello"
	src := filepath.Join(dir, "hello")
	gitRepo(t, src, filesUnder(t, filepath.Join("..", "examples", "hello")))
	a.call("POST", "/api/v1/projects/"+project+"/components", map[string]any{"name": "hello", "repo": "file://" + src, "autoDeploy": true},
		http.StatusCreated, nil)
	for env, greeting := range map[string]string{"development": "hi dev", "production": "hi prod"} {
		var got struct {
			DataPlane  string `json:"dataPlane"`
			Kubernetes struct {
				HasKubeconfig bool `json:"hasKubeconfig"`
			} `json:"kubernetes"`
		}
		body := a.call("PATCH", "/api/v1/projects/"+project+"/environments/"+env, map[string]any{
			"dataPlane": "kubernetes", "kubeconfig": string(kubeconfig), "deployTimeoutSeconds": 8,
		}, http.StatusOK, &got)
		if got.DataPlane != "kubernetes" || !got.Kubernetes.HasKubeconfig || strings.Contains(string(body), cp.Config.BearerToken) {
			t.Fatalf("binding %s: %s", env, body)
		}
		a.call("PUT", base+"/environments/"+env+"/configs/GREETING", map[string]any{"value": greeting}, http.StatusCreated, nil)
		a.call("PUT", base+"/environments/"+env+"/configs/API_TOKEN", map[string]any{"value": "s3cret-" + env, "secret": true}, http.StatusCreated, nil)
	}
	build := func() (buildDetail, string) {
		var started struct{ ID string }
		a.call("POST", base+"/builds", map[string]any{"rebuild": true}, http.StatusAccepted, &started)
		b := waitBuild(t, a, started.ID, 3*time.Minute)
		if b.Status != "succeeded" {
			t.Fatalf("build %+v", b)
		}
		return b, "d-auto-" + strings.TrimPrefix(b.ID, "b-")
	}

	// Build once; the auto-deploy runs it in development's namespace, by digest.
	b1, depID := build()
	devDep := waitDeployment(t, a, base, depID, 2*time.Minute)
	nsDev, nsProd := kubernetes.Namespace(project, "development"), kubernetes.Namespace(project, "production")
	if devDep.Status != "succeeded" || devDep.URL != "http://hello-web."+nsDev+".svc:8080" {
		t.Fatalf("development deployment %+v", devDep)
	}
	image := dev.Endpoints.Registry + "/" + project + "/hello@" + devDep.Digest
	if d, err := kc.AppsV1().Deployments(nsDev).Get(t.Context(), "hello", metav1.GetOptions{}); err != nil ||
		d.Spec.Template.Spec.Containers[0].Image != image || d.Status.AvailableReplicas != 1 {
		t.Fatalf("development's Deployment: %v (want image %s, 1 available)", err, image)
	}

	// Promote: the same digest in production's namespace, with production's config.
	prodDep := deployedBy(t, a, base, a.call("POST", base+"/promote", map[string]any{}, http.StatusAccepted, nil), 2*time.Minute)
	if prodDep.Status != "succeeded" || prodDep.Build != b1.ID || prodDep.Digest != devDep.Digest {
		t.Fatalf("promotion %+v", prodDep)
	}
	prod, err := kc.AppsV1().Deployments(nsProd).Get(t.Context(), "hello", metav1.GetOptions{})
	if err != nil || prod.Spec.Template.Spec.Containers[0].Image != image {
		t.Fatalf("production's Deployment: %v", err)
	}
	secret, err := kc.CoreV1().Secrets(nsProd).Get(t.Context(), prod.Spec.Template.Annotations[kubernetes.AnnotationConfig], metav1.GetOptions{})
	if err != nil || string(secret.Data["env.GREETING"]) != "hi prod" {
		t.Fatalf("production's config secret: %v", err)
	}

	// A build whose pods never get ready: the cluster reports ProgressDeadlineExceeded and slipway rolls
	// development back to the previous release, which kept serving.
	commitChange(t, src, map[string]string{".slipway/component.yaml": strings.Replace(
		readFile(t, filepath.Join(src, ".slipway", "component.yaml")), "path: /healthz", "path: /healthz/"+kubetest.UnhealthyImageMarker, 1)})
	broken, depID := build()
	bad := waitDeployment(t, a, base, depID, 2*time.Minute)
	if bad.Status != "failed" || !strings.Contains(bad.Message, "ProgressDeadlineExceeded") || !strings.Contains(bad.Message, "rolled back") {
		t.Fatalf("unhealthy deployment %+v", bad)
	}
	devNow, err := kc.AppsV1().Deployments(nsDev).Get(t.Context(), "hello", metav1.GetOptions{})
	if err != nil || devNow.Spec.Template.Annotations[kubernetes.AnnotationBuild] != b1.ID || devNow.Status.AvailableReplicas != 1 {
		t.Fatalf("development after the failed rollout of %s runs %v (%v)", broken.ID, devNow.Spec.Template.Annotations, err)
	}

	// Only the config of the release serving is left in the cluster.
	secrets, err := kc.CoreV1().Secrets(nsDev).List(t.Context(), metav1.ListOptions{LabelSelector: dataplane.LabelComponent + "=hello"})
	if err != nil || len(secrets.Items) != 1 || secrets.Items[0].Name != devNow.Spec.Template.Annotations[kubernetes.AnnotationConfig] {
		t.Fatalf("config secrets in development: %d (%v), want only the serving release's", len(secrets.Items), err)
	}

	// No drift after slipway's own changes; the deploy history holds no config value.
	var deps struct {
		Items []struct {
			Environment string           `json:"environment"`
			Current     *deploymentState `json:"current"`
			Drift       *struct {
				Detected bool `json:"detected"`
			} `json:"drift"`
		} `json:"items"`
	}
	a.call("GET", base+"/deployments", nil, http.StatusOK, &deps)
	if len(deps.Items) != 2 || deps.Items[0].Current.Build != b1.ID || deps.Items[0].Drift == nil || deps.Items[0].Drift.Detected {
		t.Fatalf("deployments %+v", deps.Items)
	}
	path := filepath.Join(t.TempDir(), "history.json")
	recordHistory(t, dev.Temporal, dev.Keys, workflows.DeployWorkflowID(project, "hello", "development"), path)
	if hist, err := os.ReadFile(path); err != nil || strings.Contains(string(hist), "s3cret-") || strings.Contains(string(hist), "hi dev") ||
		strings.Contains(string(hist), cp.Config.BearerToken) {
		t.Fatalf("the deploy history holds a config value or the cluster's token (%v)", err)
	}

	// Verification on the cluster: development checks /healthz on the release's Service address, which this
	// machine does not reach (kwok's pods serve nothing), so a new release fails its verification and slipway
	// rolls the cluster back to b1 with b1's configs; production, promoted by policy, never gets it.
	a.call("PATCH", "/api/v1/projects/"+project+"/environments/development", map[string]any{"verification": map[string]any{
		"windowSeconds": 2, "http": []map[string]any{{"path": "/healthz", "failures": 1, "intervalSeconds": 1, "maxLatencyMs": 500}}}},
		http.StatusOK, nil)
	a.call("PATCH", "/api/v1/projects/"+project+"/environments/production", map[string]any{"promotion": map[string]any{"policy": "auto", "soakSeconds": 1}},
		http.StatusOK, nil)
	commitChange(t, src, map[string]string{".slipway/component.yaml": strings.Replace(readFile(t, filepath.Join(src, ".slipway", "component.yaml")),
		"path: /healthz/"+kubetest.UnhealthyImageMarker, "path: /healthz", 1), "www/version": "3\n"})
	unverified, depID := build()
	eventually(t, 2*time.Minute, "the unverified release rolled back in development", func() (bool, string) {
		for _, d := range environmentReleases(t, a, base)["development"].History {
			if d.ID == depID {
				return d.Status == "rolled_back" && strings.Contains(d.Message, "verification failed"), d.Status + ": " + d.Message
			}
		}
		return false, "no deployment " + depID
	})
	eventually(t, 2*time.Minute, "b1 back in development's namespace", func() (bool, string) {
		d, err := kc.AppsV1().Deployments(nsDev).Get(t.Context(), "hello", metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		return d.Spec.Template.Annotations[kubernetes.AnnotationBuild] == b1.ID && d.Status.AvailableReplicas == 1,
			"runs " + d.Spec.Template.Annotations[kubernetes.AnnotationBuild]
	})
	if ok, said := func() (bool, string) {
		cur := environmentReleases(t, a, base)["production"].Current
		return cur != nil && cur.Build == b1.ID, fmt.Sprint(cur)
	}(); !ok {
		t.Fatalf("production after %s was rolled back in development: %s", unverified.ID, said)
	}

	// Without the verification, the next build reaches production on the cluster by policy alone.
	a.call("PATCH", "/api/v1/projects/"+project+"/environments/development", map[string]any{"verification": map[string]any{}}, http.StatusOK, nil)
	commitChange(t, src, map[string]string{"www/version": "4\n"})
	next, _ := build()
	eventually(t, 3*time.Minute, "the next build serving in production, promoted by policy", func() (bool, string) {
		cur := environmentReleases(t, a, base)["production"].Current
		return cur != nil && cur.Build == next.ID && cur.Actor == "auto-promote", fmt.Sprintf("%+v", cur)
	})
	if d, err := kc.AppsV1().Deployments(nsProd).Get(t.Context(), "hello", metav1.GetOptions{}); err != nil ||
		d.Spec.Template.Annotations[kubernetes.AnnotationBuild] != next.ID {
		t.Fatalf("production's Deployment after the promotion by policy: %v", err)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
