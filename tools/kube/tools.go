//go:build tools

// Package tools pins the Kubernetes control plane slipway's Kubernetes tests run: kube-apiserver,
// kube-controller-manager and kube-scheduler, and kwok, which fakes nodes and the pods on them; and
// kubectl, which renders and server-side dry-runs the manifests in deploy/kubernetes. It is
// a module of its own because k8s.io/kubernetes must replace every one of its staging modules.
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubectl"
	_ "sigs.k8s.io/kwok/cmd/kwok"
)
