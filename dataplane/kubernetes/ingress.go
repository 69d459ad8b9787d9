package kubernetes

import (
	"context"
	"fmt"

	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	networkingv1ac "k8s.io/client-go/applyconfigurations/networking/v1"

	"github.com/slipway-dev/slipway/dataplane"
	"github.com/slipway-dev/slipway/descriptor"
)

// publicEndpoint is the endpoint a public release is reached at from outside its environment: its first
// TCP-borne one; false when the release is not public (dataplane.Release.Public).
func publicEndpoint(r dataplane.Release) (descriptor.Endpoint, bool) {
	for _, e := range r.Endpoints {
		if e.Type != descriptor.UDP {
			return e, e.IsPublic()
		}
	}
	return descriptor.Endpoint{}, false
}

// applyIngress writes the component's Ingress, named after it, when the release is public: host
// dataplane.PublicHost under Domain, every path to the Service of its first TCP-borne endpoint, of class
// IngressClass (the cluster's default when ""). One of another install or environment there is refused
// (dataplane.ErrRefused). A release that is not public has none: one a public release before it left goes.
func (d *Driver) applyIngress(ctx context.Context, ns string, r dataplane.Release) error {
	e, public := publicEndpoint(r)
	if !public {
		return d.deleteIngress(ctx, ns, r)
	}
	switch live, err := d.Client.NetworkingV1().Ingresses(ns).Get(ctx, r.Component, metav1.GetOptions{}); {
	case err == nil:
		if err := d.owned("ingress "+ns+"/"+r.Component, live.Labels, r); err != nil {
			return err
		}
	case !apierrors.IsNotFound(err):
		return refused(fmt.Errorf("reading ingress %s/%s: %w", ns, r.Component, err))
	}
	backend := networkingv1ac.IngressBackend().WithService(networkingv1ac.IngressServiceBackend().
		WithName(ServiceName(r.Component, e.Name)).
		WithPort(networkingv1ac.ServiceBackendPort().WithNumber(int32(e.Port))))
	path := networkingv1ac.HTTPIngressPath().WithPath("/").WithPathType(networkingv1.PathTypePrefix).WithBackend(backend)
	spec := networkingv1ac.IngressSpec().WithRules(networkingv1ac.IngressRule().
		WithHost(dataplane.PublicHost(r.Project, r.Component, r.Environment, d.Domain)).
		WithHTTP(networkingv1ac.HTTPIngressRuleValue().WithPaths(path)))
	if d.IngressClass != "" {
		spec.WithIngressClassName(d.IngressClass)
	}
	ing := networkingv1ac.Ingress(r.Component, ns).WithLabels(d.labels(r.Project, r.Component, r.Environment)).WithSpec(spec)
	if _, err := d.Client.NetworkingV1().Ingresses(ns).Apply(ctx, ing, apply()); err != nil {
		return refused(fmt.Errorf("applying ingress %s/%s: %w", ns, r.Component, err))
	}
	return nil
}

// deleteIngress deletes the component's Ingress if it is there and the install's, of the release's
// environment (conditionally on the object read, so none made meanwhile goes).
func (d *Driver) deleteIngress(ctx context.Context, ns string, r dataplane.Release) error {
	ingresses := d.Client.NetworkingV1().Ingresses(ns)
	ing, err := ingresses.Get(ctx, r.Component, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading ingress %s/%s: %w", ns, r.Component, err)
	}
	if d.owned("ingress "+ns+"/"+r.Component, ing.Labels, r) != nil || ing.Labels[dataplane.LabelComponent] != r.Component {
		return nil // not slipway's for this component: left alone
	}
	err = ingresses.Delete(ctx, r.Component, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &ing.UID}})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		return fmt.Errorf("deleting ingress %s/%s: %w", ns, r.Component, err)
	}
	return nil
}
