package activities

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"go.temporal.io/sdk/temporal"

	"github.com/slipway-dev/slipway/dataplane"
	"github.com/slipway-dev/slipway/descriptor"
	"github.com/slipway-dev/slipway/secretbox"
	"github.com/slipway-dev/slipway/store"
)

// release assembles what the data plane runs: the configs recorded with the deployment when they
// were (a retried or restored release gets exactly those), else the environment's configs and
// secrets, opened, and a hash of their sealed values (never of the values) that says which they were.
func (d *Deploys) release(ctx context.Context, dep store.Deployment, b store.Build, target store.Environment) (dataplane.Release, string, error) {
	desc := descriptor.Descriptor{}
	if b.Descriptor != nil {
		desc = *b.Descriptor
	}
	// The deployment records the digest it deploys; a build's own auto-deploy runs before the build is
	// recorded with it.
	digest := dep.Digest
	if digest == "" {
		digest = b.Digest
	}
	rel := dataplane.Release{
		Project: dep.Project, Component: dep.Component, Environment: dep.Environment, BuildID: b.ID, Digest: digest,
		Image:  d.Registry + "/" + dep.Project + "/" + dep.Component + "@" + digest,
		Commit: b.Commit, Endpoints: desc.Endpoints,
		Readiness: readinessOf(desc), Liveness: desc.Health.Liveness,
		Replicas: target.Replicas, CPUs: target.CPUs, MemoryBytes: target.MemoryBytes,
	}
	if dep.ReleaseConfig != nil {
		plain, err := d.Keyring.Open(store.DeploymentConfigAAD(dep.ID), *dep.ReleaseConfig)
		if err != nil {
			return dataplane.Release{}, "", temporal.NewNonRetryableApplicationError("the configs of deployment "+dep.ID+" cannot be decrypted", ErrTypeUndecryptable, err)
		}
		var rc releaseConfig
		if err := json.Unmarshal(plain, &rc); err != nil {
			return dataplane.Release{}, "", temporal.NewNonRetryableApplicationError("the configs of deployment "+dep.ID+" do not decode", ErrTypeUndecryptable, err)
		}
		rel.Env, rel.Files = rc.Env, rc.Files
		return rel, dep.ConfigHash, nil
	}
	values, err := d.Store.ListConfigs(ctx, dep.Project, dep.Component, dep.Environment)
	if err != nil {
		return dataplane.Release{}, "", err
	}
	envName, fileName := map[string]string{}, map[string]string{}
	for _, r := range slices.Concat(desc.Required.Configs, desc.Required.Secrets) {
		if r.File != "" {
			fileName[r.Name] = r.File
		} else if r.Env != "" {
			envName[r.Name] = r.Env
		}
	}
	env, files := map[string]string{}, map[string][]byte{}
	h := sha256.New()
	for _, v := range values {
		pt, err := d.Keyring.Open(v.AAD(), v.Sealed)
		if errors.Is(err, secretbox.ErrDecrypt) {
			return dataplane.Release{}, "", temporal.NewNonRetryableApplicationError("config "+v.Key+" cannot be decrypted", ErrTypeUndecryptable, err)
		}
		if err != nil {
			return dataplane.Release{}, "", err
		}
		switch {
		case fileName[v.Key] != "":
			files[fileName[v.Key]] = pt
		case envName[v.Key] != "":
			env[envName[v.Key]] = string(pt)
		default:
			env[v.Key] = string(pt)
		}
		fmt.Fprintf(h, "%s\x00%x\x00", v.Key, v.Sealed.Ciphertext)
	}
	rel.Env, rel.Files = env, files
	return rel, hex.EncodeToString(h.Sum(nil))[:16], nil
}

// releaseConfig is what a release got from its environment's configs, sealed into its deployment.
type releaseConfig struct {
	Env   map[string]string `json:"env,omitempty"`
	Files map[string][]byte `json:"files,omitempty"`
}

func (d *Deploys) sealConfig(deploymentID string, rel dataplane.Release) (*secretbox.Sealed, error) {
	plain, err := json.Marshal(releaseConfig{Env: rel.Env, Files: rel.Files})
	if err != nil {
		return nil, err
	}
	s, err := d.Keyring.Seal(store.DeploymentConfigAAD(deploymentID), plain)
	if err != nil {
		return nil, fmt.Errorf("sealing the configs of deployment %s: %w", deploymentID, err)
	}
	return &s, nil
}

// readinessOf is the descriptor's readiness check; without one, a component that listens is ready once its
// first endpoint's port takes a connection, so traffic never switches to a process that does not listen yet
// (a build from source declares its port but no check). Nil when it declares neither (a task).
func readinessOf(desc descriptor.Descriptor) *descriptor.Probe {
	if desc.Health.Readiness != nil || len(desc.Endpoints) == 0 {
		return desc.Health.Readiness
	}
	return &descriptor.Probe{TCP: &descriptor.TCPProbe{Port: desc.Endpoints[0].Port}, PeriodSeconds: 10, TimeoutSeconds: 1, FailureThreshold: 3}
}
