package kubernetes

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/slipway-dev/slipway/dataplane"
	"github.com/slipway-dev/slipway/descriptor"
)

const digest = "sha256:1111111111111111111111111111111111111111111111111111111111111111"

func release(build string, env map[string]string) dataplane.Release {
	return dataplane.Release{
		Project: "shop", Component: "api", Environment: "dev", BuildID: build, Commit: "abc123",
		Image: "registry.local/shop/api@" + digest, Digest: digest, Replicas: 2,
		Env:   env,
		Files: map[string][]byte{"/etc/app/tls.key": []byte("KEY")},
		Endpoints: []descriptor.Endpoint{
			{Name: "web", Port: 8080, Type: descriptor.REST},
			{Name: "metrics-for-prometheus", Port: 9090, Type: descriptor.TCP},
		},
		Readiness: &descriptor.Probe{HTTP: &descriptor.HTTPProbe{Path: "/healthz", Port: 8080}, PeriodSeconds: 2, TimeoutSeconds: 1, FailureThreshold: 3},
		Liveness:  &descriptor.Probe{TCP: &descriptor.TCPProbe{Port: 8080}, PeriodSeconds: 10, TimeoutSeconds: 1, FailureThreshold: 3},
		CPUs:      0.5, MemoryBytes: 64 << 20,
	}
}

func TestApplyWritesNamespacePolicySecretDeploymentAndServices(t *testing.T) {
	ctx := context.Background()
	c := fake.NewClientset()
	d := &Driver{Client: c, IngressNamespaces: []string{"ingress-nginx"}, ProgressDeadline: 45 * time.Second}
	r := release("b-1", map[string]string{"GREETING": "hello", "API_TOKEN": "s3cret"})
	if _, err := d.Apply(ctx, r); err != nil {
		t.Fatal(err)
	}
	ns := "slipway-shop-dev"
	got, err := c.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got.Labels[dataplane.LabelProject] != "shop" || got.Labels[dataplane.LabelEnvironment] != "dev" || got.Labels[dataplane.LabelManaged] != "true" {
		t.Errorf("namespace labels = %v", got.Labels)
	}

	np, err := c.NetworkingV1().NetworkPolicies(ns).Get(ctx, isolationPolicy, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if np.Spec.PodSelector.MatchLabels[dataplane.LabelManaged] != "true" || len(np.Spec.Ingress) != 1 || len(np.Spec.Ingress[0].From) != 2 {
		t.Fatalf("network policy spec = %+v", np.Spec)
	}
	from := np.Spec.Ingress[0].From
	if from[0].PodSelector == nil || from[0].NamespaceSelector != nil {
		t.Errorf("first peer should be every pod of the same namespace: %+v", from[0])
	}
	if from[1].NamespaceSelector == nil || from[1].NamespaceSelector.MatchLabels[corev1.LabelMetadataName] != "ingress-nginx" {
		t.Errorf("second peer should be the ingress namespace: %+v", from[1])
	}

	secrets, err := c.CoreV1().Secrets(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(secrets.Items) != 1 {
		t.Fatalf("%d secrets, want 1", len(secrets.Items))
	}
	s := secrets.Items[0]
	if !strings.HasPrefix(s.Name, "api-config-") || s.Immutable == nil || !*s.Immutable {
		t.Errorf("secret %s immutable=%v", s.Name, s.Immutable)
	}
	if string(s.Data["env.API_TOKEN"]) != "s3cret" || string(s.Data["file.0"]) != "KEY" {
		t.Errorf("secret data keys wrong: %v", keys(s.Data))
	}

	dep, err := c.AppsV1().Deployments(ns).Get(ctx, "api", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sp := dep.Spec
	if *sp.Replicas != 2 || *sp.ProgressDeadlineSeconds != 45 {
		t.Errorf("replicas %d, progress deadline %d", *sp.Replicas, *sp.ProgressDeadlineSeconds)
	}
	if ru := sp.Strategy.RollingUpdate; sp.Strategy.Type != appsv1.RollingUpdateDeploymentStrategyType ||
		ru.MaxSurge.IntValue() != 1 || ru.MaxUnavailable.IntValue() != 0 {
		t.Errorf("strategy = %+v", sp.Strategy)
	}
	tpl := sp.Template
	if tpl.Annotations[AnnotationBuild] != "b-1" || tpl.Annotations[AnnotationDigest] != digest ||
		tpl.Annotations[AnnotationCommit] != "abc123" || tpl.Annotations[AnnotationConfig] != s.Name {
		t.Errorf("template annotations = %v", tpl.Annotations)
	}
	ctr := tpl.Spec.Containers[0]
	if ctr.Image != r.Image {
		t.Errorf("image %q, want by digest %q", ctr.Image, r.Image)
	}
	if len(ctr.Env) != 2 || ctr.Env[0].Name != "API_TOKEN" || ctr.Env[0].Value != "" ||
		ctr.Env[0].ValueFrom.SecretKeyRef.Name != s.Name || ctr.Env[0].ValueFrom.SecretKeyRef.Key != "env.API_TOKEN" {
		t.Errorf("env = %+v (values must come from the secret, never inline)", ctr.Env)
	}
	if len(ctr.VolumeMounts) != 1 || ctr.VolumeMounts[0].MountPath != "/etc/app/tls.key" || ctr.VolumeMounts[0].SubPath != "file.0" {
		t.Errorf("mounts = %+v", ctr.VolumeMounts)
	}
	if ctr.ReadinessProbe == nil || ctr.ReadinessProbe.HTTPGet.Path != "/healthz" || ctr.ReadinessProbe.PeriodSeconds != 2 {
		t.Errorf("readiness = %+v", ctr.ReadinessProbe)
	}
	if ctr.LivenessProbe == nil || ctr.LivenessProbe.TCPSocket == nil || ctr.LivenessProbe.TCPSocket.Port.IntValue() != 8080 {
		t.Errorf("liveness = %+v", ctr.LivenessProbe)
	}
	if cpu := ctr.Resources.Limits[corev1.ResourceCPU]; cpu.MilliValue() != 500 {
		t.Errorf("cpu limit %s", cpu.String())
	}
	if mem := ctr.Resources.Limits[corev1.ResourceMemory]; mem.Value() != 64<<20 {
		t.Errorf("memory limit %s", mem.String())
	}
	if len(ctr.Ports) != 2 || len(ctr.Ports[1].Name) > 15 {
		t.Errorf("ports = %+v", ctr.Ports)
	}

	svcs, err := c.CoreV1().Services(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(svcs.Items) != 2 {
		t.Fatalf("%d services, want one per endpoint", len(svcs.Items))
	}
	web, err := c.CoreV1().Services(ns).Get(ctx, "api-web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if web.Spec.Ports[0].Port != 8080 || web.Spec.Selector[dataplane.LabelComponent] != "api" {
		t.Errorf("service api-web = %+v", web.Spec)
	}
	if u, err := d.Serve(ctx, r, nil, nil); err != nil || u != "http://api-web.slipway-shop-dev.svc:8080" {
		t.Errorf("Serve = %q, %v; want the Service of the first TCP-borne endpoint, no entry needed", u, err)
	}
	r.Endpoints = []descriptor.Endpoint{{Name: "dns", Port: 53, Type: descriptor.UDP}}
	if u, err := d.Serve(ctx, r, nil, nil); err != nil || u != "" {
		t.Errorf("Serve of a release with no TCP-borne endpoint = %q, %v; want none", u, err)
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestConfigChangeNamesANewSecretAndSameConfigTheSame(t *testing.T) {
	a, _, _ := configData(release("b-1", map[string]string{"GREETING": "hello"}))
	b, _, _ := configData(release("b-2", map[string]string{"GREETING": "hello"}))
	c, _, _ := configData(release("b-1", map[string]string{"GREETING": "hola"}))
	if a != b {
		t.Errorf("same config, different builds: %s vs %s (the secret is named by content only)", a, b)
	}
	if a == c {
		t.Errorf("different config, same secret name %s", a)
	}
	// A value's bytes cannot move between keys without changing the name.
	x, _, _ := configData(dataplane.Release{Component: "api", Env: map[string]string{"A": "b\x00c", "D": ""}})
	y, _, _ := configData(dataplane.Release{Component: "api", Env: map[string]string{"A": "b", "D": "c"}})
	if x == y {
		t.Error("ambiguous hash of configs")
	}
}

func TestApplyIsIdempotentAndRemoveKeepsOnlyTheSecretInUse(t *testing.T) {
	ctx := context.Background()
	c := fake.NewClientset()
	d := &Driver{Client: c}
	first := release("b-1", map[string]string{"GREETING": "hello"})
	for range 2 {
		if _, err := d.Apply(ctx, first); err != nil {
			t.Fatal(err)
		}
	}
	second := release("b-2", map[string]string{"GREETING": "hola"})
	if _, err := d.Apply(ctx, second); err != nil {
		t.Fatal(err)
	}
	ns := Namespace("shop", "dev")
	secrets, _ := c.CoreV1().Secrets(ns).List(ctx, metav1.ListOptions{})
	if len(secrets.Items) != 2 {
		t.Fatalf("%d secrets after two configs, want 2", len(secrets.Items))
	}
	if err := d.Remove(ctx, "shop", "api", "dev", "b-1", 0); err != nil {
		t.Fatal(err)
	}
	secrets, _ = c.CoreV1().Secrets(ns).List(ctx, metav1.ListOptions{})
	name, _, _ := configData(second)
	if len(secrets.Items) != 1 || secrets.Items[0].Name != name {
		t.Fatalf("after Remove: %v, want only %s", secrets.Items, name)
	}
}

func TestRolloutStatusJudgesAsKubectl(t *testing.T) {
	three := int32(3)
	for _, tc := range []struct {
		name string
		gen  int64
		st   appsv1.DeploymentStatus
		done bool
		err  bool
	}{
		{"spec not observed", 2, appsv1.DeploymentStatus{ObservedGeneration: 1, UpdatedReplicas: 3, Replicas: 3, AvailableReplicas: 3}, false, false},
		{"updating", 1, appsv1.DeploymentStatus{ObservedGeneration: 1, UpdatedReplicas: 1, Replicas: 4, AvailableReplicas: 3}, false, false},
		{"old pending", 1, appsv1.DeploymentStatus{ObservedGeneration: 1, UpdatedReplicas: 3, Replicas: 4, AvailableReplicas: 3}, false, false},
		{"not available", 1, appsv1.DeploymentStatus{ObservedGeneration: 1, UpdatedReplicas: 3, Replicas: 3, AvailableReplicas: 2}, false, false},
		{"complete", 1, appsv1.DeploymentStatus{ObservedGeneration: 1, UpdatedReplicas: 3, Replicas: 3, AvailableReplicas: 3}, true, false},
		{"deadline", 1, appsv1.DeploymentStatus{ObservedGeneration: 1, UpdatedReplicas: 1, Replicas: 4, AvailableReplicas: 3,
			Conditions: []appsv1.DeploymentCondition{{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionFalse,
				Reason: "ProgressDeadlineExceeded", Message: `ReplicaSet "api-x" has timed out progressing.`}}}, false, true},
	} {
		d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Generation: tc.gen}, Spec: appsv1.DeploymentSpec{Replicas: &three}, Status: tc.st}
		msg, done, err := rolloutStatus(d)
		if done != tc.done || (err != nil) != tc.err || (err != nil && !errors.Is(err, ErrProgressDeadline)) {
			t.Errorf("%s: done=%v err=%v (%s)", tc.name, done, err, msg)
		}
	}
}

func TestWaitReadyEndsOnCompleteOrDeadline(t *testing.T) {
	ctx := context.Background()
	c := fake.NewClientset()
	d := &Driver{Client: c, Poll: 10 * time.Millisecond}
	r := release("b-1", nil)
	if _, err := d.Apply(ctx, r); err != nil {
		t.Fatal(err)
	}
	setStatus := func(st appsv1.DeploymentStatus) {
		t.Helper()
		dep, err := c.AppsV1().Deployments("slipway-shop-dev").Get(ctx, "api", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		dep.Status = st
		if _, err := c.AppsV1().Deployments("slipway-shop-dev").UpdateStatus(ctx, dep, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	var beats []string
	done := make(chan error, 1)
	var last dataplane.Probe
	go func() {
		var err error
		last, err = d.WaitReady(ctx, r, func(p dataplane.Probe) { beats = append(beats, p.Message) })
		done <- err
	}()
	setStatus(appsv1.DeploymentStatus{UpdatedReplicas: 2, Replicas: 2, AvailableReplicas: 2})
	select {
	case err := <-done:
		if err != nil || !last.Ready {
			t.Fatalf("WaitReady = %+v, %v", last, err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("WaitReady never saw the complete rollout")
	}

	setStatus(appsv1.DeploymentStatus{UpdatedReplicas: 1, Replicas: 3, AvailableReplicas: 2,
		Conditions: []appsv1.DeploymentCondition{{Type: appsv1.DeploymentProgressing, Reason: "ProgressDeadlineExceeded", Message: "timed out"}}})
	p, err := d.WaitReady(ctx, r, nil)
	if !errors.Is(err, ErrProgressDeadline) || p.Ready || !strings.Contains(p.Message, "timed out") {
		t.Fatalf("WaitReady = %+v, %v; want ErrProgressDeadline", p, err)
	}

	// A deployment someone pointed at another build is not this release's rollout.
	other := release("b-9", nil)
	if _, err := d.Apply(ctx, other); err != nil {
		t.Fatal(err)
	}
	if _, err := d.WaitReady(ctx, r, nil); err == nil || !strings.Contains(err.Error(), "b-9") {
		t.Fatalf("WaitReady of a replaced release: %v", err)
	}
}

// A rollout on a cluster leaves nothing running beside the new release: Commit names no build and
// deletes the Secrets of the configs replaced; the cluster judges readiness, so the rollout waits for its
// verdict, and Restore needs the previous release.
func TestCommitNamesNothingAndKeepsOnlyTheSecretInUse(t *testing.T) {
	ctx := context.Background()
	c := fake.NewClientset()
	d := &Driver{Client: c}
	if d.VerdictWait() <= 0 || !d.ReplacesInPlace() {
		t.Fatalf("VerdictWait %v, ReplacesInPlace %v; want a wait for the cluster's verdict and in-place replacement", d.VerdictWait(), d.ReplacesInPlace())
	}
	first := release("b-1", map[string]string{"GREETING": "hello"})
	second := release("b-2", map[string]string{"GREETING": "hola"})
	for _, r := range []dataplane.Release{first, second} {
		if _, err := d.Apply(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	for range 2 { // idempotent
		replaced, err := d.Commit(ctx, second)
		if err != nil || replaced != nil {
			t.Fatalf("Commit = %v, %v; want no build named", replaced, err)
		}
	}
	secrets, _ := c.CoreV1().Secrets(Namespace("shop", "dev")).List(ctx, metav1.ListOptions{})
	name, _, _ := configData(second)
	if len(secrets.Items) != 1 || secrets.Items[0].Name != name {
		t.Fatalf("after Commit: %v, want only %s", secrets.Items, name)
	}
}

// Remove removes what a build runs: the Deployment while it runs that build, never while it runs another.
func TestRemoveDeletesTheDeploymentOnlyWhileItRunsTheBuild(t *testing.T) {
	ctx := context.Background()
	c := fake.NewClientset()
	d := &Driver{Client: c}
	ns := Namespace("shop", "dev")
	r := release("b-2", map[string]string{"GREETING": "hola"})
	if _, err := d.Apply(ctx, r); err != nil {
		t.Fatal(err)
	}
	if err := d.Remove(ctx, "shop", "api", "dev", "b-1", 0); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AppsV1().Deployments(ns).Get(ctx, "api", metav1.GetOptions{}); err != nil {
		t.Fatalf("Remove of a build the Deployment no longer runs deleted it: %v", err)
	}
	if secrets, _ := c.CoreV1().Secrets(ns).List(ctx, metav1.ListOptions{}); len(secrets.Items) != 1 {
		t.Fatalf("%d secrets after removing b-1, want b-2's in use", len(secrets.Items))
	}
	for range 2 { // idempotent
		if err := d.Remove(ctx, "shop", "api", "dev", "b-2", time.Second); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.AppsV1().Deployments(ns).Get(ctx, "api", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("the Deployment of the removed b-2 is still there: %v", err)
	}
	if secrets, _ := c.CoreV1().Secrets(ns).List(ctx, metav1.ListOptions{}); len(secrets.Items) != 0 {
		t.Fatalf("%d secrets after removing the build that ran, want none", len(secrets.Items))
	}
}

func TestRestoreWithoutPreviousDeletesTheDeployment(t *testing.T) {
	ctx := context.Background()
	c := fake.NewClientset()
	d := &Driver{Client: c}
	r := release("b-1", nil)
	if _, err := d.Apply(ctx, r); err != nil {
		t.Fatal(err)
	}
	if err := d.Restore(ctx, r, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AppsV1().Deployments("slipway-shop-dev").Get(ctx, "api", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("deployment still there: %v", err)
	}
	// Idempotent: a retried Restore finds nothing to delete.
	if err := d.Restore(ctx, r, nil); err != nil {
		t.Fatal(err)
	}
}

func TestDriftReportsForeignSpecManagers(t *testing.T) {
	raw := `{"f:spec":{"f:replicas":{},"f:template":{"f:spec":{}}}}`
	when := metav1.NewTime(time.Date(2026, 11, 26, 13, 4, 5, 0, time.UTC))
	dep := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{ManagedFields: []metav1.ManagedFieldsEntry{
		{Manager: FieldManager, Operation: metav1.ManagedFieldsOperationApply, FieldsV1: metav1.NewFieldsV1(raw)},
		{Manager: "kube-controller-manager", Operation: metav1.ManagedFieldsOperationUpdate, Subresource: "status",
			FieldsV1: metav1.NewFieldsV1(`{"f:status":{}}`)},
		{Manager: "kube-controller-manager", Operation: metav1.ManagedFieldsOperationUpdate,
			FieldsV1: metav1.NewFieldsV1(`{"f:metadata":{"f:annotations":{}}}`)},
		{Manager: "kubectl-edit", Operation: metav1.ManagedFieldsOperationUpdate, Time: &when, FieldsV1: metav1.NewFieldsV1(raw)},
		{Manager: "kubectl", Operation: metav1.ManagedFieldsOperationUpdate, Subresource: "scale",
			FieldsV1: metav1.NewFieldsV1(`{"f:spec":{"f:replicas":{}}}`)},
	}}}
	got := foreignSpecManagers(dep)
	want := []string{"spec.replicas, spec.template changed by kubectl-edit at 2026-11-26T13:04:05Z", "spec.replicas changed by kubectl"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("foreignSpecManagers = %q, want %q", got, want)
	}

	ctx := context.Background()
	d := &Driver{Client: fake.NewClientset()}
	drift, err := d.Drift(ctx, "shop", "api", "dev")
	if err != nil || !drift.Detected || !strings.Contains(drift.Message, "gone") {
		t.Fatalf("Drift of a missing deployment = %+v, %v", drift, err)
	}
}

func TestLongNamesStayLabels(t *testing.T) {
	ns := Namespace(strings.Repeat("p", 40), strings.Repeat("e", 40))
	if len(ns) > 63 || ns == Namespace(strings.Repeat("p", 40), strings.Repeat("e", 39)) {
		t.Errorf("namespace %q (%d)", ns, len(ns))
	}
	long := descriptor.Endpoint{Name: "metrics-for-prometheus", Port: 9090}
	if n := portName(long); len(n) > 15 || n == portName(descriptor.Endpoint{Name: "metrics-for-prometheus2", Port: 9090}) {
		t.Errorf("port name %q", n)
	}
	// Endpoint names a DNS label allows but a port name does not: all digits, "--".
	for _, name := range []string{"80", "a--b"} {
		if n := portName(descriptor.Endpoint{Name: name, Port: 8080}); n != "port-8080" {
			t.Errorf("port name of endpoint %q = %q", name, n)
		}
	}
	if n := ServiceName("1api", "web"); n != "svc-1api-web" {
		t.Errorf("service name %q: must start with a letter", n)
	}
}

func TestApplyRefusesWhatBelongsToAnotherEnvironment(t *testing.T) {
	ctx := context.Background()
	c := fake.NewClientset()
	// "a-b"/"c" and "a"/"b-c" meet in one default namespace name.
	first := clusterOwnerRelease("a-b", "c")
	second := clusterOwnerRelease("a", "b-c")
	if Namespace(first.Project, first.Environment) != Namespace(second.Project, second.Environment) {
		t.Skip("the default names no longer meet")
	}
	d := &Driver{Client: c}
	if _, err := d.Apply(ctx, first); err != nil {
		t.Fatal(err)
	}
	_, err := d.Apply(ctx, second)
	if !errors.Is(err, dataplane.ErrRefused) || !strings.Contains(err.Error(), "belongs to environment c of project a-b") {
		t.Fatalf("Apply into another environment's namespace: %v", err)
	}
	dep, _ := c.AppsV1().Deployments(Namespace("a", "b-c")).Get(ctx, "api", metav1.GetOptions{})
	if dep.Labels[dataplane.LabelProject] != "a-b" {
		t.Fatalf("the first environment's deployment was taken over: %v", dep.Labels)
	}
}

func clusterOwnerRelease(project, env string) dataplane.Release {
	r := release("b-1", nil)
	r.Project, r.Environment = project, env
	return r
}

func TestApplyLabelsEveryObjectWithTheInstallButNoSelector(t *testing.T) {
	ctx := context.Background()
	c := fake.NewClientset()
	d := &Driver{Client: c, Install: "aaaa000000000001"}
	if _, err := d.Apply(ctx, release("b-1", map[string]string{"GREETING": "hello"})); err != nil {
		t.Fatal(err)
	}
	ns := Namespace("shop", "dev")
	labelled := map[string]map[string]string{}
	n, _ := c.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
	labelled["namespace"] = n.Labels
	np, _ := c.NetworkingV1().NetworkPolicies(ns).Get(ctx, isolationPolicy, metav1.GetOptions{})
	labelled["network policy"] = np.Labels
	dep, err := c.AppsV1().Deployments(ns).Get(ctx, "api", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	labelled["deployment"], labelled["pod template"] = dep.Labels, dep.Spec.Template.Labels
	secrets, _ := c.CoreV1().Secrets(ns).List(ctx, metav1.ListOptions{})
	svcs, _ := c.CoreV1().Services(ns).List(ctx, metav1.ListOptions{})
	if len(secrets.Items) != 1 || len(svcs.Items) != 2 {
		t.Fatalf("%d secrets, %d services", len(secrets.Items), len(svcs.Items))
	}
	labelled["secret"] = secrets.Items[0].Labels
	for _, s := range svcs.Items {
		labelled["service "+s.Name] = s.Labels
	}
	for what, l := range labelled {
		if l[dataplane.LabelInstall] != "aaaa000000000001" {
			t.Errorf("%s labels %v: no install", what, l)
		}
	}
	// Selectors stay as before install IDs: a Deployment's cannot change.
	if _, ok := dep.Spec.Selector.MatchLabels[dataplane.LabelInstall]; ok || len(dep.Spec.Selector.MatchLabels) != len(selector("shop", "api", "dev")) {
		t.Errorf("deployment selector %v", dep.Spec.Selector.MatchLabels)
	}
	for _, s := range svcs.Items {
		if _, ok := s.Spec.Selector[dataplane.LabelInstall]; ok {
			t.Errorf("service %s selector %v", s.Name, s.Spec.Selector)
		}
	}
}

func TestApplyRefusesWhatAnotherInstallOwnsAndAdoptsWhatNoneDoes(t *testing.T) {
	ctx := context.Background()
	c := fake.NewClientset()
	ns := Namespace("shop", "dev")
	r := release("b-1", nil)
	a := &Driver{Client: c, Install: "aaaa000000000001"}
	b := &Driver{Client: c, Install: "bbbb000000000002"}
	if _, err := a.Apply(ctx, r); err != nil {
		t.Fatal(err)
	}
	before, _ := c.AppsV1().Deployments(ns).Get(ctx, "api", metav1.GetOptions{})
	other := release("b-9", map[string]string{"GREETING": "not yours"})
	_, err := b.Apply(ctx, other)
	if !errors.Is(err, dataplane.ErrRefused) || !strings.Contains(err.Error(), "namespace "+ns+" belongs to another slipway install") {
		t.Fatalf("Apply into another install's namespace: %v", err)
	}
	if strings.Contains(err.Error(), a.Install) {
		t.Errorf("the refusal names the other install's ID: %v", err)
	}
	// Its Deployment alone, in a namespace no install labelled, is refused too.
	n, _ := c.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
	delete(n.Labels, dataplane.LabelInstall)
	if _, err := c.CoreV1().Namespaces().Update(ctx, n, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	_, err = b.Apply(ctx, other)
	if !errors.Is(err, dataplane.ErrRefused) || !strings.Contains(err.Error(), "deployment "+ns+"/api belongs to another slipway install") {
		t.Fatalf("Apply over another install's deployment: %v", err)
	}
	// Nor may it delete it, or the other's config Secrets.
	if err := b.Restore(ctx, other, nil); !errors.Is(err, dataplane.ErrRefused) {
		t.Fatalf("Restore without previous over another install's deployment: %v", err)
	}
	after, err := c.AppsV1().Deployments(ns).Get(ctx, "api", metav1.GetOptions{})
	if err != nil || after.ResourceVersion != before.ResourceVersion {
		t.Fatalf("install a's deployment changed: %v", err)
	}
	if err := b.Remove(ctx, "shop", "api", "dev", "b-1", 0); err != nil {
		t.Fatal(err)
	}
	if secrets, _ := c.CoreV1().Secrets(ns).List(ctx, metav1.ListOptions{}); len(secrets.Items) != 1 {
		t.Fatalf("install b's Remove left %d of install a's secrets", len(secrets.Items))
	}
	if _, err := c.AppsV1().Deployments(ns).Get(ctx, "api", metav1.GetOptions{}); err != nil {
		t.Fatalf("install b's Remove of the build install a's deployment runs deleted it: %v", err)
	}

	// Objects made before installs had IDs are adopted: the next Apply labels them.
	legacy := fake.NewClientset()
	if _, err := (&Driver{Client: legacy}).Apply(ctx, r); err != nil {
		t.Fatal(err)
	}
	a.Client = legacy
	if _, err := a.Apply(ctx, r); err != nil {
		t.Fatalf("Apply over objects from before install IDs: %v", err)
	}
	n, _ = legacy.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
	dep, _ := legacy.AppsV1().Deployments(ns).Get(ctx, "api", metav1.GetOptions{})
	secrets, _ := legacy.CoreV1().Secrets(ns).List(ctx, metav1.ListOptions{})
	if n.Labels[dataplane.LabelInstall] != a.Install || dep.Labels[dataplane.LabelInstall] != a.Install ||
		len(secrets.Items) != 1 || secrets.Items[0].Labels[dataplane.LabelInstall] != a.Install {
		t.Fatalf("adopted objects not labelled: namespace %v, deployment %v", n.Labels, dep.Labels)
	}
}

func TestListsKeepToTheInstallAndObjectsFromBeforeInstallIDs(t *testing.T) {
	ctx := context.Background()
	c := fake.NewClientset()
	ns := Namespace("shop", "dev")
	d := &Driver{Client: c, Install: "aaaa000000000001"}
	r := release("b-2", map[string]string{"GREETING": "hola"})
	if _, err := d.Apply(ctx, r); err != nil {
		t.Fatal(err)
	}
	with := func(install string) map[string]string {
		l := ownerLabels("shop", "api", "dev")
		if install != "" {
			l[dataplane.LabelInstall] = install
		}
		l[dataplane.LabelBuild] = "b-2"
		return l
	}
	// Another install's pod and secret first: podTrouble must not report its pod.
	for _, name := range []string{"other", "legacy", "mine"} {
		l := map[string]map[string]string{"other": with("bbbb000000000002"), "legacy": with(""), "mine": with(d.Install)}[name]
		meta := metav1.ObjectMeta{Name: "api-" + name, Namespace: ns, Labels: l}
		if _, err := c.CoreV1().Secrets(ns).Create(ctx, &corev1.Secret{ObjectMeta: meta}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		pod := &corev1.Pod{ObjectMeta: meta, Status: corev1.PodStatus{Phase: corev1.PodPending,
			Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionFalse, Reason: name}}}}
		if _, err := c.CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		if trouble := d.podTrouble(ctx, ns, r); name == "other" && trouble != "" {
			t.Errorf("podTrouble reports another install's pod: %q", trouble)
		} else if name == "legacy" && !strings.Contains(trouble, "api-legacy") {
			t.Errorf("podTrouble = %q; want the pod from before install IDs", trouble)
		}
	}
	insts, err := d.Describe(ctx, "shop", "api", "dev")
	if err != nil || len(insts) != 2 || insts[0].ID != "api-legacy" || insts[1].ID != "api-mine" {
		t.Fatalf("Describe = %+v, %v; want the install's pod and the one from before install IDs", insts, err)
	}
	if err := d.Remove(ctx, "shop", "api", "dev", "b-1", 0); err != nil {
		t.Fatal(err)
	}
	secrets, _ := c.CoreV1().Secrets(ns).List(ctx, metav1.ListOptions{})
	inUse, _, _ := configData(r)
	var left []string
	for _, s := range secrets.Items {
		left = append(left, s.Name)
	}
	slices.Sort(left)
	if want := []string{inUse, "api-other"}; !slices.Equal(left, want) {
		t.Fatalf("secrets after Remove: %v; want another install's and the one in use", left)
	}
}

func TestClientsGiveTheirDriversTheInstall(t *testing.T) {
	kubeconfig := []byte(`apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
`)
	d, err := (&Clients{Install: "aaaa000000000001"}).Driver(Binding{Kubeconfig: kubeconfig})
	if err != nil || d.Install != "aaaa000000000001" {
		t.Fatalf("Driver = %+v, %v", d, err)
	}
}
