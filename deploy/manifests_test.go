// Package deploy_test checks the Kubernetes manifests in kubernetes/: what kustomize renders from
// them, that a real API server accepts them, and that the RBAC they grant lets slipway's Kubernetes
// driver do its work in the managed namespaces and nothing outside them.
package deploy_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	k8sruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/yaml"
	k8s "k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/slipway-dev/slipway/dataplane"
	"github.com/slipway-dev/slipway/dataplane/kubernetes"
	"github.com/slipway-dev/slipway/dataplane/kubernetes/kubetest"
	"github.com/slipway-dev/slipway/descriptor"
)

// The names the manifests give slipway's processes and what they manage.
const (
	slipwayNamespace = "slipway"
	workerSA         = "slipway-worker"
	serverSA         = "slipway-server"
	namespacesRole   = "slipway-namespaces"
	production       = "slipway-example-production"
)

// root is the repository's root directory, found from this file's place in it.
func root() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..")
}

// kubectl returns bin/kubectl (`make testtools`). Without it the test is skipped, unless
// CI_REQUIRE_KUBE=1 makes it fail.
func kubectl(tb testing.TB) string {
	tb.Helper()
	path := filepath.Join(root(), "bin", "kubectl")
	if _, err := os.Stat(path); err != nil {
		if os.Getenv("CI_REQUIRE_KUBE") == "1" {
			tb.Fatalf("%s missing and CI_REQUIRE_KUBE=1: run `make testtools`", path)
		}
		tb.Skipf("%s missing: run `make tools`", path)
	}
	return path
}

// run runs bin/kubectl with args from the repository's root, stdin as its input, and returns its
// standard output; it fails tb with its standard error when it fails.
func run(tb testing.TB, stdin io.Reader, args ...string) []byte {
	tb.Helper()
	cmd := exec.CommandContext(tb.Context(), kubectl(tb), args...)
	cmd.Dir = root()
	cmd.Stdin = stdin
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		tb.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.Bytes()
}

// render returns the objects `kubectl kustomize deploy/kubernetes` renders.
func render(tb testing.TB) []unstructured.Unstructured {
	tb.Helper()
	out := run(tb, nil, "kustomize", filepath.Join("deploy", "kubernetes"))
	dec := yaml.NewYAMLOrJSONDecoder(bytes.NewReader(out), 4096)
	var objs []unstructured.Unstructured
	for {
		var m map[string]any
		err := dec.Decode(&m)
		if errors.Is(err, io.EOF) {
			return objs
		}
		if err != nil {
			tb.Fatalf("decoding kustomize's output: %v", err)
		}
		if m != nil {
			objs = append(objs, unstructured.Unstructured{Object: m})
		}
	}
}

// rendered are the objects of the manifests by kind, converted to their types.
type rendered struct {
	all          []unstructured.Unstructured
	namespaces   []corev1.Namespace
	deployments  []appsv1.Deployment
	services     []corev1.Service
	configMaps   []corev1.ConfigMap
	clusterRoles []rbacv1.ClusterRole
	roleBindings []rbacv1.RoleBinding
}

// parse sorts objs by kind into their types, refusing fields the types do not have.
func parse(tb testing.TB, objs []unstructured.Unstructured) rendered {
	tb.Helper()
	r := rendered{all: objs}
	for _, o := range objs {
		var into any
		switch o.GetKind() {
		case "Namespace":
			r.namespaces = append(r.namespaces, corev1.Namespace{})
			into = &r.namespaces[len(r.namespaces)-1]
		case "Deployment":
			r.deployments = append(r.deployments, appsv1.Deployment{})
			into = &r.deployments[len(r.deployments)-1]
		case "Service":
			r.services = append(r.services, corev1.Service{})
			into = &r.services[len(r.services)-1]
		case "ConfigMap":
			r.configMaps = append(r.configMaps, corev1.ConfigMap{})
			into = &r.configMaps[len(r.configMaps)-1]
		case "ClusterRole":
			r.clusterRoles = append(r.clusterRoles, rbacv1.ClusterRole{})
			into = &r.clusterRoles[len(r.clusterRoles)-1]
		case "RoleBinding":
			r.roleBindings = append(r.roleBindings, rbacv1.RoleBinding{})
			into = &r.roleBindings[len(r.roleBindings)-1]
		default:
			continue
		}
		if err := k8sruntime.DefaultUnstructuredConverter.FromUnstructuredWithValidation(o.Object, into, true); err != nil {
			tb.Fatalf("%s %s: %v", o.GetKind(), o.GetName(), err)
		}
	}
	return r
}

// managed are the names of the Namespaces labelled as slipway's to deploy to.
func (r rendered) managed() []string {
	var names []string
	for _, ns := range r.namespaces {
		if ns.Labels[dataplane.LabelManaged] == "true" {
			names = append(names, ns.Name)
		}
	}
	slices.Sort(names)
	return names
}

func (r rendered) deployment(tb testing.TB, name string) appsv1.Deployment {
	tb.Helper()
	for _, d := range r.deployments {
		if d.Name == name {
			return d
		}
	}
	tb.Fatalf("no Deployment %s rendered", name)
	return appsv1.Deployment{}
}

// clusterScoped are the kinds of the manifests that live in no namespace.
var clusterScoped = map[string]bool{"Namespace": true, "ClusterRole": true, "ClusterRoleBinding": true}

func TestManifestsRender(t *testing.T) {
	r := parse(t, render(t))

	// kustomization.yaml has no namespace transformer, so each object must say where it goes, or
	// `kubectl apply -k` would put it in the namespace of whoever runs it.
	for _, o := range r.all {
		if !clusterScoped[o.GetKind()] && o.GetNamespace() == "" {
			t.Errorf("%s %s names no namespace", o.GetKind(), o.GetName())
		}
		if o.GetKind() == "ClusterRoleBinding" {
			t.Errorf("ClusterRoleBinding %s: slipway is bound only by RoleBindings in the namespaces it manages", o.GetName())
		}
	}

	for _, ns := range r.namespaces {
		if ns.Name == slipwayNamespace && ns.Labels["pod-security.kubernetes.io/enforce"] != "restricted" {
			t.Errorf("namespace %s enforces Pod Security %q, want restricted", ns.Name, ns.Labels["pod-security.kubernetes.io/enforce"])
		}
	}

	for _, d := range r.deployments {
		pod := d.Spec.Template.Spec
		for _, c := range pod.Containers {
			where := d.Namespace + "/" + d.Name + " container " + c.Name
			if c.Resources.Limits.Memory().IsZero() {
				t.Errorf("%s has no memory limit", where)
			}
			if c.Resources.Requests.Cpu().IsZero() || c.Resources.Requests.Memory().IsZero() {
				t.Errorf("%s requests no CPU or no memory", where)
			}
			if c.SecurityContext == nil {
				t.Errorf("%s has no securityContext", where)
			}
			nonRoot := pod.SecurityContext != nil && pod.SecurityContext.RunAsNonRoot != nil && *pod.SecurityContext.RunAsNonRoot
			if c.SecurityContext != nil && c.SecurityContext.RunAsNonRoot != nil {
				nonRoot = *c.SecurityContext.RunAsNonRoot
			}
			if !nonRoot {
				t.Errorf("%s may run as root", where)
			}
		}
		if d.Namespace == slipwayNamespace && (pod.SecurityContext == nil || pod.SecurityContext.SeccompProfile == nil) {
			t.Errorf("%s/%s has no pod securityContext with a seccomp profile", d.Namespace, d.Name)
		}
		// Only the processes that call the Kubernetes API get a token.
		wantToken := d.Name == "slipway-worker" || d.Name == "slipway-server"
		if got := pod.AutomountServiceAccountToken != nil && *pod.AutomountServiceAccountToken; got != wantToken {
			t.Errorf("%s/%s automounts a service account token: %v, want %v", d.Namespace, d.Name, got, wantToken)
		}
	}
	if got := r.deployment(t, "slipway-worker").Spec.Template.Spec.ServiceAccountName; got != workerSA {
		t.Errorf("the worker runs as service account %q, want %s", got, workerSA)
	}
	if got := r.deployment(t, "slipway-server").Spec.Template.Spec.ServiceAccountName; got != serverSA {
		t.Errorf("the server runs as service account %q, want %s", got, serverSA)
	}

	checkBuildkitAddress(t, r)
	checkBindings(t, r)
}

// checkBuildkitAddress checks that the worker's SLIPWAY_BUILDKIT_ADDRESS is buildkitd's Service.
func checkBuildkitAddress(t *testing.T, r rendered) {
	t.Helper()
	bk := r.deployment(t, "buildkitd")
	var want []string
	for _, s := range r.services {
		if s.Namespace != bk.Namespace {
			continue
		}
		for _, p := range s.Spec.Ports {
			want = append(want, fmt.Sprintf("tcp://%s.%s.svc.cluster.local:%d", s.Name, s.Namespace, p.Port))
		}
	}
	var got []string
	for _, from := range r.deployment(t, "slipway-worker").Spec.Template.Spec.Containers[0].EnvFrom {
		for _, cm := range r.configMaps {
			if from.ConfigMapRef != nil && cm.Name == from.ConfigMapRef.Name && cm.Namespace == slipwayNamespace {
				if a, ok := cm.Data["SLIPWAY_BUILDKIT_ADDRESS"]; ok {
					got = append(got, a)
				}
			}
		}
	}
	if len(got) != 1 || !slices.Contains(want, got[0]) {
		t.Errorf("the worker's SLIPWAY_BUILDKIT_ADDRESS = %q, want one of %q", got, want)
	}
}

// checkBindings checks that every RoleBinding is in a managed namespace, each managed namespace has
// the worker's and the server's, and the namespaces role names exactly the managed namespaces.
func checkBindings(t *testing.T, r rendered) {
	t.Helper()
	managed := r.managed()
	if !slices.Contains(managed, production) {
		t.Fatalf("managed namespaces %q lack the example %s", managed, production)
	}
	want := map[string]string{"slipway-deployer": workerSA, namespacesRole: workerSA, "slipway-drift-reader": serverSA}
	got := map[string]map[string]string{} // namespace → role → service account
	for _, rb := range r.roleBindings {
		if !slices.Contains(managed, rb.Namespace) {
			t.Errorf("RoleBinding %s/%s is outside the managed namespaces %q", rb.Namespace, rb.Name, managed)
		}
		if rb.RoleRef.Kind != "ClusterRole" || want[rb.RoleRef.Name] == "" {
			t.Errorf("RoleBinding %s/%s binds %s %s", rb.Namespace, rb.Name, rb.RoleRef.Kind, rb.RoleRef.Name)
			continue
		}
		if len(rb.Subjects) != 1 || rb.Subjects[0].Kind != rbacv1.ServiceAccountKind || rb.Subjects[0].Namespace != slipwayNamespace {
			t.Errorf("RoleBinding %s/%s binds %+v, want one service account in namespace %s", rb.Namespace, rb.Name, rb.Subjects, slipwayNamespace)
			continue
		}
		if got[rb.Namespace] == nil {
			got[rb.Namespace] = map[string]string{}
		}
		got[rb.Namespace][rb.RoleRef.Name] = rb.Subjects[0].Name
	}
	for _, ns := range managed {
		for role, sa := range want {
			if got[ns][role] != sa {
				t.Errorf("namespace %s binds %s to %q, want %s", ns, role, got[ns][role], sa)
			}
		}
	}

	for _, cr := range r.clusterRoles {
		for _, rule := range cr.Rules {
			for _, s := range slices.Concat(rule.Verbs, rule.Resources, rule.APIGroups) {
				if s == "*" || s == "escalate" || s == "bind" || s == "impersonate" {
					t.Errorf("ClusterRole %s grants %q", cr.Name, s)
				}
			}
			if slices.Contains(rule.Resources, "namespaces") && cr.Name != namespacesRole {
				t.Errorf("ClusterRole %s grants on namespaces; only %s may", cr.Name, namespacesRole)
			}
		}
		if cr.Name != namespacesRole {
			continue
		}
		for _, rule := range cr.Rules {
			names := slices.Sorted(slices.Values(rule.ResourceNames))
			if !slices.Equal(names, managed) {
				t.Errorf("ClusterRole %s names %q, want the managed namespaces %q", cr.Name, names, managed)
			}
			if slices.Contains(rule.Verbs, "create") || slices.Contains(rule.Verbs, "delete") {
				t.Errorf("ClusterRole %s may create or delete namespaces: %q", cr.Name, rule.Verbs)
			}
		}
	}
}

// TestManifestsOnControlPlane applies the manifests to a real control plane: a server-side dry run
// first, then for real. The pods must pass Pod Security admission in their namespaces, and the
// service accounts must be able to do what slipway does, where it does it, and nothing beyond.
func TestManifestsOnControlPlane(t *testing.T) {
	kubectl(t)
	objs := render(t)
	cp := kubetest.Start(t)
	admin := cp.Client(t)
	ctx := t.Context()
	dir := filepath.Join("deploy", "kubernetes")

	// A dry run creates no namespace, so the objects in one would be NotFound: the Namespaces first.
	var list []any
	for _, o := range objs {
		if o.GetKind() == "Namespace" {
			list = append(list, o.Object)
		}
	}
	nsJSON, err := json.Marshal(map[string]any{"apiVersion": "v1", "kind": "List", "items": list})
	if err != nil {
		t.Fatal(err)
	}
	run(t, bytes.NewReader(nsJSON), "--kubeconfig", cp.Kubeconfig, "apply", "-f", "-")
	out := run(t, nil, "--kubeconfig", cp.Kubeconfig, "apply", "--dry-run=server", "-k", dir)
	t.Logf("server-side dry run:\n%s", out)
	run(t, nil, "--kubeconfig", cp.Kubeconfig, "apply", "-k", dir)

	// Pod Security admission lets each Deployment's pods in (kwok makes them Ready).
	for _, o := range objs {
		if o.GetKind() != "Deployment" {
			continue
		}
		kubetest.Eventually(t, 60*time.Second, "Deployment "+o.GetNamespace()+"/"+o.GetName()+" available", func() error {
			d, err := admin.AppsV1().Deployments(o.GetNamespace()).Get(ctx, o.GetName(), metav1.GetOptions{})
			if err != nil {
				return err
			}
			for _, c := range d.Status.Conditions {
				if c.Type == appsv1.DeploymentReplicaFailure && c.Status == corev1.ConditionTrue {
					return fmt.Errorf("%s: %s", c.Reason, c.Message)
				}
			}
			if d.Status.AvailableReplicas != *d.Spec.Replicas {
				return fmt.Errorf("%d of %d replicas available", d.Status.AvailableReplicas, *d.Spec.Replicas)
			}
			return nil
		})
	}

	t.Run("access", func(t *testing.T) { checkAccess(t, admin) })
	t.Run("driver", func(t *testing.T) { runDriver(t, cp.Config, admin) })
}

// serviceAccount is the user name of service account name in namespace slipway.
func serviceAccount(name string) string {
	return "system:serviceaccount:" + slipwayNamespace + ":" + name
}

// checkAccess asks the API server's authorizer what the service accounts may do.
func checkAccess(t *testing.T, admin k8s.Interface) {
	worker, server := serviceAccount(workerSA), serviceAccount(serverSA)
	for _, c := range []struct {
		user, verb, group, resource, namespace, name string
		want                                         bool
	}{
		{worker, "patch", "apps", "deployments", production, "", true},
		{worker, "delete", "apps", "deployments", production, "", true},
		{worker, "create", "", "secrets", production, "", true},
		{worker, "patch", "", "services", production, "", true},
		{worker, "patch", "networking.k8s.io", "networkpolicies", production, "", true},
		{worker, "patch", "networking.k8s.io", "ingresses", production, "", true},
		{worker, "delete", "networking.k8s.io", "ingresses", production, "", true},
		{worker, "list", "", "pods", production, "", true},
		{worker, "patch", "batch", "jobs", production, "", true},
		{worker, "delete", "batch", "jobs", production, "", true},
		{worker, "patch", "batch", "jobs", "kube-system", "", false},
		{worker, "create", "", "secrets", "default", "", false},
		{worker, "create", "", "secrets", "kube-system", "", false},
		{worker, "patch", "apps", "deployments", "kube-system", "", false},
		// slipway's own Secrets (the KEK, the DSN) are not the worker's to read through the API.
		{worker, "get", "", "secrets", slipwayNamespace, "slipway-kek", false},
		{worker, "create", "", "pods", production, "", false},
		{worker, "create", "rbac.authorization.k8s.io", "rolebindings", production, "", false},
		// A request on /api/v1/namespaces/<name> is, to the authorizer, in namespace <name>.
		{worker, "patch", "", "namespaces", production, production, true},
		{worker, "get", "", "namespaces", production, production, true},
		{worker, "patch", "", "namespaces", "default", "default", false},
		{worker, "patch", "", "namespaces", "kube-system", "kube-system", false},
		{worker, "delete", "", "namespaces", production, production, false},
		{worker, "create", "", "namespaces", "", "", false},
		{server, "get", "apps", "deployments", production, "", true},
		{server, "create", "apps", "deployments", production, "", false},
		{server, "patch", "apps", "deployments", production, "", false},
		{server, "get", "", "secrets", production, "", false},
		{server, "get", "apps", "deployments", "kube-system", "", false},
	} {
		sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
			User:   c.user,
			Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + slipwayNamespace, "system:authenticated"},
			ResourceAttributes: &authorizationv1.ResourceAttributes{
				Verb: c.verb, Group: c.group, Resource: c.resource, Namespace: c.namespace, Name: c.name,
			},
		}}
		got, err := admin.AuthorizationV1().SubjectAccessReviews().Create(t.Context(), sar, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got.Status.Allowed != c.want {
			t.Errorf("%s %s %s %s/%s in %q: allowed %v, want %v (%s)", c.user, c.verb, c.group, c.resource, c.name,
				c.namespace, got.Status.Allowed, c.want, got.Status.Reason)
		}
	}
}

// as returns a client acting as service account name, the way its token would.
func as(t *testing.T, admin *rest.Config, name string) k8s.Interface {
	t.Helper()
	cfg := rest.CopyConfig(admin)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: serviceAccount(name)}
	c, err := k8s.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// runDriver runs slipway's Kubernetes driver as the worker's service account and its drift check
// as the server's, through a deploy, a hand edit, a redeploy, the clean-up of the old config
// Secret and the deletion of a failed first release: every call the driver makes must be allowed
// in a managed namespace, and refused outside one.
func runDriver(t *testing.T, admin *rest.Config, cluster k8s.Interface) {
	ctx := t.Context()
	worker := &kubernetes.Driver{Client: as(t, admin, workerSA), Poll: 200 * time.Millisecond, ProgressDeadline: 30 * time.Second}
	server := &kubernetes.Driver{Client: as(t, admin, serverSA)}
	const project, env = "example", "production"
	if ns := kubernetes.Namespace(project, env); ns != production {
		t.Fatalf("the driver's namespace for %s/%s is %s, not the example %s", project, env, ns, production)
	}
	release := func(build, greeting string) dataplane.Release {
		const digest = "sha256:2222222222222222222222222222222222222222222222222222222222222222"
		return dataplane.Release{
			Project: project, Component: "api", Environment: env, BuildID: build,
			Image: "registry.local/example/api@" + digest, Digest: digest, Replicas: 1,
			Env:       map[string]string{"GREETING": greeting},
			Endpoints: []descriptor.Endpoint{{Name: "web", Port: 8080, Type: descriptor.REST}},
			CPUs:      0.1, MemoryBytes: 32 << 20,
		}
	}
	deploy := func(r dataplane.Release) {
		t.Helper()
		// Overwriting a hand-edited Deployment is an update that can race the deployment
		// controller's status writes (409 Conflict); the deploy activity is retried then, so here too.
		_, err := worker.Apply(ctx, r)
		for attempt := 1; apierrors.IsConflict(err) && attempt < 5; attempt++ {
			t.Logf("Apply %s, attempt %d: %v", r.BuildID, attempt, err)
			_, err = worker.Apply(ctx, r)
		}
		if err != nil {
			t.Fatalf("Apply %s as the worker: %v", r.BuildID, err)
		}
		wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
		defer cancel()
		if p, err := worker.WaitReady(wctx, r, nil); err != nil || !p.Ready {
			t.Fatalf("WaitReady %s as the worker: %+v, %v", r.BuildID, p, err)
		}
	}
	drift := func() dataplane.Drift {
		t.Helper()
		d, err := server.Drift(ctx, project, "api", env)
		if err != nil {
			t.Fatalf("Drift as the server: %v", err)
		}
		return d
	}

	b1 := release("b-1", "hello")
	deploy(b1)
	if got, err := worker.Describe(ctx, project, "api", env); err != nil || len(got) != 1 {
		t.Fatalf("Describe as the worker: %+v, %v", got, err)
	}
	if d := drift(); d.Detected {
		t.Fatalf("drift right after a deploy: %+v", d)
	}

	// A hand edit: the server reports it, the worker's next deploy overwrites it (an update).
	patch := []byte(`{"spec":{"template":{"metadata":{"annotations":{"edited":"by hand"}}}}}`)
	if _, err := cluster.AppsV1().Deployments(production).Patch(ctx, "api", types.StrategicMergePatchType, patch,
		metav1.PatchOptions{FieldManager: "kubectl-edit"}); err != nil {
		t.Fatal(err)
	}
	if d := drift(); !d.Detected || !strings.Contains(d.Message, "kubectl-edit") {
		t.Fatalf("drift after a hand edit: %+v", d)
	}
	b2 := release("b-2", "bonjour")
	deploy(b2)
	if d := drift(); d.Detected {
		t.Fatalf("drift after the redeploy: %+v", d)
	}
	if err := worker.Remove(ctx, project, "api", env, b1.BuildID, 0); err != nil {
		t.Fatalf("Remove as the worker: %v", err)
	}
	secrets, err := cluster.CoreV1().Secrets(production).List(ctx, metav1.ListOptions{LabelSelector: dataplane.LabelComponent + "=api"})
	if err != nil || len(secrets.Items) != 1 {
		t.Fatalf("config secrets after Remove: %d, %v; want b-2's only", len(secrets.Items), err)
	}
	// A first release that failed is deleted.
	if err := worker.Restore(ctx, b2, nil); err != nil {
		t.Fatalf("Restore as the worker: %v", err)
	}
	if d := drift(); !d.Detected || !strings.Contains(d.Message, "gone") {
		t.Fatalf("drift after the deployment was deleted: %+v", d)
	}

	// Outside the managed namespaces the same driver gets nowhere.
	for _, ns := range []string{"default", "kube-system"} {
		outside := &kubernetes.Driver{Client: worker.Client, Namespace: ns}
		_, err := outside.Apply(ctx, b1)
		if !apierrors.IsForbidden(err) {
			t.Errorf("Apply in namespace %s as the worker: %v, want forbidden", ns, err)
		}
	}
}
