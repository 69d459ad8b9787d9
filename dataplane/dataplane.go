// Package dataplane is what the deploy activity asks of a data plane — the Docker Engine on one
// machine, Kubernetes at scale — so both fit one rollout: apply a release (beside what runs, or in
// place of it), wait until it is ready, then serve it and commit it (naming the releases it replaced
// that still run, which then go) or restore the previous one (the new one goes), and describe what
// runs. Where the two differ the Driver says so itself; the rollout never asks which one it has.
package dataplane

import (
	"context"
	"errors"
	"strings"
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
	// Port) is where traffic is sent, and whether it is routed from outside the environment (see
	// Public). Nil means none (nothing is routed to it).
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

// Public says whether the release is reached from outside its environment: its first endpoint not over
// UDP (the one Port gives) is public (descriptor.Endpoint.IsPublic). A release that is not is reached only
// by the project's components in the same environment, at http://<component>:<port>; one with no such
// endpoint is reached by nothing.
func (r Release) Public() bool {
	for _, e := range r.Endpoints {
		if e.Type != descriptor.UDP {
			return e.IsPublic()
		}
	}
	return false
}

// DefaultDomain is the domain public releases are named under when none is configured: browsers and curl
// resolve every name under it to the loopback address.
const DefaultDomain = "localhost"

// PublicHost is the host name a public release of a component in an environment of a project is reached at,
// from the edge on Docker or an Ingress on Kubernetes: <component>.<environment>.<project>.<domain>, lower
// case. Domain "" means DefaultDomain; dots around it do not count.
func PublicHost(project, component, environment, domain string) string {
	domain = strings.Trim(domain, ".")
	if domain == "" {
		domain = DefaultDomain
	}
	return strings.ToLower(component + "." + environment + "." + project + "." + domain)
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

// Driver runs releases on one data plane. A rollout calls Apply, then WaitReady; a release that got
// ready it then Serves and Commits, and it Removes the builds Commit named once they drained; one
// that did not it Restores. Every method is idempotent: a retried activity calls it again with the
// same arguments.
type Driver interface {
	// Apply starts the release's instances: beside those of other builds already running (Docker), or
	// as a rolling replacement of them that keeps the old ones serving until the new ones are ready
	// (Kubernetes). It returns the instances it started, for Serve; nil when the data plane starts
	// them itself later (Kubernetes: Describe lists them).
	Apply(ctx context.Context, r Release) ([]Instance, error)
	// VerdictWait is how much longer than the rollout's own deadline WaitReady is given, so that a data
	// plane judging readiness itself against that deadline (Kubernetes' progress deadline) can report its
	// verdict; zero when slipway's own checks are the verdict (Docker).
	VerdictWait() time.Duration
	// WaitReady checks the release's instances until all are ready, one stops, or ctx ends, and
	// returns the last check; it reports progress to beat (nil: not reported).
	WaitReady(ctx context.Context, r Release, beat func(Probe)) (Probe, error)
	// Serve sends the traffic of r, ready, to it and returns the URL it is reached at from outside its
	// environment; "" when r is not reached from there (Release.Public is false: it serves no endpoint,
	// or only inside the environment, where the project's components reach it by name). insts are the
	// instances Apply returned. A data plane that routes traffic itself (a Kubernetes Service, which
	// sends it to the ready pods) returns its address and needs neither insts nor entry; one that does
	// not (Docker) has entry switch to the addresses of insts, draining what went to the release
	// before, or close for a release that is not public, and fails without an entry (nil).
	Serve(ctx context.Context, r Release, insts []Instance, entry Entry) (string, error)
	// Commit ends the rollout of r, which serves: it returns the builds whose releases r replaced and
	// that still run beside it (sorted; nil when none do), for the rollout to Remove once they have
	// drained, and removes at once what the replaced releases left that nothing uses any more. A data
	// plane that replaced them in place (Kubernetes) names none and removes their config Secrets.
	Commit(ctx context.Context, r Release) (replaced []string, err error)
	// Remove stops the instances of build buildID of the component in the environment, each given
	// grace to finish what it serves (zero: stopped at once), and removes them and what nothing else
	// uses; another install's it leaves alone, and nothing of buildID left is no error. On Kubernetes
	// the instances are the Deployment while it still runs buildID (a rolling update already removed
	// the pods of the builds it replaced) and go within the pods' own termination grace period; what
	// nothing else uses is the config Secrets the Deployment no longer refers to.
	Remove(ctx context.Context, project, component, environment, buildID string, grace time.Duration) error
	// ReplacesInPlace says whether Apply replaces the release serving (Kubernetes' rolling update)
	// rather than starting the new one beside it (Docker). Then Restore must have the previous release
	// to go back to; otherwise the previous release never stopped and Restore only removes the failed
	// one, so a rollout that cannot read the previous release restores without it.
	ReplacesInPlace() bool
	// Restore undoes the Apply of a release that did not get ready, so that previous — the release
	// serving before, nil when none was — serves as it did: on Docker the failed release's instances
	// are removed (previous is not needed); on Kubernetes previous is re-applied and waited for, or,
	// when nil, the failed release's Deployment is deleted.
	Restore(ctx context.Context, failed Release, previous *Release) error
	// Describe lists the instances of the component in the environment, of every build; finding none
	// is no error.
	Describe(ctx context.Context, project, component, environment string) ([]Instance, error)
}

// TaskResult is how one run of a task ended.
type TaskResult struct {
	// ExitCode is the exit status of the run's process.
	ExitCode int
	// StartedAt and EndedAt are when it ran, as the data plane saw it (zero when it does not say).
	StartedAt, EndedAt time.Time
}

// Runner runs the release of a task (a component that runs to completion rather than serves) once.
type Runner interface {
	// Run starts one instance of r for the run named run (unique to it), waits until it exits, hands what it
	// wrote (stdout and stderr, line by line) to output, removes it and returns how it ended. It is idempotent:
	// a run already started is waited for, not started again, and one that already ended is answered from what
	// it left. When ctx ends the instance is stopped and removed, and ctx's error returned.
	Run(ctx context.Context, r Release, run string, output func(lines []string) error) (TaskResult, error)
}

// Entry is slipway's own entry proxy (package entry), which sends the traffic of a data plane that
// does not route it itself (Docker) to a release's instances. It runs in the process that rolls
// releases out, which hands it to Driver.Serve.
type Entry interface {
	// Switch opens the entry of r's component in r's environment unless it is open, sends its new
	// requests to addrs ("host:port" each; nil: none, it answers 502), lets those under way to the
	// addresses before finish for as long as the rollout drains, and returns the entry's URL.
	Switch(ctx context.Context, r Release, addrs []string) (url string, err error)
	// Close stops routing the entry of r's component in r's environment, if it is open (a release that
	// is not public replaced one that was): its URL answers 404, and the requests under way finish for
	// as long as the rollout drains.
	Close(ctx context.Context, r Release) error
}

// Drift is what changed on the data plane behind slipway's back. Kubernetes tells
// (kubernetes.Driver.Drift); Docker does not.
type Drift struct {
	// Detected says something changed; Message says what, by whom and when.
	Detected bool   `json:"detected"`
	Message  string `json:"message,omitempty"`
}
