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
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	appsv1ac "k8s.io/client-go/applyconfigurations/apps/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	metav1ac "k8s.io/client-go/applyconfigurations/meta/v1"
	networkingv1ac "k8s.io/client-go/applyconfigurations/networking/v1"
	"k8s.io/client-go/util/retry"

	"github.com/slipway-dev/slipway/dataplane"
	"github.com/slipway-dev/slipway/descriptor"
)

func apply() metav1.ApplyOptions { return metav1.ApplyOptions{FieldManager: FieldManager, Force: true} }

// Apply writes the environment's namespace and NetworkPolicy, the release's config Secret, the
// component's Deployment, its Services and, for a public release, its Ingress. The cluster then rolls the pods; WaitReady watches it.
// A Deployment changed by hand gets slipway's spec back whole, the hand-made fields included.
func (d *Driver) Apply(ctx context.Context, r dataplane.Release) ([]dataplane.Instance, error) {
	ns := d.namespace(r.Project, r.Environment)
	if err := d.checkOwner(ctx, ns, r); err != nil {
		return nil, err
	}
	if err := d.applyNamespace(ctx, ns, r.Project, r.Environment); err != nil {
		return nil, err
	}
	secret, data, files := configData(r)
	if err := d.applySecret(ctx, ns, r, secret, data); err != nil {
		return nil, err
	}
	// The Services and the Ingress go first: should one be refused, no new pods roll meanwhile.
	if err := d.applyServices(ctx, ns, r); err != nil {
		return nil, err
	}
	if err := d.applyIngress(ctx, ns, r); err != nil {
		return nil, err
	}
	want := d.deployment(ns, r, secret, files)
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

// checkOwner refuses to apply into a namespace or over a Deployment that belongs to another install
// (labelled with its ID), or to another project or environment (two bindings naming one namespace, or
// default names that meet, "a-b"/"c" and "a"/"b-c").
func (d *Driver) checkOwner(ctx context.Context, ns string, r dataplane.Release) error {
	n, err := d.Client.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
	switch {
	case err == nil:
		if err := d.owned("namespace "+ns, n.Labels, r); err != nil {
			return err
		}
	case !apierrors.IsNotFound(err):
		return refused(fmt.Errorf("reading namespace %s: %w", ns, err))
	}
	dep, err := d.Client.AppsV1().Deployments(ns).Get(ctx, r.Component, metav1.GetOptions{})
	switch {
	case err == nil:
		return d.owned("deployment "+ns+"/"+r.Component, dep.Labels, r)
	case apierrors.IsNotFound(err):
		return nil
	}
	return refused(fmt.Errorf("reading deployment %s/%s: %w", ns, r.Component, err))
}

// owned refuses (ErrRefused) what, labelled l, unless it is the install's (or from before install IDs)
// and r's project's and environment's. A namespace the platform team made for slipway may carry no
// owner yet; one slipway labelled does.
func (d *Driver) owned(what string, l map[string]string, r dataplane.Release) error {
	if !d.owns(l) {
		return fmt.Errorf("%w: %s belongs to another slipway install", dataplane.ErrRefused, what)
	}
	p, e := l[dataplane.LabelProject], l[dataplane.LabelEnvironment]
	if p == "" && e == "" {
		return nil
	}
	if p != r.Project || e != r.Environment {
		return fmt.Errorf("%w: %s belongs to environment %s of project %s, not %s of %s",
			dataplane.ErrRefused, what, e, p, r.Environment, r.Project)
	}
	return nil
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
	l := d.withInstall(map[string]string{dataplane.LabelManaged: "true", dataplane.LabelProject: project, dataplane.LabelEnvironment: environment})
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

// applySecret writes the release's configs (configData) as the immutable Secret name, named by their
// hash, so a change of config rolls the pods and restoring a release restores exactly the configs it
// ran with.
func (d *Driver) applySecret(ctx context.Context, ns string, r dataplane.Release, name string, data map[string][]byte) error {
	s := corev1ac.Secret(name, ns).WithLabels(d.labels(r.Project, r.Component, r.Environment)).
		WithType(corev1.SecretTypeOpaque).WithImmutable(true).WithData(data)
	if _, err := d.Client.CoreV1().Secrets(ns).Apply(ctx, s, apply()); err != nil {
		// Never wrap the object: the error names the Secret, not its values.
		msg := fmt.Errorf("applying the config secret %s/%s: %s", ns, name, apierrors.ReasonForError(err))
		if isRefused(err) {
			msg = fmt.Errorf("%w: %w", dataplane.ErrRefused, msg)
		}
		return msg
	}
	return nil
}

// deployment is the component's Deployment running r with its configs from Secret secret, the files
// in it at the paths files lists (configData).
func (d *Driver) deployment(ns string, r dataplane.Release, secret string, files []string) *appsv1ac.DeploymentApplyConfiguration {
	annotations := map[string]string{AnnotationBuild: r.BuildID, AnnotationDigest: r.Digest, AnnotationConfig: secret}
	if r.Commit != "" {
		annotations[AnnotationCommit] = r.Commit
	}
	podLabels := d.labels(r.Project, r.Component, r.Environment)
	podLabels[dataplane.LabelBuild] = label(r.BuildID)

	pod := d.podSpec(r, secret, files, func(c *corev1ac.ContainerApplyConfiguration) {
		for _, e := range r.Endpoints {
			proto := corev1.ProtocolTCP
			if e.Type == descriptor.UDP {
				proto = corev1.ProtocolUDP
			}
			c.WithPorts(corev1ac.ContainerPort().WithName(portName(e)).WithContainerPort(int32(e.Port)).WithProtocol(proto))
		}
		if p := probe(r.Readiness); p != nil {
			c.WithReadinessProbe(p)
		}
		if p := probe(r.Liveness); p != nil {
			c.WithLivenessProbe(p)
		}
	})
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
		WithLabels(d.labels(r.Project, r.Component, r.Environment)).
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
	name := shorten(e.Name, 15, 5)
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
		svc := corev1ac.Service(name, ns).WithLabels(d.labels(r.Project, r.Component, r.Environment)).
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
