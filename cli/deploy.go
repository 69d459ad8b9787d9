package cli

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/spf13/cobra"

	"github.com/slipway-dev/slipway/api"
)

// deployPoll is how often --wait asks how a deployment is going.
const deployPoll = 500 * time.Millisecond

// deployCmd deploys a build of a component to an environment (also to roll back to an earlier build).
func (r *runner) deployCmd() *cobra.Command {
	var env, build string
	var wait bool
	cmd := &cobra.Command{Use: "deploy <project>/<component> --env E --build B [--wait]", Short: "deploy (or roll back to) a succeeded build in an environment",
		Args: args("<project>/<component>"), ValidArgsFunction: r.completeComponents}
	cf := addClientFlags(cmd.Flags())
	cmd.Flags().StringVar(&env, "env", "", "environment to deploy to (required)")
	cmd.Flags().StringVar(&build, "build", "", "ID of the succeeded build to deploy (required)")
	cmd.Flags().BoolVar(&wait, "wait", false, "wait until the deployment ends; exit 1 unless it succeeded")
	_ = cmd.MarkFlagRequired("env")
	_ = cmd.MarkFlagRequired("build")
	_ = cmd.RegisterFlagCompletionFunc("env", r.completeEnvFlag)
	_ = cmd.RegisterFlagCompletionFunc("build", r.completeBuildFlag)
	cmd.RunE = func(cmd *cobra.Command, pos []string) error {
		path, c, err := cf.component(pos[0])
		if err != nil {
			return err
		}
		return r.queueDeployment(cmd.Context(), c, path, path+"/environments/"+escape(env)+"/deploy", api.DeployRequest{Build: build}, wait)
	}
	return cmd
}

// promoteCmd promotes a component's build to the next environment (or to --to).
func (r *runner) promoteCmd() *cobra.Command {
	var to, build string
	var wait bool
	cmd := &cobra.Command{Use: "promote <project>/<component> [--build B] [--to E] [--wait]", Short: "promote a build, by digest, to the next environment",
		Args: args("<project>/<component>"), ValidArgsFunction: r.completeComponents}
	cf := addClientFlags(cmd.Flags())
	cmd.Flags().StringVar(&build, "build", "", "build to promote (default: the release of the environment before the target)")
	cmd.Flags().StringVar(&to, "to", "", "target environment (default: the next one after where the build runs)")
	cmd.Flags().BoolVar(&wait, "wait", false, "wait until the deployment ends; exit 1 unless it succeeded")
	_ = cmd.RegisterFlagCompletionFunc("to", r.completeEnvFlag)
	_ = cmd.RegisterFlagCompletionFunc("build", r.completeBuildFlag)
	cmd.RunE = func(cmd *cobra.Command, pos []string) error {
		path, c, err := cf.component(pos[0])
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
		return r.queueDeployment(cmd.Context(), c, path, path+"/promote", body, wait)
	}
	return cmd
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
					where := "at " + h.URL
					if h.URL == "" {
						where = "inside the environment only (no public endpoint)"
					}
					fmt.Fprintf(r.stderr, "deployment %s succeeded: %s serves build %s %s\n", h.ID, h.Environment, h.Build, where)
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

// deploymentsCmd prints, per environment in promotion order, what runs there and where.
func (r *runner) deploymentsCmd() *cobra.Command {
	return readList(r, readVerb[[]api.EnvironmentDeployments]{use: "deployments <project>/<component>",
		short: "what runs where: per environment its build, digest, URL and last result",
		args:  args("<project>/<component>"), complete: r.completeComponents, path: atComponent("/deployments"), table: deploymentTable})
}

// deploymentTable writes what runs where as a table, then any drift below it.
func deploymentTable(tw io.Writer, items []api.EnvironmentDeployments) {
	fmt.Fprintln(tw, "ENVIRONMENT\tBUILD\tDIGEST\tURL\tDEPLOYED\tLAST")
	for _, e := range items {
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
	// What was changed by hand on a cluster, below the table (a line without tabs ends its columns): it is rare
	// and needs reading in full.
	for _, e := range items {
		switch {
		case e.Drift != nil && e.Drift.Detected:
			fmt.Fprintf(tw, "drift in %s: %s\n", e.Environment, e.Drift.Message)
		case e.DriftError != "":
			fmt.Fprintf(tw, "drift in %s not checked: %s\n", e.Environment, e.DriftError)
		}
	}
}
