package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/slipway-dev/slipway/api"
)

// deployPoll is how often --wait asks how a deployment or a promotion request is going.
const deployPoll = 500 * time.Millisecond

// defaultWaitTimeout is how long --wait waits at most unless --timeout says otherwise.
const defaultWaitTimeout = time.Hour

// waitFlags are --wait and --timeout of the verbs that queue a release.
type waitFlags struct {
	wait    bool
	timeout time.Duration
}

func addWaitFlags(fs *pflag.FlagSet) *waitFlags {
	w := &waitFlags{}
	fs.BoolVar(&w.wait, "wait", false, "wait until the deployment ends — a promotion request first waits for its approvals, freeze "+
		"windows or stopped line; exit 1 unless it succeeded")
	fs.DurationVar(&w.timeout, "timeout", defaultWaitTimeout, "with --wait, how long to wait at most; exit 1 when it is up (the request "+
		"or deployment goes on); 0 waits until it ends")
	return w
}

// deployCmd deploys a build of a component to an environment (also to roll back to an earlier build). Into an
// environment with release rules the API makes a promotion request of it, which may wait for approvals.
func (r *runner) deployCmd() *cobra.Command {
	var env, build string
	cmd := &cobra.Command{Use: "deploy <project>/<component> --env E --build B [--wait [--timeout D]]",
		Short: "deploy (or roll back to) a succeeded build in an environment; into one with release rules it is a promotion request",
		Args:  args("<project>/<component>"), ValidArgsFunction: r.completeComponents}
	cf := addClientFlags(cmd.Flags())
	cmd.Flags().StringVar(&env, "env", "", "environment to deploy to (required)")
	cmd.Flags().StringVar(&build, "build", "", "ID of the succeeded build to deploy (required)")
	wf := addWaitFlags(cmd.Flags())
	output := outputFlag(cmd)
	cmd.Flag("output").Usage = "what stdout gets: table (the deployment's or request's ID alone), json, yaml or template=TEMPLATE (the API's answer)"
	_ = cmd.MarkFlagRequired("env")
	_ = cmd.MarkFlagRequired("build")
	_ = cmd.RegisterFlagCompletionFunc("env", r.completeEnvFlag)
	_ = cmd.RegisterFlagCompletionFunc("build", r.completeBuildFlag)
	cmd.RunE = func(cmd *cobra.Command, pos []string) error {
		path, c, err := cf.component(pos[0])
		if err != nil {
			return err
		}
		return r.queueRelease(cmd.Context(), c, path, path+"/environments/"+escape(env)+"/deploy", api.DeployRequest{Build: build}, wf, *output)
	}
	return cmd
}

// promoteCmd asks for a component's build to be promoted to the next environment (or to --to): the API answers
// with a promotion request, which waits for what the target's release rules ask, then deploys.
func (r *runner) promoteCmd() *cobra.Command {
	var to, build string
	var dryRun bool
	cmd := &cobra.Command{Use: "promote <project>/<component> [--build B] [--to E] [--wait [--timeout D] | --dry-run]",
		Short: "request the promotion of a build, by digest, to the next environment (--dry-run: show what it would change)",
		Args:  args("<project>/<component>"), ValidArgsFunction: r.completeComponents}
	cf := addClientFlags(cmd.Flags())
	cmd.Flags().StringVar(&build, "build", "", "build to promote (default: the release of the environment before the target)")
	cmd.Flags().StringVar(&to, "to", "", "target environment (default: the next one after where the build runs)")
	wf := addWaitFlags(cmd.Flags())
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "record nothing: print what the promotion would change (commits, files, config and "+
		"secret keys — keys only) and whether it would need approvals")
	output := outputFlag(cmd)
	cmd.Flag("output").Usage = "what stdout gets: table (the request's ID alone; with --dry-run the diff), json, yaml or " +
		"template=TEMPLATE (the API's answer)"
	cmd.MarkFlagsMutuallyExclusive("dry-run", "wait")
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
		if dryRun {
			return r.promoteDryRun(cmd.Context(), c, path+"/promote", body, *output)
		}
		return r.queueRelease(cmd.Context(), c, path, path+"/promote", body, wf, *output)
	}
	return cmd
}

// release is the answer of a deploy or promote: a deployment queued at once, or a promotion request.
type release struct {
	deployment *api.Deployment
	promotion  *api.Promotion
}

// decodeRelease reads a deploy's or promote's answer: a promotion request has a requester (and an ID "pr-…"),
// a deployment none.
func decodeRelease(raw json.RawMessage) (release, error) {
	var probe struct {
		ID        string  `json:"id"`
		Requester *string `json:"requester"`
	}
	if err := json.Unmarshal(raw, &probe); err != nil {
		return release{}, fmt.Errorf("decoding the answer: %w", err)
	}
	if probe.Requester != nil || strings.HasPrefix(probe.ID, promotionIDPrefix) {
		var p api.Promotion
		if err := json.Unmarshal(raw, &p); err != nil {
			return release{}, fmt.Errorf("decoding the promotion request: %w", err)
		}
		return release{promotion: &p}, nil
	}
	var d api.Deployment
	if err := json.Unmarshal(raw, &d); err != nil {
		return release{}, fmt.Errorf("decoding the deployment: %w", err)
	}
	return release{deployment: &d}, nil
}

// queueRelease posts a deploy or promote request and prints the ID of the deployment or promotion request the
// API answers with on stdout (with output json, yaml or a template: the answer), what it is on stderr; with
// wf.wait it waits until the deployment ends.
func (r *runner) queueRelease(ctx context.Context, c *apiClient, component, endpoint string, body any, wf *waitFlags, output string) error {
	var raw json.RawMessage
	if err := c.do(ctx, http.MethodPost, endpoint, body, &raw); err != nil {
		return err
	}
	rel, err := decodeRelease(raw)
	if err != nil {
		return err
	}
	id := ""
	if rel.promotion != nil {
		id = rel.promotion.ID
	} else {
		id = rel.deployment.ID
	}
	if err := r.print(output, raw, func(w io.Writer) { fmt.Fprintln(w, id) }); err != nil {
		return err
	}
	if p := rel.promotion; p != nil {
		fmt.Fprintln(r.stderr, requestSummary(*p))
	} else {
		d := rel.deployment
		fmt.Fprintf(r.stderr, "deployment %s of build %s to %s queued\n", d.ID, d.Build, d.Environment)
		if d.Message != "" {
			fmt.Fprintln(r.stderr, d.Message)
		}
	}
	if !wf.wait {
		return nil
	}
	w := &waiter{r: r, c: c, component: component}
	return r.await(ctx, wf, w, func(ctx context.Context) error {
		if rel.promotion != nil {
			return w.promotion(ctx, *rel.promotion)
		}
		return w.deployment(ctx, rel.deployment.ID)
	})
}

// await runs wait (of w) within wf's timeout; when the time is up it says so, with what w last heard, and
// exits 1: what it waited for goes on.
func (r *runner) await(ctx context.Context, wf *waitFlags, w *waiter, wait func(context.Context) error) error {
	wctx, cancel := ctx, context.CancelFunc(func() {})
	if wf.timeout > 0 {
		wctx, cancel = context.WithTimeout(ctx, wf.timeout)
	}
	defer cancel()
	err := wait(wctx)
	if err != nil && ctx.Err() == nil && errors.Is(wctx.Err(), context.DeadlineExceeded) {
		fmt.Fprintf(r.stderr, "gave up waiting after %s: %s (it goes on)\n", wf.timeout, w.state)
		return exitError{code: 1}
	}
	return err
}

// waiter waits for a deployment or a promotion request to end, saying on stderr how it goes.
type waiter struct {
	r         *runner
	c         *apiClient
	component string
	// state is what was last heard, for the message when the time is up.
	state string
}

// pause waits one poll interval, or until ctx ends.
func (w *waiter) pause(ctx context.Context) error {
	every := deployPoll
	if w.r.backoff > 0 {
		every = w.r.backoff
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(every):
		return nil
	}
}

// deployment polls the component's deployments until deployment id ends; exitError 1 unless it succeeded.
func (w *waiter) deployment(ctx context.Context, id string) error {
	w.state = "deployment " + id + " has not ended"
	for {
		var page api.Page[api.EnvironmentDeployments]
		if err := w.c.do(ctx, http.MethodGet, w.component+"/deployments", nil, &page); err != nil {
			return err
		}
		for _, e := range page.Items {
			for _, h := range e.History {
				if h.ID != id {
					continue
				}
				w.state = "deployment " + id + " is " + h.Status
				if h.Status == api.DeploymentSucceeded {
					fmt.Fprintln(w.r.stderr, deployedLine(h))
					return nil
				}
				if h.Status == api.DeploymentFailed || h.Status == api.DeploymentRolledBack {
					fmt.Fprintf(w.r.stderr, "deployment %s %s: %s\n", h.ID, h.Status, h.Message)
					return exitError{code: 1}
				}
			}
		}
		if err := w.pause(ctx); err != nil {
			return err
		}
	}
}

// releaseHoldCmd releases the hold a deploy by hand of an older build put on auto-promotion into an environment.
func (r *runner) releaseHoldCmd() *cobra.Command {
	var env string
	cmd := &cobra.Command{Use: "release-hold <project>/<component> --env E",
		Short: "let builds be promoted by themselves into an environment again, after a deploy by hand of an older build held it",
		Args:  args("<project>/<component>"), ValidArgsFunction: r.completeComponents}
	cf := addClientFlags(cmd.Flags())
	cmd.Flags().StringVar(&env, "env", "", "environment whose auto-promotion is held (required)")
	_ = cmd.MarkFlagRequired("env")
	_ = cmd.RegisterFlagCompletionFunc("env", r.completeEnvFlag)
	cmd.RunE = func(cmd *cobra.Command, pos []string) error {
		path, c, err := cf.component(pos[0])
		if err != nil {
			return err
		}
		if err := c.do(cmd.Context(), http.MethodDelete, path+"/environments/"+escape(env)+"/hold", nil, nil); err != nil {
			return err
		}
		fmt.Fprintf(r.stderr, "auto-promotion of %s into %s goes on\n", pos[0], env)
		return nil
	}
	return cmd
}

// deployedLine says where a succeeded deployment serves.
func deployedLine(d api.Deployment) string {
	where := "at " + d.URL
	if d.URL == "" {
		where = "inside the environment only (no public endpoint)"
	}
	return fmt.Sprintf("deployment %s succeeded: %s serves build %s %s", d.ID, d.Environment, d.Build, where)
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
			if v := e.History[0].Verification; v != "" {
				last += " (verification " + v + ")"
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", e.Environment, build, digest, url, at, last)
	}
	// What was changed by hand on a cluster, below the table (a line without tabs ends its columns): it is rare
	// and needs reading in full.
	for _, e := range items {
		if h := e.Hold; h != nil {
			fmt.Fprintf(tw, "auto-promotion into %s is held since %s: %s (slipway release-hold … --env %s)\n", e.Environment,
				h.At.Format(time.RFC3339), h.Reason, e.Environment)
		}
		if len(e.History) > 0 && e.History[0].Status == api.DeploymentRolledBack {
			fmt.Fprintf(tw, "%s: %s\n", e.Environment, e.History[0].Message)
		}
		switch {
		case e.Drift != nil && e.Drift.Detected:
			fmt.Fprintf(tw, "drift in %s: %s\n", e.Environment, e.Drift.Message)
		case e.DriftError != "":
			fmt.Fprintf(tw, "drift in %s not checked: %s\n", e.Environment, e.DriftError)
		}
	}
}
