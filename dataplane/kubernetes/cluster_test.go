package kubernetes

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	k8s "k8s.io/client-go/kubernetes"

	"github.com/slipway-dev/slipway/dataplane"
	"github.com/slipway-dev/slipway/dataplane/kubernetes/kubetest"
)

// The tests below run against a real control plane (kube-apiserver, the Deployment and ReplicaSet
// controllers, the scheduler) whose nodes and pods kwok plays; see kubetest.
func TestMain(m *testing.M) { kubetest.Main(m) }

func clusterRelease(project, env, build, image string, config map[string]string) dataplane.Release {
	r := release(build, config)
	r.Project, r.Environment = project, env
	r.Image = "registry.local/" + project + "/" + image + "@" + digest
	r.Readiness, r.Liveness = nil, nil
	r.CPUs, r.MemoryBytes = 0.1, 32<<20
	return r
}

// replicaSets lists the component's ReplicaSets by the build their template runs.
func replicaSets(t *testing.T, c k8s.Interface, ns string) map[string]appsv1.ReplicaSet {
	t.Helper()
	list, err := c.AppsV1().ReplicaSets(ns).List(context.Background(), metav1.ListOptions{
		LabelSelector: labels.SelectorFromSet(selector("shop", "api", "dev")).String()})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]appsv1.ReplicaSet{}
	for _, rs := range list.Items {
		out[rs.Spec.Template.Annotations[AnnotationBuild]] = rs
	}
	return out
}

func waitReady(t *testing.T, d *Driver, r dataplane.Release) dataplane.Probe {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	p, err := d.WaitReady(ctx, r, nil)
	if err != nil || !p.Ready {
		t.Fatalf("rollout of %s: %+v, %v", r.BuildID, p, err)
	}
	return p
}

func TestClusterRolloutPromoteRestoreAndDrift(t *testing.T) {
	cp := kubetest.Shared(t)
	c := cp.Client(t)
	ctx := context.Background()
	dev := &Driver{Client: c, Poll: 200 * time.Millisecond, ProgressDeadline: 6 * time.Second, IngressNamespaces: []string{"ingress"}}
	nsDev := Namespace("shop", "dev")

	// Deploy: a ReplicaSet, two Ready pods, the Deployment complete.
	good := clusterRelease("shop", "dev", "b-1", "api", map[string]string{"GREETING": "hello"})
	if _, err := dev.Apply(ctx, good); err != nil {
		t.Fatal(err)
	}
	p := waitReady(t, dev, good)
	t.Logf("b-1 ready: %s", p.Message)
	rss := replicaSets(t, c, nsDev)
	if len(rss) != 1 || rss["b-1"].Status.ReadyReplicas != 2 {
		t.Fatalf("replica sets after the first deploy: %d, b-1 ready %d", len(rss), rss["b-1"].Status.ReadyReplicas)
	}
	pods, err := c.CoreV1().Pods(nsDev).List(ctx, metav1.ListOptions{LabelSelector: labels.SelectorFromSet(selector("shop", "api", "dev")).String()})
	if err != nil {
		t.Fatal(err)
	}
	for _, pod := range pods.Items {
		if pod.Spec.NodeName == "" || pod.Spec.Containers[0].Image != good.Image {
			t.Errorf("pod %s on node %q runs %s", pod.Name, pod.Spec.NodeName, pod.Spec.Containers[0].Image)
		}
	}
	insts, err := dev.Describe(ctx, "shop", "api", "dev")
	if err != nil || len(insts) != 2 || insts[0].BuildID != "b-1" || insts[0].Digest != digest {
		t.Fatalf("Describe = %+v, %v", insts, err)
	}

	// The NetworkPolicy admits the namespace itself and the ingress namespace, nothing else.
	np, err := c.NetworkingV1().NetworkPolicies(nsDev).Get(ctx, isolationPolicy, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(np.Spec.PolicyTypes) != 1 || np.Spec.PolicyTypes[0] != "Ingress" || len(np.Spec.Ingress) != 1 || len(np.Spec.Ingress[0].From) != 2 ||
		np.Spec.Ingress[0].From[1].NamespaceSelector.MatchLabels[corev1.LabelMetadataName] != "ingress" {
		t.Fatalf("network policy %+v", np.Spec)
	}

	// The same release again changes nothing: no new generation, no new ReplicaSet.
	before, err := c.AppsV1().Deployments(nsDev).Get(ctx, "api", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dev.Apply(ctx, good); err != nil {
		t.Fatal(err)
	}
	after, err := c.AppsV1().Deployments(nsDev).Get(ctx, "api", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if after.Generation != before.Generation || after.ResourceVersion != before.ResourceVersion || len(replicaSets(t, c, nsDev)) != 1 {
		t.Fatalf("re-applying the same release changed the deployment: generation %d → %d", before.Generation, after.Generation)
	}

	// Promote: the same digest in production, with production's config: another Secret.
	prod := &Driver{Client: c, Poll: 200 * time.Millisecond}
	promoted := clusterRelease("shop", "prod", "b-1", "api", map[string]string{"GREETING": "hello, customers"})
	if _, err := prod.Apply(ctx, promoted); err != nil {
		t.Fatal(err)
	}
	waitReady(t, prod, promoted)
	devDep, _ := c.AppsV1().Deployments(nsDev).Get(ctx, "api", metav1.GetOptions{})
	prodDep, err := c.AppsV1().Deployments(Namespace("shop", "prod")).Get(ctx, "api", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if devDep.Spec.Template.Spec.Containers[0].Image != prodDep.Spec.Template.Spec.Containers[0].Image {
		t.Fatal("production runs another image than development")
	}
	if devDep.Spec.Template.Annotations[AnnotationConfig] == prodDep.Spec.Template.Annotations[AnnotationConfig] {
		t.Fatal("production runs development's config secret")
	}

	// An unhealthy build: the cluster gives up at the progress deadline, the old ReplicaSet keeps its
	// two ready pods throughout, and Restore brings back b-1's template exactly.
	var mu sync.Mutex
	minReady := int32(99)
	watchCtx, stopWatch := context.WithCancel(ctx)
	var watching sync.WaitGroup
	watching.Go(func() {
		for watchCtx.Err() == nil {
			if rs, ok := replicaSets(t, c, nsDev)["b-1"]; ok {
				mu.Lock()
				minReady = min(minReady, rs.Status.ReadyReplicas)
				mu.Unlock()
			}
			select {
			case <-watchCtx.Done():
			case <-time.After(100 * time.Millisecond):
			}
		}
	})
	bad := clusterRelease("shop", "dev", "b-2", kubetest.UnhealthyImageMarker, map[string]string{"GREETING": "broken"})
	if _, err := dev.Apply(ctx, bad); err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	p, err = dev.WaitReady(wctx, bad, nil)
	cancel()
	if !errors.Is(err, ErrProgressDeadline) || p.Ready {
		t.Fatalf("unhealthy rollout: %+v, %v; want ErrProgressDeadline", p, err)
	}
	t.Logf("unhealthy rollout: %s", p.Message)
	if err := dev.Restore(ctx, bad, &good); err != nil {
		t.Fatal(err)
	}
	stopWatch()
	watching.Wait()
	if minReady != 2 {
		t.Fatalf("the old ReplicaSet went down to %d ready pods during the failed rollout", minReady)
	}
	restored, err := c.AppsV1().Deployments(nsDev).Get(ctx, "api", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if restored.Spec.Template.Annotations[AnnotationBuild] != "b-1" ||
		restored.Spec.Template.Annotations[AnnotationConfig] != devDep.Spec.Template.Annotations[AnnotationConfig] {
		t.Fatalf("restored template runs %v", restored.Spec.Template.Annotations)
	}
	rss = replicaSets(t, c, nsDev)
	if len(rss) != 2 || *rss["b-1"].Spec.Replicas != 2 || *rss["b-2"].Spec.Replicas != 0 {
		t.Fatalf("after restore: b-1 %d replicas, b-2 %d replicas (of %d sets)", *rss["b-1"].Spec.Replicas, *rss["b-2"].Spec.Replicas, len(rss))
	}
	if err := dev.Remove(ctx, "shop", "api", "dev", "b-2", 0); err != nil {
		t.Fatal(err)
	}
	secrets, _ := c.CoreV1().Secrets(nsDev).List(ctx, metav1.ListOptions{LabelSelector: labels.SelectorFromSet(ownerLabels("shop", "api", "dev")).String()})
	if len(secrets.Items) != 1 || secrets.Items[0].Name != devDep.Spec.Template.Annotations[AnnotationConfig] {
		t.Fatalf("config secrets after Remove: %d", len(secrets.Items))
	}

	// Drift: a hand edit is reported, and the next deploy overwrites all of it.
	live, err := c.AppsV1().Deployments(nsDev).Get(ctx, "api", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	live.Spec.Replicas = new(int32(3))
	ctr := &live.Spec.Template.Spec.Containers[0]
	ctr.Env = append(ctr.Env, corev1.EnvVar{Name: "DEBUG", Value: "1"})
	live.Spec.Strategy.RollingUpdate.MaxUnavailable = new(intstr.FromInt(1))
	if _, err := c.AppsV1().Deployments(nsDev).Update(ctx, live, metav1.UpdateOptions{FieldManager: "kubectl-edit"}); err != nil {
		t.Fatal(err)
	}
	drift, err := dev.Drift(ctx, "shop", "api", "dev")
	if err != nil || !drift.Detected || !strings.Contains(drift.Message, "kubectl-edit") || !strings.Contains(drift.Message, "spec.template") {
		t.Fatalf("Drift after a hand edit = %+v, %v", drift, err)
	}
	t.Logf("drift: %s", drift.Message)
	if _, err := dev.Apply(ctx, good); err != nil {
		t.Fatal(err)
	}
	waitReady(t, dev, good)
	fixed, err := c.AppsV1().Deployments(nsDev).Get(ctx, "api", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if *fixed.Spec.Replicas != 2 || len(fixed.Spec.Template.Spec.Containers[0].Env) != 1 ||
		fixed.Spec.Strategy.RollingUpdate.MaxUnavailable.IntValue() != 0 {
		t.Fatalf("after the next deploy: replicas %d, env %v, maxUnavailable %s", *fixed.Spec.Replicas,
			fixed.Spec.Template.Spec.Containers[0].Env, fixed.Spec.Strategy.RollingUpdate.MaxUnavailable.String())
	}
	if drift, err := dev.Drift(ctx, "shop", "api", "dev"); err != nil || drift.Detected {
		t.Fatalf("Drift after the deploy = %+v, %v", drift, err)
	}
}

// TestClusterInstallsKeepApart: two installs deploy the same component of the same project's
// environment to one cluster. The second is refused the namespace the first owns, leaving the first's
// Deployment alone, and runs in a namespace of its own; an object from before install IDs is adopted.
func TestClusterInstallsKeepApart(t *testing.T) {
	cp := kubetest.Shared(t)
	c := cp.Client(t)
	ctx := context.Background()
	a := &Driver{Client: c, Install: "aaaa000000000001", Poll: 200 * time.Millisecond}
	b := &Driver{Client: c, Install: "bbbb000000000002", Poll: 200 * time.Millisecond}
	nsA := Namespace("keep", "dev")
	r := clusterRelease("keep", "dev", "b-1", "api", map[string]string{"GREETING": "from a"})
	if _, err := a.Apply(ctx, r); err != nil {
		t.Fatal(err)
	}
	waitReady(t, a, r)
	before, err := c.AppsV1().Deployments(nsA).Get(ctx, "api", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for what, l := range map[string]map[string]string{"deployment": before.Labels, "pod template": before.Spec.Template.Labels} {
		if l[dataplane.LabelInstall] != a.Install {
			t.Fatalf("%s labels %v", what, l)
		}
	}

	// b in a's namespace: refused, whether it applies, restores or removes; a's objects stay as they were.
	other := clusterRelease("keep", "dev", "b-2", "api", map[string]string{"GREETING": "from b"})
	_, err = b.Apply(ctx, other)
	if !errors.Is(err, dataplane.ErrRefused) || !strings.Contains(err.Error(), "namespace "+nsA+" belongs to another slipway install") {
		t.Fatalf("install b's Apply into install a's namespace: %v", err)
	}
	if err := b.Restore(ctx, other, nil); !errors.Is(err, dataplane.ErrRefused) {
		t.Fatalf("install b's Restore of install a's deployment: %v", err)
	}
	if err := b.Remove(ctx, "keep", "api", "dev", "b-1", 0); err != nil {
		t.Fatal(err)
	}
	after, err := c.AppsV1().Deployments(nsA).Get(ctx, "api", metav1.GetOptions{})
	if err != nil || after.ResourceVersion != before.ResourceVersion || after.Spec.Template.Annotations[AnnotationBuild] != "b-1" {
		t.Fatalf("install a's deployment changed: %v", err)
	}
	secrets, err := c.CoreV1().Secrets(nsA).List(ctx, metav1.ListOptions{LabelSelector: labels.SelectorFromSet(ownerLabels("keep", "api", "dev")).String()})
	if err != nil || len(secrets.Items) != 1 || secrets.Items[0].Name != before.Spec.Template.Annotations[AnnotationConfig] {
		t.Fatalf("install a's config secrets after install b's Remove: %v", err)
	}
	if insts, err := b.Describe(ctx, "keep", "api", "dev"); err != nil || len(insts) != 0 {
		t.Fatalf("install b sees %+v, %v in install a's namespace", insts, err)
	}

	// b in a namespace of its own: both run, each seeing its own pods.
	b.Namespace = "keep-dev-b"
	if _, err := b.Apply(ctx, other); err != nil {
		t.Fatal(err)
	}
	waitReady(t, b, other)
	aInsts, errA := a.Describe(ctx, "keep", "api", "dev")
	bInsts, errB := b.Describe(ctx, "keep", "api", "dev")
	if errA != nil || errB != nil || len(aInsts) != 2 || len(bInsts) != 2 || aInsts[0].BuildID != "b-1" || bInsts[0].BuildID != "b-2" {
		t.Fatalf("install a sees %+v (%v), install b %+v (%v)", aInsts, errA, bInsts, errB)
	}

	// A namespace and Deployment from before install IDs (no install label) are a's to take: its next
	// Apply labels them, and from then on b is refused them.
	legacy := &Driver{Client: c, Namespace: "keep-dev-legacy", Poll: 200 * time.Millisecond}
	if _, err := legacy.Apply(ctx, r); err != nil {
		t.Fatal(err)
	}
	waitReady(t, legacy, r)
	a.Namespace, b.Namespace = legacy.Namespace, legacy.Namespace
	if insts, err := a.Describe(ctx, "keep", "api", "dev"); err != nil || len(insts) != 2 {
		t.Fatalf("install a sees %+v, %v of the pods from before install IDs", insts, err)
	}
	if _, err := a.Apply(ctx, r); err != nil {
		t.Fatalf("install a's Apply over objects from before install IDs: %v", err)
	}
	waitReady(t, a, r)
	ns, err := c.CoreV1().Namespaces().Get(ctx, legacy.Namespace, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	adopted, err := c.AppsV1().Deployments(legacy.Namespace).Get(ctx, "api", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if ns.Labels[dataplane.LabelInstall] != a.Install || adopted.Labels[dataplane.LabelInstall] != a.Install ||
		adopted.Spec.Selector.MatchLabels[dataplane.LabelInstall] != "" {
		t.Fatalf("adopted: namespace labels %v, deployment labels %v, selector %v", ns.Labels, adopted.Labels, adopted.Spec.Selector.MatchLabels)
	}
	if _, err := b.Apply(ctx, other); !errors.Is(err, dataplane.ErrRefused) {
		t.Fatalf("install b's Apply into the namespace install a adopted: %v", err)
	}

	// Removing the build the Deployment runs removes it and its config Secret; b's Remove of it did not.
	if err := b.Remove(ctx, "keep", "api", "dev", "b-1", 0); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AppsV1().Deployments(legacy.Namespace).Get(ctx, "api", metav1.GetOptions{}); err != nil {
		t.Fatalf("install b's Remove deleted install a's deployment: %v", err)
	}
	if err := a.Remove(ctx, "keep", "api", "dev", "b-1", 0); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AppsV1().Deployments(legacy.Namespace).Get(ctx, "api", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("the deployment of the removed build: %v", err)
	}
	sel := labels.SelectorFromSet(ownerLabels("keep", "api", "dev")).String()
	if secrets, err := c.CoreV1().Secrets(legacy.Namespace).List(ctx, metav1.ListOptions{LabelSelector: sel}); err != nil || len(secrets.Items) != 0 {
		t.Fatalf("config secrets after removing the build that ran: %v, %v", secrets, err)
	}
}

// TestClusterRunsATaskAsAJob runs a task release as a Job through the real Job controller (kwok completes its
// pod): the run ends with the pod's exit code, its log (which no kubelet serves here) is reported as unreadable
// rather than lost, and the Job and its pod are gone afterwards; a second Run of the same run finds nothing to
// start again.
func TestClusterRunsATaskAsAJob(t *testing.T) {
	cp := kubetest.Shared(t)
	c := cp.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	d := &Driver{Client: c, Poll: 200 * time.Millisecond}
	r := clusterRelease("jobs", "dev", "b-1", "nightly", map[string]string{"TABLE": "sessions"})
	r.Component, r.Endpoints = "nightly", nil
	var got []string
	res, err := d.Run(ctx, r, "run-0123456789abcdef", func(lines []string) error { got = lines; return nil })
	if err != nil {
		t.Fatal(err)
	}
	if res.ExitCode != 0 || res.EndedAt.IsZero() {
		t.Errorf("result %+v, want exit 0 with its end time", res)
	}
	if len(got) != 1 || !strings.Contains(got[0], "could not be read") {
		t.Errorf("output %q, want one line saying the log could not be read", got)
	}
	ns := Namespace("jobs", "dev")
	deadline := time.Now().Add(30 * time.Second)
	for {
		jobs, err := c.BatchV1().Jobs(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(jobs.Items) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d jobs left after the run, want none", len(jobs.Items))
		}
		time.Sleep(200 * time.Millisecond)
	}
}
