package cli

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/slipway-dev/slipway/ociregistry"
	"github.com/slipway-dev/slipway/stack"
	"github.com/slipway-dev/slipway/trivydb"
)

// runTrivyDB publishes a Trivy vulnerability DB to a registry. Stdout gets the pushed reference with
// its digest; stderr the --db-repository to scan with.
func runTrivyDB(ctx context.Context, r *runner, args []string) error {
	if len(args) == 0 || args[0] != "push" {
		return fmt.Errorf("usage: slipway trivy-db push <dir> [--registry host:port] [--insecure]")
	}
	fs := r.verbFlags("trivy-db push", "trivy-db push <dir> [--registry host:port] [--insecure]\n\n"+
		"<dir> holds trivy.db and metadata.json (schema 2), as in Trivy's <cache-dir>/db; they are pushed\n"+
		"to <registry>/"+trivydb.DefaultRepository+":"+trivydb.DefaultTag+", where trivy --db-repository finds them.")
	var registry, dataDir string
	var insecure bool
	fs.StringVar(&registry, "registry", "", "registry host:port, credentials from ~/.docker/config.json (default: the registry of <data-dir>/endpoints.json, over plain HTTP, with its push credentials)")
	fs.BoolVar(&insecure, "insecure", false, "the registry speaks plain HTTP")
	fs.StringVar(&dataDir, "data-dir", ".slipway", "data dir of a local slipway dev")
	pos, err := r.parseArgs(fs, args[1:], "<dir>")
	if err != nil {
		return err
	}
	var push []remote.Option
	if registry == "" {
		if registry, err = devRegistry(dataDir); err != nil {
			return err
		}
		// slipway dev's registry serves plain HTTP only, and takes pushes with its push credentials.
		insecure = true
		cred, err := ociregistry.LoadCredentials(filepath.Join(dataDir, stack.RegistryCredentialsFile))
		if err != nil {
			return err
		}
		push = append(push, remote.WithAuthFromKeychain(cred.Keychain(registry)))
	} else {
		push = append(push, remote.WithAuthFromKeychain(authn.DefaultKeychain))
	}
	var opts []name.Option
	if insecure {
		opts = append(opts, name.Insecure)
	}
	ref, err := trivydb.DefaultReference(registry, opts...)
	if err != nil {
		return fmt.Errorf("--registry %q: %w", registry, err)
	}
	digest, err := trivydb.Push(ctx, pos[0], ref, push...)
	if err != nil {
		return err
	}
	fmt.Fprintf(r.stdout, "%s@%s\n", ref, digest)
	hint := ""
	if insecure {
		hint = " --insecure"
	}
	fmt.Fprintf(r.stderr, "pushed the Trivy DB in %s; scan with: trivy image --db-repository %s%s\n", pos[0], ref, hint)
	return nil
}

// devRegistry returns the registry host:port a running slipway dev wrote to <dataDir>/endpoints.json.
func devRegistry(dataDir string) (string, error) {
	e, err := devEndpoints(dataDir, "--registry")
	if err != nil {
		return "", err
	}
	if e.Registry == "" {
		return "", fmt.Errorf("%s names no registry: give --registry", filepath.Join(dataDir, stack.EndpointsFile))
	}
	return e.Registry, nil
}
