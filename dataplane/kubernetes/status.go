package kubernetes

import (
	"context"
	"errors"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/slipway-dev/slipway/dataplane"
)

// ErrProgressDeadline means the cluster gave up on a rollout: no progress for progressDeadlineSeconds.
var ErrProgressDeadline = errors.New("ProgressDeadlineExceeded")

// ErrReplaced means the Deployment was pointed at another release during the rollout.
var ErrReplaced = errors.New("rollout replaced")

// WaitReady reads the Deployment until its rollout is complete, judged as `kubectl rollout status`
// does, or the cluster reports ProgressDeadlineExceeded (ErrProgressDeadline), or ctx ends.
func (d *Driver) WaitReady(ctx context.Context, r dataplane.Release, beat func(dataplane.Probe)) (dataplane.Probe, error) {
	ns := d.namespace(r.Project, r.Environment)
	poll := d.Poll
	if poll <= 0 {
		poll = time.Second
	}
	t := time.NewTicker(poll)
	defer t.Stop()
	last := dataplane.Probe{Message: "waiting for the rollout of " + r.BuildID, At: time.Now().UTC()}
	for {
		p, err := d.status(ctx, ns, r)
		switch {
		case errors.Is(err, ErrProgressDeadline) || errors.Is(err, ErrReplaced):
			return p, err
		case apierrors.IsNotFound(err) || apierrors.IsForbidden(err) || apierrors.IsUnauthorized(err):
			// The Deployment was deleted by hand, or slipway may not read it: waiting will not help.
			return p, refused(fmt.Errorf("reading deployment %s/%s: %w", ns, r.Component, err))
		case err == nil:
			last = p
			if beat != nil {
				beat(p)
			}
			if p.Ready {
				return p, nil
			}
		default:
			// The API server did not answer: read again at the next tick, saying so meanwhile.
			last.Message, last.At = "reading the rollout: "+err.Error(), p.At
		}
		select {
		case <-ctx.Done():
			return last, ctx.Err()
		case <-t.C:
		}
	}
}

// status is one reading of the release's rollout.
func (d *Driver) status(ctx context.Context, ns string, r dataplane.Release) (dataplane.Probe, error) {
	now := time.Now().UTC()
	dep, err := d.Client.AppsV1().Deployments(ns).Get(ctx, r.Component, metav1.GetOptions{})
	if err != nil {
		return dataplane.Probe{Message: err.Error(), At: now}, err
	}
	if got := dep.Spec.Template.Annotations[AnnotationBuild]; got != r.BuildID {
		return dataplane.Probe{Message: fmt.Sprintf("deployment %s/%s runs %q, not %s", ns, r.Component, got, r.BuildID), At: now},
			fmt.Errorf("%w: deployment %s/%s was changed to %q during the rollout of %s", ErrReplaced, ns, r.Component, got, r.BuildID)
	}
	msg, done, err := rolloutStatus(dep)
	if err != nil {
		return dataplane.Probe{Message: err.Error() + d.podTrouble(ctx, ns, r), At: now}, err
	}
	if !done {
		msg += d.podTrouble(ctx, ns, r)
	}
	return dataplane.Probe{Ready: done, Message: msg, At: now}, nil
}

// rolloutStatus is kubectl's DeploymentStatusViewer: whether the rollout is done, and what it waits for.
func rolloutStatus(d *appsv1.Deployment) (string, bool, error) {
	if d.Generation > d.Status.ObservedGeneration {
		return "waiting for the deployment spec update to be observed", false, nil
	}
	for _, c := range d.Status.Conditions {
		if c.Type == appsv1.DeploymentProgressing && c.Reason == "ProgressDeadlineExceeded" {
			return "", false, fmt.Errorf("%w: %s", ErrProgressDeadline, c.Message)
		}
	}
	want := int32(1)
	if d.Spec.Replicas != nil {
		want = *d.Spec.Replicas
	}
	st := d.Status
	switch {
	case st.UpdatedReplicas < want:
		return fmt.Sprintf("%d of %d new replicas updated", st.UpdatedReplicas, want), false, nil
	case st.Replicas > st.UpdatedReplicas:
		return fmt.Sprintf("%d old replicas pending termination", st.Replicas-st.UpdatedReplicas), false, nil
	case st.AvailableReplicas < st.UpdatedReplicas:
		return fmt.Sprintf("%d of %d updated replicas available", st.AvailableReplicas, st.UpdatedReplicas), false, nil
	}
	return fmt.Sprintf("%d of %d updated replicas available", st.AvailableReplicas, want), true, nil
}

// podTrouble says why a pod of the release (of the install, or from before install IDs) is not ready
// ("; pod x: not ready (ContainersNotReady)"), or "".
func (d *Driver) podTrouble(ctx context.Context, ns string, r dataplane.Release) string {
	sel := labels.SelectorFromSet(map[string]string{dataplane.LabelComponent: r.Component, dataplane.LabelBuild: label(r.BuildID)})
	pods, err := d.Client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: sel.String()})
	if err != nil {
		return ""
	}
	for _, p := range pods.Items {
		if !d.owns(p.Labels) {
			continue
		}
		for _, cs := range p.Status.ContainerStatuses {
			if w := cs.State.Waiting; w != nil && w.Reason != "" {
				return fmt.Sprintf("; pod %s: %s %s", p.Name, w.Reason, w.Message)
			}
			if t := cs.LastTerminationState.Terminated; t != nil {
				return fmt.Sprintf("; pod %s: last exit %d (%s)", p.Name, t.ExitCode, t.Reason)
			}
		}
		for _, c := range p.Status.Conditions {
			if c.Type == corev1.PodReady && c.Status != corev1.ConditionTrue {
				return fmt.Sprintf("; pod %s: not ready (%s)", p.Name, c.Reason)
			}
		}
	}
	return ""
}
