// Package dataplane is what the deploy activity asks of a data plane — the Docker Engine on one
// machine, Kubernetes at scale — so both fit one rollout: apply a release beside what runs, wait
// until it is ready, then commit it (the old one goes) or restore the previous one (the new one
// goes), and describe what runs.
package dataplane

import (
	"context"
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
)

// Release is one build of a component to run in one environment. It holds the environment's
// configs and secrets in clear: it lives only inside the deploy activity and is never logged,
// returned or put in a workflow's input or result.
type Release struct {
	Project, Component, Environment string
	// BuildID is the build released; Image is its image by digest ("host:port/p/c@sha256:…") and
	// Digest that digest.
	BuildID, Image, Digest string
	// Replicas is how many instances run; zero means 1.
	Replicas int
	// Env holds the values injected as environment variables (secrets among them). Nil means none.
	Env map[string]string
	// Files holds the values mounted as files, by absolute path (secrets among them). Nil means none.
	Files map[string][]byte
	// Ports are the ports the component listens on, from its endpoints; the first is the one
	// traffic is sent to. Nil means none (nothing is routed to it).
	Ports []int
	// Readiness is the check an instance must pass before it takes traffic; nil means it is ready
	// once its process runs.
	Readiness *descriptor.Probe
	// CPUs and MemoryBytes limit each instance; zero means no limit.
	CPUs        float64
	MemoryBytes int64
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
