package cli

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/spf13/cobra"

	"github.com/slipway-dev/slipway/ociregistry"
	"github.com/slipway-dev/slipway/stack"
	"github.com/slipway-dev/slipway/trivydb"
)

func (r *runner) trivyDBCmd() *cobra.Command {
	var registry, dataDir string
	var insecure bool
	push := &cobra.Command{Use: "push <dir> [--registry host:port] [--insecure]", Short: "publish a Trivy vulnerability database to a registry",
		Long: "<dir> holds trivy.db and metadata.json (schema 2), as in Trivy's <cache-dir>/db; they are pushed\n" +
			"to <registry>/" + trivydb.DefaultRepository + ":" + trivydb.DefaultTag + ", where trivy --db-repository finds them.\n" +
			"Stdout gets the pushed reference with its digest; stderr the --trivy-db-repository to scan with.",
		Args: args("<dir>")}
	push.Flags().StringVar(&registry, "registry", "", "registry host:port, credentials from ~/.docker/config.json (default: the registry of <data-dir>/endpoints.json, over plain HTTP, with its push credentials)")
	push.Flags().BoolVar(&insecure, "insecure", false, "the registry speaks plain HTTP")
	push.Flags().StringVar(&dataDir, "data-dir", ".slipway", "data dir of a local slipway dev")
	push.RunE = func(cmd *cobra.Command, pos []string) error {
		return r.pushTrivyDB(cmd.Context(), pos[0], registry, dataDir, insecure)
	}
	return group("trivy-db", "publish a Trivy vulnerability database for offline scans: push", push)
}

// pushTrivyDB publishes the database in dir to registry, or to slipway dev's when registry is "".
func (r *runner) pushTrivyDB(ctx context.Context, dir, registry, dataDir string, insecure bool) error {
	var err error
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
	digest, err := trivydb.Push(ctx, dir, ref, push...)
	if err != nil {
		return err
	}
	fmt.Fprintf(r.stdout, "%s@%s\n", ref, digest)
	hint := ""
	if insecure {
		hint = " --insecure"
	}
	fmt.Fprintf(r.stderr, "pushed the Trivy DB in %s; scan with: trivy image --db-repository %s%s\n", dir, ref, hint)
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
