// Package dataplane is what the deploy activity asks of a data plane — the Docker Engine on one
// machine, Kubernetes at scale — so both fit one rollout: apply a release beside what runs, wait
// until it is ready, then commit it (the old one goes) or restore the previous one (the new one
// goes), and describe what runs.
package dataplane

import (
	"context"
	"errors"
	"time"

	"github.com/slipway-dev/slipway/descriptor"
)

// Labels every object slipway makes on a data plane carries, so it can find and own them.
const (
	LabelManaged     = "dev.slipway.managed"
	LabelProject     = "dev.slipway.project"
	LabelComponent   = "dev.slipway.component"
	LabelEnvironment = "dev.slipway.environment"
	LabelBuild       = "dev.slipway.build"
	LabelDigest      = "dev.slipway.digest"
	// LabelInstall holds the ID of the install that made the object (store.InstallID): an install never
	// touches another's.
	LabelInstall = "dev.slipway.install"
)

// ErrRefused marks a data plane's answer that asking again will not change: the release is invalid
// there, or slipway may not touch what it would have to. The deploy activity does not retry it.
var ErrRefused = errors.New("refused by the data plane")

// Release is one build of a component to run in one environment. It holds the environment's
// configs and secrets in clear: it lives only inside the deploy activity and is never logged,
// returned or put in a workflow's input or result.
type Release struct {
	Project, Component, Environment string
	// BuildID is the build released; Image is its image by digest ("host:port/p/c@sha256:…") and
	// Digest that digest; Commit is the commit it was built from ("" when unknown).
	BuildID, Image, Digest, Commit string
	// Replicas is how many instances run; zero means 1.
	Replicas int
	// Env holds the values injected as environment variables (secrets among them). Nil means none.
	Env map[string]string
	// Files holds the values mounted as files, by absolute path (secrets among them). Nil means none.
	Files map[string][]byte
	// Endpoints are what the component serves, from its descriptor; the first TCP-borne one (see
	// Port) is where traffic is sent. Nil means none (nothing is routed to it).
	Endpoints []descriptor.Endpoint
	// Readiness is the check an instance must pass before it takes traffic; nil means it is ready
	// once its process runs. Liveness is the check that restarts an instance where the data plane
	// can (Kubernetes); nil means none.
	Readiness, Liveness *descriptor.Probe
	// CPUs and MemoryBytes limit each instance; zero means no limit.
	CPUs        float64
	MemoryBytes int64
}

// Port is the port traffic is sent to: that of the first endpoint not over UDP; zero when none.
func (r Release) Port() int {
	for _, e := range r.Endpoints {
		if e.Type != descriptor.UDP {
			return e.Port
		}
	}
	return 0
}

// Instance is one running copy of a release.
type Instance struct {
	// ID names the instance on its data plane (a container ID, a pod name).
	ID string `json:"id"`
	// BuildID and Digest say which release it runs.
	BuildID string `json:"build"`
	Digest  string `json:"digest"`
	// Address is where its first port is reached from slipway ("host:port"); "" when it has none.
	Address string `json:"address,omitempty"`
	// Running says its process runs.
	Running bool `json:"running"`
}

// Probe is the outcome of a readiness check.
type Probe struct {
	Ready bool `json:"ready"`
	// Message says what the last check saw, e.g. "GET /healthz: 503" or "dial tcp …: connection refused".
	Message string    `json:"message"`
	At      time.Time `json:"at"`
}

// Driver runs releases on one data plane. Every method is idempotent: a retried activity calls it
// again with the same arguments.
type Driver interface {
	// Apply starts the release's instances beside those of other builds already running.
	Apply(ctx context.Context, r Release) ([]Instance, error)
	// WaitReady checks the release's instances until all are ready, one stops, or ctx ends, and
	// returns the last check; it reports progress to beat.
	WaitReady(ctx context.Context, r Release, beat func(Probe)) (Probe, error)
	// Restore undoes the Apply of a release that did not get ready, so that previous — the release
	// serving before, nil when none was — serves as it did: on Docker the new instances are removed
	// (the old ones never stopped); a driver that replaces instances in place re-applies previous.
	Restore(ctx context.Context, failed Release, previous *Release) error
	// Remove stops (draining for up to grace) and removes the instances of build buildID.
	Remove(ctx context.Context, project, component, environment, buildID string, grace time.Duration) error
	// Describe lists the instances of the component running in the environment.
	Describe(ctx context.Context, project, component, environment string) ([]Instance, error)
}

// SelfRouted is a Driver whose data plane routes traffic to a release itself (a Kubernetes
// Service) rather than through slipway's entry proxy.
type SelfRouted interface {
	// URL is where the release is reached on its data plane; "" when it serves no endpoint.
	URL(r Release) string
}

// Drift is what changed on the data plane behind slipway's back.
type Drift struct {
	// Detected says something changed; Message says what, by whom and when.
	Detected bool   `json:"detected"`
	Message  string `json:"message,omitempty"`
}

// DriftDetector is a Driver that can tell whether what runs was changed by hand.
type DriftDetector interface {
	// Drift reports what of the component's release in the environment was changed behind
	// slipway's back since slipway applied it; a zero Drift means nothing was.
	Drift(ctx context.Context, project, component, environment string) (Drift, error)
}
