package kubernetes

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/slipway-dev/slipway/dataplane"
)

// Drift reports a Deployment whose spec a field manager other than slipway (kubectl edit, scale,
// set image…) changed since slipway applied it, or that is gone. It writes nothing and reads the
// Deployment whichever install labelled it, so a driver without Install reads drift as well.
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
		if err := json.Unmarshal(m.FieldsV1.GetRawBytes(), &fields); err != nil {
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
