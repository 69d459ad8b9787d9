package kubetest_test

import (
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/slipway-dev/slipway/activities/dataplane/kubernetes/kubetest"
)

func TestProbeTmp(t *testing.T) {
	cp := kubetest.Start(t)
	cs := cp.Client(t)
	ctx := t.Context()
	for _, ns := range []string{"p", "q", "r"} {
		cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
		labels := map[string]string{"app": "a"}
		t0 := time.Now()
		_, err := cs.AppsV1().Deployments(ns).Create(ctx, &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "a"}, Spec: appsv1.DeploymentSpec{Replicas: new(int32(2)), Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "a", Image: "x"}}}}}}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		mark := func(s string) {
			if !seen[s] {
				seen[s] = true
				t.Logf("%s at %s", s, time.Since(t0).Round(time.Millisecond))
			}
		}
		for time.Since(t0) < 20*time.Second {
			if _, err := cs.CoreV1().ServiceAccounts(ns).Get(ctx, "default", metav1.GetOptions{}); err == nil {
				mark("sa")
			}
			rs, _ := cs.AppsV1().ReplicaSets(ns).List(ctx, metav1.ListOptions{})
			if len(rs.Items) > 0 {
				mark("rs")
			}
			pods, _ := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
			for _, p := range pods.Items {
				mark("pod")
				if p.Spec.NodeName != "" {
					mark("scheduled")
				}
				if p.Status.Phase == corev1.PodRunning {
					mark("running")
				}
			}
			d, _ := cs.AppsV1().Deployments(ns).Get(ctx, "a", metav1.GetOptions{})
			if d.Status.AvailableReplicas == 2 {
				mark("available")
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		seen = map[string]bool{}
	}
}
