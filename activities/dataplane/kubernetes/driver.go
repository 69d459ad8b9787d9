// Package kubernetes is the data plane beyond one machine: a Kubernetes cluster reached with
// client-go. Each (project, environment) gets a namespace whose NetworkPolicy admits traffic only
// from itself and the namespaces named as ingress; each component is a Deployment rolled by the
// cluster (maxUnavailable 0, so the old pods serve until the new ones are ready), its configs and
// secrets a Secret named by a hash of its content, and a Service per endpoint. Everything is written
// by server-side apply as field manager "slipway", so repeating a call changes nothing.
package kubernetes

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	appsv1ac "k8s.io/client-go/applyconfigurations/apps/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	metav1ac "k8s.io/client-go/applyconfigurations/meta/v1"
	networkingv1ac "k8s.io/client-go/applyconfigurations/networking/v1"
	k8s "k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"

	"github.com/slipway-dev/slipway/activities/dataplane"
	"github.com/slipway-dev/slipway/descriptor"
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
	// Poll is how often a rollout's status is read; zero means one second.
	Poll time.Duration
}

var (
	_ dataplane.Driver        = (*Driver)(nil)
	_ dataplane.SelfRouted    = (*Driver)(nil)
	_ dataplane.DriftDetector = (*Driver)(nil)
)

// Namespace is the default namespace of an environment of a project: "slipway-<project>-<environment>",
// shortened with a hash of both when longer than a namespace may be.
func Namespace(project, environment string) string {
	return label("slipway-" + project + "-" + environment)
}

// label returns s when it fits a DNS-1123 label (63 characters), else a prefix of it and a hash of all of it.
func label(s string) string {
	if len(s) <= 63 {
		return s
	}
	h := sha256.Sum256([]byte(s))
	return strings.TrimRight(s[:52], "-") + "-" + hex.EncodeToString(h[:])[:10]
}

func (d *Driver) namespace(project, environment string) string {
	if d.Namespace != "" {
		return d.Namespace
	}
	return Namespace(project, environment)
}

func ownerLabels(project, component, environment string) map[string]string {
	return map[string]string{
		dataplane.LabelManaged: "true", dataplane.LabelProject: project,
		dataplane.LabelComponent: component, dataplane.LabelEnvironment: environment,
	}
}

// selector picks the pods of a component of a project's environment — all the labels that make it
// slipway's, so a namespace shared by mistake never mixes two — and never changes (a Deployment's
// selector cannot).
func selector(project, component, environment string) map[string]string {
	return ownerLabels(project, component, environment)
}

func apply() metav1.ApplyOptions { return metav1.ApplyOptions{FieldManager: FieldManager, Force: true} }

// Apply writes the environment's namespace and NetworkPolicy, the release's config Secret, the
// component's Deployment and its Services. The cluster then rolls the pods; WaitReady watches it.
// A Deployment changed by hand gets slipway's spec back whole, the hand-made fields included.
func (d *Driver) Apply(ctx context.Context, r dataplane.Release) ([]dataplane.Instance, error) {
	ns := d.namespace(r.Project, r.Environment)
	if err := d.checkOwner(ctx, ns, r); err != nil {
		return nil, err
	}
	if err := d.applyNamespace(ctx, ns, r.Project, r.Environment); err != nil {
		return nil, err
	}
	secret, err := d.applySecret(ctx, ns, r)
	if err != nil {
		return nil, err
	}
	// The Services go first: should one be refused, no new pods roll meanwhile.
	if err := d.applyServices(ctx, ns, r); err != nil {
		return nil, err
	}
	want := d.deployment(ns, r, secret)
	got, err := d.Client.AppsV1().Deployments(ns).Apply(ctx, want, apply())
	if err != nil {
		return nil, refused(fmt.Errorf("applying deployment %s/%s: %w", ns, r.Component, err))
	}
	if len(foreignSpecManagers(got)) > 0 {
		if err := d.overwrite(ctx, got, want); err != nil {
			return nil, err
		}
	}
	return nil, nil
}

// checkOwner refuses to apply into a namespace or over a Deployment that belongs to another project or
// environment (two bindings naming one namespace, or default names that meet, "a-b"/"c" and "a"/"b-c").
func (d *Driver) checkOwner(ctx context.Context, ns string, r dataplane.Release) error {
	owned := func(what string, l map[string]string) error {
		if l[dataplane.LabelManaged] != "true" {
			return nil
		}
		if p, e := l[dataplane.LabelProject], l[dataplane.LabelEnvironment]; p != r.Project || e != r.Environment {
			return fmt.Errorf("%w: %s belongs to environment %s of project %s, not %s of %s",
				dataplane.ErrRefused, what, e, p, r.Environment, r.Project)
		}
		return nil
	}
	n, err := d.Client.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
	switch {
	case err == nil:
		if err := owned("namespace "+ns, n.Labels); err != nil {
			return err
		}
	case !apierrors.IsNotFound(err):
		return refused(fmt.Errorf("reading namespace %s: %w", ns, err))
	}
	dep, err := d.Client.AppsV1().Deployments(ns).Get(ctx, r.Component, metav1.GetOptions{})
	switch {
	case err == nil:
		return owned("deployment "+ns+"/"+r.Component, dep.Labels)
	case apierrors.IsNotFound(err):
		return nil
	}
	return refused(fmt.Errorf("reading deployment %s/%s: %w", ns, r.Component, err))
}

// refused marks an error the cluster will answer the same way however often it is asked — the object is
// invalid, or slipway may not touch it — as dataplane.ErrRefused.
func refused(err error) error {
	if isRefused(err) {
		return fmt.Errorf("%w: %w", dataplane.ErrRefused, err)
	}
	return err
}

func isRefused(err error) bool {
	return apierrors.IsInvalid(err) || apierrors.IsForbidden(err) || apierrors.IsUnauthorized(err) || apierrors.IsBadRequest(err)
}

func (d *Driver) applyNamespace(ctx context.Context, ns, project, environment string) error {
	l := map[string]string{dataplane.LabelManaged: "true", dataplane.LabelProject: project, dataplane.LabelEnvironment: environment}
	if _, err := d.Client.CoreV1().Namespaces().Apply(ctx, corev1ac.Namespace(ns).WithLabels(l), apply()); err != nil {
		return refused(fmt.Errorf("applying namespace %s: %w", ns, err))
	}
	peers := []*networkingv1ac.NetworkPolicyPeerApplyConfiguration{
		networkingv1ac.NetworkPolicyPeer().WithPodSelector(metav1ac.LabelSelector()),
	}
	for _, other := range d.IngressNamespaces {
		peers = append(peers, networkingv1ac.NetworkPolicyPeer().WithNamespaceSelector(
			metav1ac.LabelSelector().WithMatchLabels(map[string]string{corev1.LabelMetadataName: other})))
	}
	// It isolates slipway's pods (what else runs in a namespace shared with them is not its to fence).
	np := networkingv1ac.NetworkPolicy(isolationPolicy, ns).WithLabels(l).WithSpec(networkingv1ac.NetworkPolicySpec().
		WithPodSelector(metav1ac.LabelSelector().WithMatchLabels(map[string]string{dataplane.LabelManaged: "true"})).
		WithPolicyTypes("Ingress").
		WithIngress(networkingv1ac.NetworkPolicyIngressRule().WithFrom(peers...)))
	if _, err := d.Client.NetworkingV1().NetworkPolicies(ns).Apply(ctx, np, apply()); err != nil {
		return refused(fmt.Errorf("applying network policy %s/%s: %w", ns, isolationPolicy, err))
	}
	return nil
}

// configData is the Secret's content: env vars under "env.<NAME>", files under "file.<n>" in path
// order (mounted by subPath), and the name, which carries a hash of it all.
func configData(r dataplane.Release) (name string, data map[string][]byte, files []string) {
	data = map[string][]byte{}
	h := sha256.New()
	for _, k := range slices.Sorted(maps.Keys(r.Env)) {
		data["env."+k] = []byte(r.Env[k])
		fmt.Fprintf(h, "env\x00%s\x00%d\x00%s\x00", k, len(r.Env[k]), r.Env[k])
	}
	files = slices.Sorted(maps.Keys(r.Files))
	for i, p := range files {
		data["file."+strconv.Itoa(i)] = r.Files[p]
		fmt.Fprintf(h, "file\x00%s\x00%d\x00%s\x00", p, len(r.Files[p]), r.Files[p])
	}
	return label(r.Component + "-config-" + hex.EncodeToString(h.Sum(nil))[:10]), data, files
}

// applySecret writes the release's configs as an immutable Secret named by their hash, so a change
// of config rolls the pods and restoring a release restores exactly the configs it ran with.
func (d *Driver) applySecret(ctx context.Context, ns string, r dataplane.Release) (string, error) {
	name, data, _ := configData(r)
	s := corev1ac.Secret(name, ns).WithLabels(ownerLabels(r.Project, r.Component, r.Environment)).
		WithType(corev1.SecretTypeOpaque).WithImmutable(true).WithData(data)
	if _, err := d.Client.CoreV1().Secrets(ns).Apply(ctx, s, apply()); err != nil {
		// Never wrap the object: the error names the Secret, not its values.
		msg := fmt.Errorf("applying the config secret %s/%s: %s", ns, name, apierrors.ReasonForError(err))
		if isRefused(err) {
			msg = fmt.Errorf("%w: %w", dataplane.ErrRefused, msg)
		}
		return "", msg
	}
	return name, nil
}

func (d *Driver) deployment(ns string, r dataplane.Release, secret string) *appsv1ac.DeploymentApplyConfiguration {
	_, _, files := configData(r)
	annotations := map[string]string{AnnotationBuild: r.BuildID, AnnotationDigest: r.Digest, AnnotationConfig: secret}
	if r.Commit != "" {
		annotations[AnnotationCommit] = r.Commit
	}
	podLabels := maps.Clone(ownerLabels(r.Project, r.Component, r.Environment))
	podLabels[dataplane.LabelBuild] = label(r.BuildID)

	c := corev1ac.Container().WithName(r.Component).WithImage(r.Image).WithImagePullPolicy(corev1.PullIfNotPresent)
	for _, e := range r.Endpoints {
		proto := corev1.ProtocolTCP
		if e.Type == descriptor.UDP {
			proto = corev1.ProtocolUDP
		}
		c.WithPorts(corev1ac.ContainerPort().WithName(portName(e)).WithContainerPort(int32(e.Port)).WithProtocol(proto))
	}
	for _, k := range slices.Sorted(maps.Keys(r.Env)) {
		c.WithEnv(corev1ac.EnvVar().WithName(k).WithValueFrom(corev1ac.EnvVarSource().
			WithSecretKeyRef(corev1ac.SecretKeySelector().WithName(secret).WithKey("env." + k))))
	}
	for i, p := range files {
		c.WithVolumeMounts(corev1ac.VolumeMount().WithName("config").WithMountPath(p).
			WithSubPath("file." + strconv.Itoa(i)).WithReadOnly(true))
	}
	if limits := resources(r); len(limits) > 0 {
		c.WithResources(corev1ac.ResourceRequirements().WithLimits(limits).WithRequests(limits))
	}
	if p := probe(r.Readiness); p != nil {
		c.WithReadinessProbe(p)
	}
	if p := probe(r.Liveness); p != nil {
		c.WithLivenessProbe(p)
	}
	pod := corev1ac.PodSpec().WithContainers(c).WithEnableServiceLinks(false)
	if len(files) > 0 {
		// 0444: the files are read, never written.
		pod.WithVolumes(corev1ac.Volume().WithName("config").WithSecret(
			corev1ac.SecretVolumeSource().WithSecretName(secret).WithDefaultMode(0o444)))
	}
	surge, unavailable := 1, 0
	if d.MaxSurge != nil {
		surge = *d.MaxSurge
	}
	if d.MaxUnavailable != nil {
		unavailable = *d.MaxUnavailable
	}
	deadline := d.ProgressDeadline
	if deadline <= 0 {
		deadline = 2 * time.Minute
	}
	return appsv1ac.Deployment(r.Component, ns).
		WithLabels(ownerLabels(r.Project, r.Component, r.Environment)).
		WithAnnotations(annotations).
		WithSpec(appsv1ac.DeploymentSpec().
			WithReplicas(int32(max(r.Replicas, 1))).
			WithSelector(metav1ac.LabelSelector().WithMatchLabels(selector(r.Project, r.Component, r.Environment))).
			WithProgressDeadlineSeconds(int32(max(deadline/time.Second, 1))).
			WithStrategy(appsv1ac.DeploymentStrategy().WithType(appsv1.RollingUpdateDeploymentStrategyType).
				WithRollingUpdate(appsv1ac.RollingUpdateDeployment().
					WithMaxSurge(intstr.FromInt(surge)).WithMaxUnavailable(intstr.FromInt(unavailable)))).
			WithTemplate(corev1ac.PodTemplateSpec().
				WithLabels(podLabels).WithAnnotations(annotations).
				WithSpec(pod)))
}

// portName is an endpoint's name as a container port name: at most 15 characters, a letter among
// them and no "--" (an IANA service name); one that cannot be is named by its port.
func portName(e descriptor.Endpoint) string {
	name := e.Name
	if len(name) > 15 {
		h := sha256.Sum256([]byte(name))
		name = strings.TrimRight(name[:9], "-") + "-" + hex.EncodeToString(h[:])[:5]
	}
	if len(validation.IsValidPortName(name)) > 0 {
		return "port-" + strconv.Itoa(e.Port)
	}
	return name
}

func resources(r dataplane.Release) corev1.ResourceList {
	l := corev1.ResourceList{}
	if r.CPUs > 0 {
		l[corev1.ResourceCPU] = *resource.NewMilliQuantity(int64(r.CPUs*1000), resource.DecimalSI)
	}
	if r.MemoryBytes > 0 {
		l[corev1.ResourceMemory] = *resource.NewQuantity(r.MemoryBytes, resource.BinarySI)
	}
	return l
}

// probe is a descriptor's health check as a container probe; nil for nil.
func probe(p *descriptor.Probe) *corev1ac.ProbeApplyConfiguration {
	if p == nil {
		return nil
	}
	out := corev1ac.Probe().
		WithInitialDelaySeconds(int32(p.InitialDelaySeconds)).WithPeriodSeconds(int32(p.PeriodSeconds)).
		WithTimeoutSeconds(int32(p.TimeoutSeconds)).WithFailureThreshold(int32(p.FailureThreshold))
	switch {
	case p.HTTP != nil:
		out.WithHTTPGet(corev1ac.HTTPGetAction().WithPath(p.HTTP.Path).WithPort(intstr.FromInt(p.HTTP.Port)))
	case p.TCP != nil:
		out.WithTCPSocket(corev1ac.TCPSocketAction().WithPort(intstr.FromInt(p.TCP.Port)))
	case p.Exec != nil:
		out.WithExec(corev1ac.ExecAction().WithCommand(p.Exec.Command...))
	}
	return out
}

// ServiceName is the Service of a component's endpoint: "<component>-<endpoint>", with "svc-" before
// it when that starts with a digit (a Service's name must start with a letter).
func ServiceName(component, endpoint string) string {
	name := component + "-" + endpoint
	if name[0] >= '0' && name[0] <= '9' {
		name = "svc-" + name
	}
	return label(name)
}

func (d *Driver) applyServices(ctx context.Context, ns string, r dataplane.Release) error {
	for _, e := range r.Endpoints {
		proto := corev1.ProtocolTCP
		if e.Type == descriptor.UDP {
			proto = corev1.ProtocolUDP
		}
		name := ServiceName(r.Component, e.Name)
		svc := corev1ac.Service(name, ns).WithLabels(ownerLabels(r.Project, r.Component, r.Environment)).
			WithSpec(corev1ac.ServiceSpec().WithSelector(selector(r.Project, r.Component, r.Environment)).WithPorts(
				corev1ac.ServicePort().WithName(portName(e)).WithPort(int32(e.Port)).
					WithTargetPort(intstr.FromInt(e.Port)).WithProtocol(proto)))
		if _, err := d.Client.CoreV1().Services(ns).Apply(ctx, svc, apply()); err != nil {
			return refused(fmt.Errorf("applying service %s/%s: %w", ns, name, err))
		}
	}
	return nil
}

// overwrite replaces the spec of a Deployment that others changed with the one slipway applied, so
// fields they added (which an apply leaves alone, not being slipway's) go too. The controller
// writes the Deployment's status meanwhile, so a conflict is read again and retried.
func (d *Driver) overwrite(ctx context.Context, live *appsv1.Deployment, want *appsv1ac.DeploymentApplyConfiguration) error {
	raw, err := json.Marshal(want)
	if err != nil {
		return err
	}
	var typed appsv1.Deployment
	if err := json.Unmarshal(raw, &typed); err != nil {
		return err
	}
	deployments := d.Client.AppsV1().Deployments(live.Namespace)
	err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
		next := live.DeepCopy()
		next.Spec = typed.Spec
		next.Labels, next.Annotations = mergeOwned(live.Labels, typed.Labels), mergeOwned(live.Annotations, typed.Annotations)
		_, err := deployments.Update(ctx, next, metav1.UpdateOptions{FieldManager: FieldManager})
		if apierrors.IsConflict(err) {
			if live, err = deployments.Get(ctx, live.Name, metav1.GetOptions{}); err != nil {
				return err
			}
			return apierrors.NewConflict(appsv1.Resource("deployments"), live.Name, errors.New("changed meanwhile"))
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("overwriting the hand-changed deployment %s/%s: %w", live.Namespace, live.Name, err)
	}
	return nil
}

// mergeOwned keeps what others put in a label or annotation map and sets slipway's values.
func mergeOwned(live, want map[string]string) map[string]string {
	out := maps.Clone(live)
	if out == nil {
		out = map[string]string{}
	}
	maps.Copy(out, want)
	return out
}

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

// podTrouble says why a pod of the release is not ready ("; pod x: not ready (ContainersNotReady)"), or "".
func (d *Driver) podTrouble(ctx context.Context, ns string, r dataplane.Release) string {
	sel := labels.SelectorFromSet(map[string]string{dataplane.LabelComponent: r.Component, dataplane.LabelBuild: label(r.BuildID)})
	pods, err := d.Client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: sel.String()})
	if err != nil {
		return ""
	}
	for _, p := range pods.Items {
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

// Restore re-applies previous — the last release slipway recorded as serving, with the configs it
// ran with, not whatever the ReplicaSet history holds — and waits for it. The cluster scales the old
// ReplicaSet back in place of the failed one; with maxUnavailable 0 it never went below its
// replicas. Without a previous release the failed release's Deployment is deleted.
func (d *Driver) Restore(ctx context.Context, failed dataplane.Release, previous *dataplane.Release) error {
	ns := d.namespace(failed.Project, failed.Environment)
	if previous == nil {
		err := d.Client.AppsV1().Deployments(ns).Delete(ctx, failed.Component, metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("deleting deployment %s/%s: %w", ns, failed.Component, err)
		}
		return d.Remove(ctx, failed.Project, failed.Component, failed.Environment, failed.BuildID, 0)
	}
	if _, err := d.Apply(ctx, *previous); err != nil {
		return err
	}
	if p, err := d.WaitReady(ctx, *previous, nil); err != nil {
		return fmt.Errorf("restoring %s: %s: %w", previous.BuildID, p.Message, err)
	}
	// The failed release's Secret holds values nothing runs with any more.
	return d.Remove(ctx, failed.Project, failed.Component, failed.Environment, failed.BuildID, 0)
}

// Remove deletes the component's config Secrets the Deployment no longer refers to (all of them when
// it is gone), so replaced secret values do not linger in the cluster. The pods of the build went
// with the rollout; buildID and grace are the Docker driver's concern.
func (d *Driver) Remove(ctx context.Context, project, component, environment, buildID string, grace time.Duration) error {
	ns := d.namespace(project, environment)
	dep, err := d.Client.AppsV1().Deployments(ns).Get(ctx, component, metav1.GetOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("reading deployment %s/%s: %w", ns, component, err)
	}
	inUse := ""
	if err == nil {
		inUse = dep.Spec.Template.Annotations[AnnotationConfig]
	}
	sel := labels.SelectorFromSet(ownerLabels(project, component, environment)).String()
	secrets, err := d.Client.CoreV1().Secrets(ns).List(ctx, metav1.ListOptions{LabelSelector: sel})
	if err != nil {
		return fmt.Errorf("listing config secrets in %s: %w", ns, err)
	}
	for _, s := range secrets.Items {
		if s.Name == inUse {
			continue
		}
		if err := d.Client.CoreV1().Secrets(ns).Delete(ctx, s.Name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("deleting config secret %s/%s: %w", ns, s.Name, err)
		}
	}
	return nil
}

// Describe lists the component's pods.
func (d *Driver) Describe(ctx context.Context, project, component, environment string) ([]dataplane.Instance, error) {
	ns := d.namespace(project, environment)
	sel := labels.SelectorFromSet(ownerLabels(project, component, environment)).String()
	pods, err := d.Client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: sel})
	if err != nil {
		return nil, fmt.Errorf("listing pods in %s: %w", ns, err)
	}
	out := make([]dataplane.Instance, 0, len(pods.Items))
	for _, p := range pods.Items {
		out = append(out, dataplane.Instance{
			ID: p.Name, BuildID: p.Annotations[AnnotationBuild], Digest: p.Annotations[AnnotationDigest],
			Running: p.Status.Phase == corev1.PodRunning && p.DeletionTimestamp == nil,
		})
	}
	slices.SortFunc(out, func(a, b dataplane.Instance) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

// URL is the in-cluster address of the Service of the release's first TCP-borne endpoint.
func (d *Driver) URL(r dataplane.Release) string {
	for _, e := range r.Endpoints {
		if e.Type != descriptor.UDP {
			ns := d.namespace(r.Project, r.Environment)
			return fmt.Sprintf("http://%s.%s.svc:%d", ServiceName(r.Component, e.Name), ns, e.Port)
		}
	}
	return ""
}

// Drift reports a Deployment whose spec a field manager other than slipway (kubectl edit, scale,
// set image…) changed since slipway applied it, or that is gone.
func (d *Driver) Drift(ctx context.Context, project, component, environment string) (dataplane.Drift, error) {
	ns := d.namespace(project, environment)
	dep, err := d.Client.AppsV1().Deployments(ns).Get(ctx, component, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return dataplane.Drift{Detected: true, Message: fmt.Sprintf("deployment %s/%s is gone", ns, component)}, nil
	}
	if err != nil {
		return dataplane.Drift{}, fmt.Errorf("reading deployment %s/%s: %w", ns, component, err)
	}
	changes := foreignSpecManagers(dep)
	if len(changes) == 0 {
		return dataplane.Drift{}, nil
	}
	return dataplane.Drift{Detected: true, Message: strings.Join(changes, "; ") + " (overwritten on the next deploy)"}, nil
}

// foreignSpecManagers describes the managed-fields entries of managers other than slipway and the
// cluster's own controllers that own fields of the Deployment's spec, e.g.
// "spec.replicas, spec.template changed by kubectl-edit at 2026-11-26T13:04:05Z".
func foreignSpecManagers(dep *appsv1.Deployment) []string {
	var out []string
	for _, m := range dep.ManagedFields {
		// The status is the controller's; a scale (kubectl scale, an autoscaler) is a change of spec.
		if m.Manager == FieldManager || m.Subresource == "status" || m.FieldsV1 == nil {
			continue
		}
		var fields map[string]map[string]json.RawMessage
		if err := json.Unmarshal(m.FieldsV1.Raw, &fields); err != nil {
			continue
		}
		spec, ok := fields["f:spec"]
		if !ok {
			continue
		}
		var names []string
		for k := range spec {
			if f, ok := strings.CutPrefix(k, "f:"); ok {
				names = append(names, "spec."+f)
			}
		}
		if len(names) == 0 {
			continue
		}
		slices.Sort(names)
		s := strings.Join(names, ", ") + " changed by " + m.Manager
		if m.Time != nil {
			s += " at " + m.Time.UTC().Format(time.RFC3339)
		}
		out = append(out, s)
	}
	return out
}
