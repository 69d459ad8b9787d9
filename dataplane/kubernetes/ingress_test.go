package kubernetes

import (
	"context"
	"errors"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/slipway-dev/slipway/dataplane"
	"github.com/slipway-dev/slipway/descriptor"
)

// A public release gets an Ingress for its first TCP-borne endpoint, labelled like its Deployment, of the
// class asked for; with a domain configured Serve reports the Ingress's URL.
func TestApplyWritesTheIngressOfAPublicRelease(t *testing.T) {
	ctx := context.Background()
	c := fake.NewClientset()
	d := &Driver{Client: c, Install: "0123abcd", IngressClass: "nginx"}
	ns := Namespace("shop", "dev")
	r := release("b-1", nil)
	r.Endpoints = append([]descriptor.Endpoint{{Name: "dns", Port: 53, Type: descriptor.UDP}}, r.Endpoints...)
	if _, err := d.Apply(ctx, r); err != nil {
		t.Fatal(err)
	}
	ing, err := c.NetworkingV1().Ingresses(ns).Get(ctx, "api", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if ing.Labels[dataplane.LabelComponent] != "api" || ing.Labels[dataplane.LabelInstall] != "0123abcd" || ing.Labels[dataplane.LabelManaged] != "true" {
		t.Errorf("ingress labels = %v", ing.Labels)
	}
	if ing.Spec.IngressClassName == nil || *ing.Spec.IngressClassName != "nginx" || len(ing.Spec.Rules) != 1 {
		t.Fatalf("ingress spec = %+v", ing.Spec)
	}
	rule := ing.Spec.Rules[0]
	if rule.Host != "api.dev.shop.localhost" || len(rule.HTTP.Paths) != 1 {
		t.Fatalf("ingress rule = %+v", rule)
	}
	p := rule.HTTP.Paths[0]
	if p.Path != "/" || p.PathType == nil || *p.PathType != networkingv1.PathTypePrefix ||
		p.Backend.Service.Name != "api-web" || p.Backend.Service.Port.Number != 8080 {
		t.Errorf("ingress path = %+v, backend %+v", p, p.Backend.Service)
	}
	if u, _ := d.Serve(ctx, r, nil, nil); u != "http://api-web.slipway-shop-dev.svc:8080" {
		t.Errorf("Serve without a domain = %q, want the Service's in-cluster address", u)
	}

	// A configured domain names the host and the URL; no class means the cluster's default.
	d = &Driver{Client: c, Install: "0123abcd", Domain: "apps.example.com"}
	if _, err := d.Apply(ctx, r); err != nil {
		t.Fatal(err)
	}
	ing, _ = c.NetworkingV1().Ingresses(ns).Get(ctx, "api", metav1.GetOptions{})
	if ing.Spec.Rules[0].Host != "api.dev.shop.apps.example.com" || ing.Spec.IngressClassName != nil {
		t.Errorf("ingress with a domain and no class = %+v", ing.Spec)
	}
	if u, _ := d.Serve(ctx, r, nil, nil); u != "http://api.dev.shop.apps.example.com" {
		t.Errorf("Serve with a domain = %q", u)
	}

	// Removing the build the Deployment runs removes the Ingress with it.
	if err := d.Remove(ctx, "shop", "api", "dev", "b-1", 0); err != nil {
		t.Fatal(err)
	}
	if _, err := c.NetworkingV1().Ingresses(ns).Get(ctx, "api", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("the ingress outlived its deployment: %v", err)
	}
}

// A release whose first TCP-borne endpoint is project-visible has no Ingress (the one a public release
// before it made goes) and no URL; another install's Ingress is left alone.
func TestAProjectReleaseHasNoIngress(t *testing.T) {
	ctx := context.Background()
	c := fake.NewClientset()
	d := &Driver{Client: c, Install: "0123abcd", Domain: "apps.example.com"}
	ns := Namespace("shop", "dev")
	r := release("b-1", nil)
	if _, err := d.Apply(ctx, r); err != nil {
		t.Fatal(err)
	}
	r.BuildID = "b-2"
	r.Endpoints[0].Visibility = descriptor.Project
	if _, err := d.Apply(ctx, r); err != nil {
		t.Fatal(err)
	}
	if _, err := c.NetworkingV1().Ingresses(ns).Get(ctx, "api", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("a project release kept the public one's ingress: %v", err)
	}
	if u, err := d.Serve(ctx, r, nil, nil); err != nil || u != "" {
		t.Fatalf("Serve of a project release = %q, %v; want no URL", u, err)
	}

	foreign := &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Name: "api", Namespace: ns, Labels: map[string]string{
		dataplane.LabelManaged: "true", dataplane.LabelProject: "shop", dataplane.LabelComponent: "api", dataplane.LabelEnvironment: "dev",
		dataplane.LabelInstall: "ffff0000"}}}
	if _, err := c.NetworkingV1().Ingresses(ns).Create(ctx, foreign, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Apply(ctx, r); err != nil {
		t.Fatal(err)
	}
	if _, err := c.NetworkingV1().Ingresses(ns).Get(ctx, "api", metav1.GetOptions{}); err != nil {
		t.Fatalf("another install's ingress went: %v", err)
	}
	r.Endpoints[0].Visibility = descriptor.Public
	if _, err := d.Apply(ctx, r); !errors.Is(err, dataplane.ErrRefused) {
		t.Fatalf("a public release over another install's ingress: %v, want refused", err)
	}
}
