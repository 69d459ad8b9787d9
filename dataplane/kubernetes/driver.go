// Package kubernetes is the data plane beyond one machine: a Kubernetes cluster reached with
// client-go. Each (project, environment) gets a namespace whose NetworkPolicy admits traffic only
// from itself and the namespaces named as ingress; each component is a Deployment rolled by the
// cluster (maxUnavailable 0, so the old pods serve until the new ones are ready), its configs and
// secrets a Secret named by a hash of its content, a Service per endpoint and, when its first endpoint is
// public, an Ingress for it (host <component>.<environment>.<project>.<domain>). Everything is written
// by server-side apply as field manager "slipway", so repeating a call changes nothing. The cluster
// judges a rollout itself (its progress deadline) and routes traffic itself (the Services), so the
// deploy activity's entry proxy is never used. Everything carries the install's ID (Driver.Install),
// and a driver touches nothing another install made.
package kubernetes

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	k8s "k8s.io/client-go/kubernetes"

	"github.com/slipway-dev/slipway/dataplane"
)

// FieldManager is the server-side apply field manager slipway writes as.
const FieldManager = "slipway"

// Annotations on the Deployment and its pod template saying what runs.
const (
	AnnotationBuild  = "slipway.dev/build"
	AnnotationDigest = "slipway.dev/digest"
	AnnotationCommit = "slipway.dev/commit"
	// AnnotationConfig names the Secret the release's configs are in.
	AnnotationConfig = "slipway.dev/config"
)

// isolationPolicy is the name of the NetworkPolicy isolating an environment's namespace.
const isolationPolicy = "slipway-isolation"

// Driver runs releases of one environment on a cluster. Client is required.
type Driver struct {
	Client k8s.Interface
	// Namespace is where releases run; "" means Namespace(project, environment).
	Namespace string
	// IngressNamespaces may reach the environment's pods besides its own namespace; nil means none.
	IngressNamespaces []string
	// MaxSurge and MaxUnavailable shape rolling updates; nil means 1 and 0.
	MaxSurge, MaxUnavailable *int
	// ProgressDeadline is how long a rollout may make no progress before the cluster marks it failed
	// (progressDeadlineSeconds); zero means two minutes.
	ProgressDeadline time.Duration
	// Domain is the domain of the host names of public releases' Ingresses (dataplane.PublicHost). "" means
	// dataplane.DefaultDomain, and Serve reports the in-cluster address of the release's Service; set, it
	// reports http://<host> (the Ingress).
	Domain string
	// IngressClass is the ingressClassName of the Ingresses; "" means the cluster's default class.
	IngressClass string
	// Poll is how often a rollout's status is read; zero means one second.
	Poll time.Duration
	// Install is the install's ID (store.InstallID): the driver labels every object it makes with it
	// (dataplane.LabelInstall; never in a selector, which a Deployment cannot change), refuses to apply
	// into a namespace or over an object labelled with another install's, and lists and deletes only its
	// own. Objects made before installs had IDs (no label) are taken for its own and labelled by the next
	// Apply. "" means none: nothing is labelled with an install, and only unlabelled objects are its own.
	Install string
}

var _ dataplane.Driver = (*Driver)(nil)

// verdictWait is how long past the progress deadline a rollout waits for the Deployment controller to
// report it exceeded (it checks the deadline when it next syncs the Deployment).
const verdictWait = 15 * time.Second

// Namespace is the default namespace of an environment of a project: "slipway-<project>-<environment>",
// shortened with a hash of both when longer than a namespace may be.
func Namespace(project, environment string) string {
	return label("slipway-" + project + "-" + environment)
}

// label returns s when it fits a DNS-1123 label (63 characters), else a prefix of it and a hash of all of it.
func label(s string) string { return shorten(s, 63, 10) }

// shorten returns s when it has at most limit bytes, else its prefix and hashLen hex digits of a hash
// of all of it, limit bytes in all.
func shorten(s string, limit, hashLen int) string {
	if len(s) <= limit {
		return s
	}
	h := sha256.Sum256([]byte(s))
	return strings.TrimRight(s[:limit-hashLen-1], "-") + "-" + hex.EncodeToString(h[:])[:hashLen]
}

func (d *Driver) namespace(project, environment string) string {
	if d.Namespace != "" {
		return d.Namespace
	}
	return Namespace(project, environment)
}

// ownerLabels are the labels that make an object a component's of a project's environment. Lists
// select on them and keep what owns says is the install's.
func ownerLabels(project, component, environment string) map[string]string {
	return map[string]string{
		dataplane.LabelManaged: "true", dataplane.LabelProject: project,
		dataplane.LabelComponent: component, dataplane.LabelEnvironment: environment,
	}
}

// labels are the labels of what the driver makes for a component: ownerLabels and the install's ID.
func (d *Driver) labels(project, component, environment string) map[string]string {
	return d.withInstall(ownerLabels(project, component, environment))
}

// withInstall adds the install's ID to l, unless there is none, and returns l.
func (d *Driver) withInstall(l map[string]string) map[string]string {
	if d.Install != "" {
		l[dataplane.LabelInstall] = d.Install
	}
	return l
}

// owns says whether an object with these labels is the install's: it carries the install's ID, or none
// (made before installs had IDs).
func (d *Driver) owns(l map[string]string) bool {
	id, ok := l[dataplane.LabelInstall]
	return !ok || id == d.Install
}

// selector picks the pods of a component of a project's environment — all the labels that make it
// slipway's, so a namespace shared by mistake never mixes two — and never changes (a Deployment's
// selector cannot): the install's ID is not in it, Deployments made before install IDs keep theirs.
func selector(project, component, environment string) map[string]string {
	return ownerLabels(project, component, environment)
}

// VerdictWait gives the Deployment controller time to report the progress deadline exceeded: the
// cluster, not slipway, judges a rollout ready or failed.
func (d *Driver) VerdictWait() time.Duration { return verdictWait }

// Serve returns where a public release is reached (dataplane.Release.Public; "" for one that is not):
// http://<host> of its Ingress when Domain is set, else the in-cluster address of the Service of its
// first TCP-borne endpoint. The Service already sends traffic to the ready pods, so insts and entry are
// not used.
func (d *Driver) Serve(_ context.Context, r dataplane.Release, _ []dataplane.Instance, _ dataplane.Entry) (string, error) {
	e, public := publicEndpoint(r)
	switch {
	case !public:
		return "", nil
	case d.Domain != "":
		return "http://" + dataplane.PublicHost(r.Project, r.Component, r.Environment, d.Domain), nil
	}
	ns := d.namespace(r.Project, r.Environment)
	return fmt.Sprintf("http://%s.%s.svc:%d", ServiceName(r.Component, e.Name), ns, e.Port), nil
}

// Commit deletes the config Secrets of the releases r replaced, which the Deployment no longer refers
// to, so replaced secret values do not linger in the cluster. It names no build: the rolling update
// replaced their pods, nothing of them runs.
func (d *Driver) Commit(ctx context.Context, r dataplane.Release) ([]string, error) {
	if err := d.pruneSecrets(ctx, r.Project, r.Component, r.Environment); err != nil {
		return nil, fmt.Errorf("removing what the previous releases left: %w", err)
	}
	return nil, nil
}

// ReplacesInPlace is true: a Deployment runs one release, and a rollout replaces it.
func (d *Driver) ReplacesInPlace() bool { return true }

// Restore re-applies previous — the last release slipway recorded as serving, with the configs it
// ran with, not whatever the ReplicaSet history holds — and waits for it. The cluster scales the old
// ReplicaSet back in place of the failed one; with maxUnavailable 0 it never went below its
// replicas. Without a previous release the failed release's Deployment is deleted, unless another
// install or environment owns it (ErrRefused).
func (d *Driver) Restore(ctx context.Context, failed dataplane.Release, previous *dataplane.Release) error {
	ns := d.namespace(failed.Project, failed.Environment)
	if previous == nil {
		if err := d.deleteDeployment(ctx, ns, failed); err != nil {
			return err
		}
		return d.pruneSecrets(ctx, failed.Project, failed.Component, failed.Environment)
	}
	if _, err := d.Apply(ctx, *previous); err != nil {
		return err
	}
	if p, err := d.WaitReady(ctx, *previous, nil); err != nil {
		return fmt.Errorf("restoring %s: %s: %w", previous.BuildID, p.Message, err)
	}
	// The failed release's Secret holds values nothing runs with any more.
	return d.pruneSecrets(ctx, failed.Project, failed.Component, failed.Environment)
}

// deleteDeployment deletes the release's component's Deployment if it is there and the install's, of the
// release's environment; the deletion is conditional on the object read, so none made meanwhile goes.
func (d *Driver) deleteDeployment(ctx context.Context, ns string, r dataplane.Release) error {
	deployments := d.Client.AppsV1().Deployments(ns)
	dep, err := deployments.Get(ctx, r.Component, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return refused(fmt.Errorf("reading deployment %s/%s: %w", ns, r.Component, err))
	}
	if err := d.owned("deployment "+ns+"/"+r.Component, dep.Labels, r); err != nil {
		return err
	}
	err = deployments.Delete(ctx, r.Component, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &dep.UID}})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("deleting deployment %s/%s: %w", ns, r.Component, err)
	}
	return d.deleteIngress(ctx, ns, r)
}

// Remove deletes the component's Deployment when it runs build buildID and is the install's and the
// environment's (conditionally on the object read, so none made meanwhile goes), and then the
// component's config Secrets the Deployment no longer refers to (all of them once it is gone). The
// pods of a build the Deployment no longer runs went with the rolling update that replaced it. Pods
// stop within their own termination grace period, whatever grace says.
func (d *Driver) Remove(ctx context.Context, project, component, environment, buildID string, _ time.Duration) error {
	ns := d.namespace(project, environment)
	deployments := d.Client.AppsV1().Deployments(ns)
	dep, err := deployments.Get(ctx, component, metav1.GetOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("reading deployment %s/%s: %w", ns, component, err)
	}
	r := dataplane.Release{Project: project, Component: component, Environment: environment}
	if err == nil && dep.Spec.Template.Annotations[AnnotationBuild] == buildID && d.owned("deployment "+ns+"/"+component, dep.Labels, r) == nil {
		err = deployments.Delete(ctx, component, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &dep.UID}})
		if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
			return fmt.Errorf("deleting deployment %s/%s: %w", ns, component, err)
		}
		if err := d.deleteIngress(ctx, ns, r); err != nil {
			return err
		}
	}
	return d.pruneSecrets(ctx, project, component, environment)
}

// pruneSecrets deletes the component's config Secrets the Deployment no longer refers to (all of them
// when it is gone), so replaced secret values do not linger in the cluster; another install's are
// left alone.
func (d *Driver) pruneSecrets(ctx context.Context, project, component, environment string) error {
	ns := d.namespace(project, environment)
	dep, err := d.Client.AppsV1().Deployments(ns).Get(ctx, component, metav1.GetOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("reading deployment %s/%s: %w", ns, component, err)
	}
	inUse := ""
	if err == nil && d.owns(dep.Labels) {
		inUse = dep.Spec.Template.Annotations[AnnotationConfig]
	}
	sel := labels.SelectorFromSet(ownerLabels(project, component, environment)).String()
	secrets, err := d.Client.CoreV1().Secrets(ns).List(ctx, metav1.ListOptions{LabelSelector: sel})
	if err != nil {
		return fmt.Errorf("listing config secrets in %s: %w", ns, err)
	}
	for _, s := range secrets.Items {
		if s.Name == inUse || !d.owns(s.Labels) {
			continue
		}
		if err := d.Client.CoreV1().Secrets(ns).Delete(ctx, s.Name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("deleting config secret %s/%s: %w", ns, s.Name, err)
		}
	}
	return nil
}

// Describe lists the component's pods (the install's, and those from before install IDs).
func (d *Driver) Describe(ctx context.Context, project, component, environment string) ([]dataplane.Instance, error) {
	ns := d.namespace(project, environment)
	sel := labels.SelectorFromSet(ownerLabels(project, component, environment)).String()
	pods, err := d.Client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: sel})
	if err != nil {
		return nil, fmt.Errorf("listing pods in %s: %w", ns, err)
	}
	out := make([]dataplane.Instance, 0, len(pods.Items))
	for _, p := range pods.Items {
		if !d.owns(p.Labels) {
			continue
		}
		out = append(out, dataplane.Instance{
			ID: p.Name, BuildID: p.Annotations[AnnotationBuild], Digest: p.Annotations[AnnotationDigest],
			Running: p.Status.Phase == corev1.PodRunning && p.DeletionTimestamp == nil,
		})
	}
	slices.SortFunc(out, func(a, b dataplane.Instance) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}
