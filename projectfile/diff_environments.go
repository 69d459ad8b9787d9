package projectfile

import (
	"cmp"
	"context"
	"net/http"
	"slices"
	"strings"

	"github.com/slipway-dev/slipway/api"
)

// environments adds the changes that make the install's environments cur (in promotion order) the declared ones,
// and returns the names of the environments the project will have, in their promotion order: the declared
// ones in the file's order, then those the file leaves out (which cannot be deleted) in their current order.
func (d *differ) environments(cur []api.Environment) []string {
	p := d.project
	byName := map[string]api.Environment{}
	var current, afterCreate, order []string
	for _, e := range cur {
		byName[e.Name] = e
		current = append(current, e.Name)
	}
	afterCreate = slices.Clone(current)
	for _, want := range p.Environments {
		order = append(order, want.Name)
		have, ok := byName[want.Name]
		if !ok {
			d.createEnvironment(want)
			afterCreate = append(afterCreate, want.Name)
			continue
		}
		if u, cs := environmentUpdate(have, want); len(cs) > 0 {
			d.add(Change{text: "~ environment " + p.Name + "/" + want.Name + ": " + strings.Join(cs, ", "),
				stage: stageEnvironmentUpdate, path: want.path, doing: "changing environment " + p.Name + "/" + want.Name,
				run: patchEnvironment(p.Name, want.Name, u)})
		}
	}
	for _, name := range current {
		if !slices.Contains(order, name) {
			order = append(order, name)
			if d.opts.Prune {
				d.warnf("environment %s/%s is not in the file but stays: the API cannot delete environments", p.Name, name)
			}
		}
	}
	if !slices.Equal(order, afterCreate) {
		req := api.EnvironmentOrder{Order: order}
		d.add(Change{text: "~ environments " + p.Name + ": order " + strings.Join(current, ", ") + " → " + strings.Join(order, ", "),
			stage: stageEnvironmentOrder, path: field(p.path, "environments"), doing: "reordering the environments of " + p.Name,
			run: func(ctx context.Context, c Client) (*Webhook, error) {
				return nil, c.Do(ctx, http.MethodPut, apiPath("projects", p.Name, "environments", "order"), req, nil)
			}})
	}
	return order
}

// createEnvironment adds the change that creates want: a POST with what it takes, then a PATCH with the rest.
func (d *differ) createEnvironment(want Environment) {
	p := d.project
	req := api.EnvironmentRequest{Name: want.Name, Production: want.Production, Replicas: want.Replicas,
		CPUs: want.CPUs, MemoryBytes: want.MemoryBytes}
	created := api.Environment{Name: want.Name, Production: want.Production, Replicas: want.Replicas, CPUs: want.CPUs,
		MemoryBytes: want.MemoryBytes, DataPlane: DataPlaneDocker}
	rest, _ := environmentUpdate(created, want)
	text := "+ environment " + p.Name + "/" + want.Name
	if settings := environmentSettings(want); len(settings) > 0 {
		text += " (" + strings.Join(settings, ", ") + ")"
	}
	patch := patchEnvironment(p.Name, want.Name, rest)
	d.add(Change{text: text, stage: stageEnvironmentCreate, path: want.path, doing: "creating environment " + p.Name + "/" + want.Name,
		run: func(ctx context.Context, c Client) (*Webhook, error) {
			if err := c.Do(ctx, http.MethodPost, apiPath("projects", p.Name, "environments"), req, nil); err != nil {
				return nil, err
			}
			if rest == (api.EnvironmentUpdate{}) {
				return nil, nil
			}
			return patch(ctx, c)
		}})
}

// environmentSettings are the settings of e that are not the API's defaults, as "field value".
func environmentSettings(e Environment) []string {
	var out []string
	set := func(field string, v any, isDefault bool) {
		if !isDefault {
			out = append(out, field+" "+show(v))
		}
	}
	set("production", e.Production, !e.Production)
	set("replicas", e.Replicas, e.Replicas == 0)
	set("cpus", e.CPUs, e.CPUs == 0)
	set("memoryBytes", e.MemoryBytes, e.MemoryBytes == 0)
	set("deployTimeoutSeconds", e.DeployTimeoutSeconds, e.DeployTimeoutSeconds == 0)
	set("dataPlane", e.DataPlane, e.DataPlane == "" || e.DataPlane == DataPlaneDocker)
	if k := e.Kubernetes; k != nil {
		set("kubernetes.context", k.Context, k.Context == "")
		set("kubernetes.inCluster", k.InCluster, !k.InCluster)
		set("kubernetes.namespace", k.Namespace, k.Namespace == "")
		set("kubernetes.ingressNamespaces", k.IngressNamespaces, len(k.IngressNamespaces) == 0)
		set("kubernetes.maxSurge", orDefault(k.MaxSurge, 1), k.MaxSurge == nil)
		set("kubernetes.maxUnavailable", orDefault(k.MaxUnavailable, 0), k.MaxUnavailable == nil)
	}
	return out
}

// patchEnvironment is the run of a change that PATCHes environment env of project p with u.
func patchEnvironment(p, env string, u api.EnvironmentUpdate) func(context.Context, Client) (*Webhook, error) {
	return func(ctx context.Context, c Client) (*Webhook, error) {
		return nil, c.Do(ctx, http.MethodPatch, apiPath("projects", p, "environments", env), u, nil)
	}
}

// environmentUpdate is the PATCH that makes have as want says, and its changes as "field old → new"; none when
// they agree. A field want leaves out is the API's default.
func environmentUpdate(have api.Environment, want Environment) (api.EnvironmentUpdate, []string) {
	var u api.EnvironmentUpdate
	var cs changes
	if have.Production != want.Production {
		u.Production = &want.Production
		add(&cs, "production", have.Production, want.Production)
	}
	if have.Replicas != want.Replicas {
		u.Replicas = &want.Replicas
		add(&cs, "replicas", have.Replicas, want.Replicas)
	}
	if cpuMillis(have.CPUs) != cpuMillis(want.CPUs) {
		u.CPUs = &want.CPUs
		add(&cs, "cpus", have.CPUs, want.CPUs)
	}
	if have.MemoryBytes != want.MemoryBytes {
		u.MemoryBytes = &want.MemoryBytes
		add(&cs, "memoryBytes", have.MemoryBytes, want.MemoryBytes)
	}
	if have.DeployTimeoutSeconds != want.DeployTimeoutSeconds {
		u.DeployTimeoutSeconds = &want.DeployTimeoutSeconds
		add(&cs, "deployTimeoutSeconds", have.DeployTimeoutSeconds, want.DeployTimeoutSeconds)
	}
	havePlane, wantPlane := cmp.Or(have.DataPlane, DataPlaneDocker), cmp.Or(want.DataPlane, DataPlaneDocker)
	if havePlane != wantPlane {
		u.DataPlane = &wantPlane
		add(&cs, "dataPlane", havePlane, wantPlane)
	}
	if wantPlane == DataPlaneKubernetes {
		var haveK api.KubernetesBinding
		if have.Kubernetes != nil && havePlane == DataPlaneKubernetes {
			haveK = *have.Kubernetes
		}
		wantK := Kubernetes{}
		if want.Kubernetes != nil {
			wantK = *want.Kubernetes
		}
		if k, kcs := kubernetesUpdate(haveK, wantK); len(kcs) > 0 {
			u.Kubernetes = &k
			cs = append(cs, kcs...)
		}
	}
	return u, cs
}

// kubernetesUpdate is the change that makes the binding have as want says, and its changes.
func kubernetesUpdate(have api.KubernetesBinding, want Kubernetes) (api.KubernetesUpdate, []string) {
	var u api.KubernetesUpdate
	var cs changes
	if have.Context != want.Context {
		u.Context = &want.Context
		add(&cs, "kubernetes.context", have.Context, want.Context)
	}
	if have.InCluster != want.InCluster {
		u.InCluster = &want.InCluster
		add(&cs, "kubernetes.inCluster", have.InCluster, want.InCluster)
	}
	if have.Namespace != want.Namespace {
		u.Namespace = &want.Namespace
		add(&cs, "kubernetes.namespace", have.Namespace, want.Namespace)
	}
	if !slices.Equal(have.IngressNamespaces, want.IngressNamespaces) {
		ns := append([]string{}, want.IngressNamespaces...) // never null: null would leave them as they are
		u.IngressNamespaces = &ns
		cs = append(cs, "kubernetes.ingressNamespaces "+show(have.IngressNamespaces)+" → "+show(want.IngressNamespaces))
	}
	if surge := orDefault(want.MaxSurge, 1); orDefault(have.MaxSurge, 1) != surge {
		u.MaxSurge = &surge
		add(&cs, "kubernetes.maxSurge", orDefault(have.MaxSurge, 1), surge)
	}
	if unavailable := orDefault(want.MaxUnavailable, 0); orDefault(have.MaxUnavailable, 0) != unavailable {
		u.MaxUnavailable = &unavailable
		add(&cs, "kubernetes.maxUnavailable", orDefault(have.MaxUnavailable, 0), unavailable)
	}
	return u, cs
}
