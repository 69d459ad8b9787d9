package cli

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"text/tabwriter"
	"time"

	"github.com/slipway-dev/slipway/api"
)

// deployPoll is how often --wait asks how a deployment is going.
const deployPoll = 500 * time.Millisecond

// runDeploy deploys a build of a component to an environment (also to roll back to an earlier build).
func runDeploy(ctx context.Context, r *runner, args []string) error {
	fs := r.verbFlags("deploy", "deploy <project>/<component> --env E --build B [--wait]")
	cf := addClientFlags(fs)
	var env, build string
	var wait bool
	fs.StringVar(&env, "env", "", "environment to deploy to (required)")
	fs.StringVar(&build, "build", "", "ID of the succeeded build to deploy (required)")
	fs.BoolVar(&wait, "wait", false, "wait until the deployment ends; exit 1 unless it succeeded")
	_, path, c, err := r.componentVerb(fs, args, cf)
	if err != nil {
		return err
	}
	if err := required("--env", env, "--build", build); err != nil {
		return err
	}
	return r.queueDeployment(ctx, c, path, path+"/environments/"+url.PathEscape(env)+"/deploy", api.DeployRequest{Build: build}, wait)
}

// runPromote promotes a component's build to the next environment (or to --to).
func runPromote(ctx context.Context, r *runner, args []string) error {
	fs := r.verbFlags("promote", "promote <project>/<component> [--build B] [--to E] [--wait]")
	cf := addClientFlags(fs)
	var to, build string
	var wait bool
	fs.StringVar(&build, "build", "", "build to promote (default: the release of the environment before the target)")
	fs.StringVar(&to, "to", "", "target environment (default: the next one after where the build runs)")
	fs.BoolVar(&wait, "wait", false, "wait until the deployment ends; exit 1 unless it succeeded")
	_, path, c, err := r.componentVerb(fs, args, cf)
	if err != nil {
		return err
	}
	body := map[string]any{}
	if build != "" {
		body["build"] = build
	}
	if to != "" {
		body["to"] = to
	}
	return r.queueDeployment(ctx, c, path, path+"/promote", body, wait)
}

// queueDeployment posts a deploy or promote request and prints the deployment's ID on stdout; with wait it
// polls the component's deployments until that one ends.
func (r *runner) queueDeployment(ctx context.Context, c *apiClient, component, endpoint string, body any, wait bool) error {
	var d api.Deployment
	if err := c.do(ctx, http.MethodPost, endpoint, body, &d); err != nil {
		return err
	}
	fmt.Fprintln(r.stdout, d.ID)
	fmt.Fprintf(r.stderr, "deployment %s of build %s to %s queued\n", d.ID, d.Build, d.Environment)
	if !wait {
		return nil
	}
	t := time.NewTicker(deployPoll)
	defer t.Stop()
	for {
		var page api.Page[api.EnvironmentDeployments]
		if err := c.do(ctx, http.MethodGet, component+"/deployments", nil, &page); err != nil {
			return err
		}
		for _, e := range page.Items {
			for _, h := range e.History {
				if h.ID != d.ID || (h.Status != api.DeploymentSucceeded && h.Status != api.DeploymentFailed) {
					continue
				}
				if h.Status == api.DeploymentSucceeded {
					fmt.Fprintf(r.stderr, "deployment %s succeeded: %s serves build %s at %s\n", h.ID, h.Environment, h.Build, h.URL)
					return nil
				}
				fmt.Fprintf(r.stderr, "deployment %s failed: %s\n", h.ID, h.Message)
				return exitError{code: 1}
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// runDeployments prints, per environment in promotion order, what runs there and where.
func runDeployments(ctx context.Context, r *runner, args []string) error {
	fs := r.verbFlags("deployments", "deployments <project>/<component>")
	cf := addClientFlags(fs)
	_, path, c, err := r.componentVerb(fs, args, cf)
	if err != nil {
		return err
	}
	var page api.Page[api.EnvironmentDeployments]
	if err := c.do(ctx, http.MethodGet, path+"/deployments", nil, &page); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(r.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ENVIRONMENT\tBUILD\tDIGEST\tURL\tDEPLOYED\tLAST")
	for _, e := range page.Items {
		build, digest, url, at, last := "-", "-", "-", "-", "-"
		if cur := e.Current; cur != nil {
			build, digest, url = cur.Build, shortDigest(cur.Digest), cur.URL
			if cur.DeployedAt != nil {
				at = cur.DeployedAt.Format(time.RFC3339)
			}
		}
		if len(e.History) > 0 {
			last = e.History[0].Status + " " + e.History[0].Build
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", e.Environment, build, digest, url, at, last)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	// What was changed by hand on a cluster, below the table: it is rare and needs reading in full.
	for _, e := range page.Items {
		switch {
		case e.Drift != nil && e.Drift.Detected:
			fmt.Fprintf(r.stdout, "drift in %s: %s\n", e.Environment, e.Drift.Message)
		case e.DriftError != "":
			fmt.Fprintf(r.stdout, "drift in %s not checked: %s\n", e.Environment, e.DriftError)
		}
	}
	return nil
}
