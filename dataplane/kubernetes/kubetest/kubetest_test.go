package kubetest_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"

	"github.com/slipway-dev/slipway/dataplane/kubernetes/kubetest"
)

func TestMain(m *testing.M) { kubetest.Main(m) }

// Shared starts one control plane for the test binary, which Main stops.
func TestShared(t *testing.T) {
	cp := kubetest.Shared(t)
	if again := kubetest.Shared(t); again != cp {
		t.Fatal("a second Shared started another control plane")
	}
	nodes, err := cp.Client(t).CoreV1().Nodes().List(t.Context(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(nodes.Items) != len(cp.Nodes) {
		t.Errorf("%d nodes, want %v", len(nodes.Items), cp.Nodes)
	}
}

// The control plane runs a Deployment end to end: scheduled on kwok's nodes, Ready, Available; and a
// rollout to an unhealthy image runs into its progress deadline while the old pods keep serving.
func TestControlPlaneRollsOutDeployments(t *testing.T) {
	began := time.Now()
	cp := kubetest.Start(t)
	t.Logf("control plane ready in %s", time.Since(began).Round(time.Millisecond))
	cs := cp.Client(t)
	ctx := t.Context()

	const ns, name = "kubetest-e2e", "app"
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	healthy := "registry.local/app@sha256:" + strings.Repeat("0123456789abcdef", 4)
	labels := map[string]string{"app": name}
	deploy := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: appsv1.DeploymentSpec{
			Replicas: new(int32(2)),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Strategy: appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: healthy}}},
			},
		},
	}
	rolled := time.Now()
	if _, err := cs.AppsV1().Deployments(ns).Create(ctx, deploy, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	kubetest.Eventually(t, 60*time.Second, "the Deployment Available with 2 Ready pods on kwok nodes", func() error {
		d, err := cs.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if c := condition(d, appsv1.DeploymentAvailable); c == nil || c.Status != corev1.ConditionTrue || d.Status.AvailableReplicas != 2 {
			return fmt.Errorf("available replicas %d, Available condition %v", d.Status.AvailableReplicas, c)
		}
		pods := readyPods(ctx, t, cs, ns, healthy)
		if len(pods) != 2 {
			return fmt.Errorf("%d Ready pods of %s", len(pods), healthy)
		}
		for _, p := range pods {
			if !slices.Contains(cp.Nodes, p.Spec.NodeName) {
				return fmt.Errorf("pod %s is on node %q, not a kwok node %v", p.Name, p.Spec.NodeName, cp.Nodes)
			}
		}
		return nil
	})
	rs := replicaSets(ctx, t, cs, ns)
	if len(rs) != 1 || rs[0].Spec.Template.Spec.Containers[0].Image != healthy {
		t.Fatalf("want one ReplicaSet of %s, got %d", healthy, len(rs))
	}
	oldRS := rs[0].Name
	t.Logf("rolled out in %s", time.Since(rolled).Round(time.Millisecond))

	unhealthy := "registry.local/" + kubetest.UnhealthyImageMarker + "-app@sha256:" + strings.Repeat("fedcba9876543210", 4)
	d, err := cs.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	zero, one := intstr.FromInt32(0), intstr.FromInt32(1)
	d.Spec.ProgressDeadlineSeconds = new(int32(5))
	d.Spec.Strategy.RollingUpdate = &appsv1.RollingUpdateDeployment{MaxUnavailable: &zero, MaxSurge: &one}
	d.Spec.Template.Spec.Containers[0].Image = unhealthy
	rolled = time.Now()
	if _, err := cs.AppsV1().Deployments(ns).Update(ctx, d, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}

	kubetest.Eventually(t, 60*time.Second, "the rollout past its progress deadline", func() error {
		d, err := cs.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		c := condition(d, appsv1.DeploymentProgressing)
		if c == nil || c.Status != corev1.ConditionFalse || c.Reason != "ProgressDeadlineExceeded" {
			return fmt.Errorf("Progressing condition %v", c)
		}
		return nil
	})
	t.Logf("progress deadline exceeded %s after the update", time.Since(rolled).Round(time.Millisecond))

	for _, rs := range replicaSets(ctx, t, cs, ns) {
		image := rs.Spec.Template.Spec.Containers[0].Image
		switch {
		case rs.Name == oldRS && rs.Status.ReadyReplicas != 2:
			t.Errorf("old ReplicaSet %s has %d ready replicas, want 2", rs.Name, rs.Status.ReadyReplicas)
		case rs.Name != oldRS && (image != unhealthy || rs.Status.Replicas != 1 || rs.Status.ReadyReplicas != 0):
			t.Errorf("new ReplicaSet %s of %s: %d replicas, %d ready; want 1 of %s, 0 ready",
				rs.Name, image, rs.Status.Replicas, rs.Status.ReadyReplicas, unhealthy)
		}
	}
	// kwok starts the surge pod of the unhealthy image, maybe after the deadline on a busy machine;
	// once it runs, it is never Ready.
	var surge corev1.Pod
	kubetest.Eventually(t, 30*time.Second, "the pod of the unhealthy image Running", func() error {
		pods, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return err
		}
		var surged []corev1.Pod
		for _, p := range pods.Items {
			if p.Spec.Containers[0].Image == unhealthy {
				surged = append(surged, p)
			}
		}
		if len(surged) != 1 {
			return fmt.Errorf("%d pods of the unhealthy image, want 1 (maxSurge)", len(surged))
		}
		surge = surged[0]
		if surge.Status.Phase != corev1.PodRunning {
			return fmt.Errorf("pod %s is %s", surge.Name, surge.Status.Phase)
		}
		return nil
	})
	if podReady(&surge) {
		t.Errorf("pod %s of the unhealthy image is Ready", surge.Name)
	}
}

func condition(d *appsv1.Deployment, typ appsv1.DeploymentConditionType) *appsv1.DeploymentCondition {
	for i := range d.Status.Conditions {
		if d.Status.Conditions[i].Type == typ {
			return &d.Status.Conditions[i]
		}
	}
	return nil
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// readyPods lists the Ready pods of image in ns.
func readyPods(ctx context.Context, t *testing.T, cs kubernetes.Interface, ns, image string) []corev1.Pod {
	t.Helper()
	list, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var ready []corev1.Pod
	for _, p := range list.Items {
		if p.Spec.Containers[0].Image == image && podReady(&p) {
			ready = append(ready, p)
		}
	}
	return ready
}

func replicaSets(ctx context.Context, t *testing.T, cs kubernetes.Interface, ns string) []appsv1.ReplicaSet {
	t.Helper()
	list, err := cs.AppsV1().ReplicaSets(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return list.Items
}
