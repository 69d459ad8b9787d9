package cli

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/slipway-dev/slipway/api"
)

func (r *runner) envCmd() *cobra.Command {
	return group("env", "a project's environments and where they deploy: list, create, set, order",
		r.envListCmd(), r.envCreateCmd(), r.envSetCmd(), r.envOrderCmd())
}

// envListCmd lists the project's environments in promotion order, with where each deploys to.
func (r *runner) envListCmd() *cobra.Command {
	return readList(r, readVerb[[]api.Environment]{use: "list <project>", short: "list a project's environments in promotion order, with where each deploys",
		args: args("<project>"), complete: r.completeProjects, path: atProject("/environments"), table: environmentTable})
}

// envCreateCmd adds an environment at the end of the promotion order.
func (r *runner) envCreateCmd() *cobra.Command {
	var req api.EnvironmentRequest
	cmd := &cobra.Command{Use: "create <project>/<environment>", Short: "add an environment, last in the promotion order (see: env order)",
		Args: args("<project>/<environment>"), ValidArgsFunction: r.completeProjectSlash}
	cf := addClientFlags(cmd.Flags())
	cmd.Flags().BoolVar(&req.Production, "production", false, "a production environment (admin only)")
	cmd.Flags().IntVar(&req.Replicas, "replicas", 0, "instances of each release (default 1)")
	cmd.Flags().Float64Var(&req.CPUs, "cpus", 0, "CPU limit of each instance (default none)")
	cmd.Flags().Int64Var(&req.MemoryBytes, "memory-bytes", 0, "memory limit of each instance in bytes (default none)")
	output := outputFlag(cmd)
	cmd.RunE = func(cmd *cobra.Command, pos []string) error {
		p, env, err := splitPair(pos[0], "<project>/<environment>")
		if err != nil {
			return err
		}
		c, err := cf.connect()
		if err != nil {
			return err
		}
		req.Name = env
		var out api.Environment
		if err := c.do(cmd.Context(), http.MethodPost, projectPath(p)+"/environments", req, &out); err != nil {
			return err
		}
		return r.print(*output, out, func(w io.Writer) { environmentTable(w, []api.Environment{out}) })
	}
	return cmd
}

// envOrderCmd puts a project's environments in a new promotion order.
func (r *runner) envOrderCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "order <project> <environment>...", Short: "set the promotion order: every environment of the project, once each",
		Args: atLeast("<project>", "<environment>"), ValidArgsFunction: r.completeProjectThenEnvs}
	cf := addClientFlags(cmd.Flags())
	output := outputFlag(cmd)
	cmd.RunE = func(cmd *cobra.Command, pos []string) error {
		c, err := cf.connect()
		if err != nil {
			return err
		}
		var page api.Page[api.Environment]
		if err := c.do(cmd.Context(), http.MethodPut, projectPath(pos[0])+"/environments/order", api.EnvironmentOrder{Order: pos[1:]}, &page); err != nil {
			return err
		}
		return r.print(*output, page.Items, func(w io.Writer) { environmentTable(w, page.Items) })
	}
	return cmd
}

// envSetCmd PATCHes the flags given (and only those) onto the environment and prints it as it is now.
func (r *runner) envSetCmd() *cobra.Command {
	var dataPlane, kubeconfig, kubeContext, namespace string
	var inCluster, production bool
	var ingress []string
	var timeout time.Duration
	var replicas, maxSurge, maxUnavailable int
	var cpus float64
	var memory int64
	cmd := &cobra.Command{Use: "set <project>/<environment> [flags]", Short: "change the settings given (and only those) of an environment",
		Args: args("<project>/<environment>"), ValidArgsFunction: r.completeProjectEnvs}
	cf := addClientFlags(cmd.Flags())
	fs := cmd.Flags()
	fs.BoolVar(&production, "production", false, "whether the environment is production (admin only)")
	fs.IntVar(&replicas, "replicas", 0, "instances of each release (0: one)")
	fs.Float64Var(&cpus, "cpus", 0, "CPU limit of each instance (0: none)")
	fs.Int64Var(&memory, "memory-bytes", 0, "memory limit of each instance in bytes (0: none)")
	fs.StringVar(&dataPlane, "data-plane", "", "where releases run: docker (the worker's Docker Engine) or kubernetes (admin only)")
	fs.StringVar(&kubeconfig, "kubeconfig", "", "kubeconfig `file` for kubernetes, kept sealed by the server and never shown again; '' deletes the stored one (admin only)")
	fs.StringVar(&kubeContext, "kube-context", "", "kubeconfig context to use (default: its current context)")
	fs.BoolVar(&inCluster, "in-cluster", false, "reach the cluster with the worker's own service account instead of a kubeconfig")
	fs.StringVar(&namespace, "namespace", "", "namespace the releases run in (default: slipway-<project>-<environment>)")
	fs.StringArrayVar(&ingress, "ingress-namespace", nil, "a `namespace` whose pods may reach the environment's (repeatable; '' clears the list)")
	fs.IntVar(&maxSurge, "max-surge", 1, "instances a rolling update may add on kubernetes")
	fs.IntVar(&maxUnavailable, "max-unavailable", 0, "instances a rolling update may take down on kubernetes")
	fs.DurationVar(&timeout, "deploy-timeout", 0, "how long a release may take to get ready, whole seconds up to 1h (0: the worker's --ready-timeout)")
	_ = cmd.RegisterFlagCompletionFunc("data-plane", cobra.FixedCompletions([]string{"docker", "kubernetes"}, cobra.ShellCompDirectiveNoFileComp))
	output := outputFlag(cmd)
	cmd.RunE = func(cmd *cobra.Command, pos []string) error {
		p, env, err := splitPair(pos[0], "<project>/<environment>")
		if err != nil {
			return err
		}
		body, kube := map[string]any{}, map[string]any{}
		var ferr error
		fs.Visit(func(f *pflag.Flag) {
			switch f.Name {
			case "production":
				body["production"] = production
			case "replicas":
				body["replicas"] = replicas
			case "cpus":
				body["cpus"] = cpus
			case "memory-bytes":
				body["memoryBytes"] = memory
			case "data-plane":
				body["dataPlane"] = dataPlane
			case "kubeconfig":
				body["kubeconfig"] = ""
				if kubeconfig != "" {
					b, err := os.ReadFile(kubeconfig)
					if err != nil {
						ferr = usagef("--kubeconfig: %v", err)
					}
					body["kubeconfig"] = string(b)
				}
			case "kube-context":
				kube["context"] = kubeContext
			case "in-cluster":
				kube["inCluster"] = inCluster
			case "namespace":
				kube["namespace"] = namespace
			case "ingress-namespace":
				kube["ingressNamespaces"] = nonEmpty(ingress)
			case "max-surge":
				kube["maxSurge"] = maxSurge
			case "max-unavailable":
				kube["maxUnavailable"] = maxUnavailable
			case "deploy-timeout":
				if timeout%time.Second != 0 || timeout < 0 {
					ferr = usagef("--deploy-timeout %s: want whole seconds, 0 or more", timeout)
				}
				body["deployTimeoutSeconds"] = int(timeout / time.Second)
			}
		})
		if ferr != nil {
			return ferr
		}
		if len(kube) > 0 {
			body["kubernetes"] = kube
		}
		if len(body) == 0 {
			return usagef("nothing to set")
		}
		c, err := cf.connect()
		if err != nil {
			return err
		}
		var out api.Environment
		if err := c.do(cmd.Context(), http.MethodPatch, projectPath(p)+"/environments/"+escape(env), body, &out); err != nil {
			return err
		}
		return r.print(*output, out, func(w io.Writer) { environmentTable(w, []api.Environment{out}) })
	}
	return cmd
}

// environmentTable writes environments as a table.
func environmentTable(tw io.Writer, envs []api.Environment) {
	fmt.Fprintln(tw, "ENVIRONMENT\tPRODUCTION\tREPLICAS\tDATA PLANE\tCLUSTER\tNAMESPACE\tDEPLOY TIMEOUT")
	for _, e := range envs {
		cluster, namespace, timeout := "-", "-", "default"
		if k := e.Kubernetes; k != nil {
			switch {
			case k.InCluster:
				cluster = "in-cluster"
			case k.Context != "":
				cluster = "context " + k.Context
			default:
				cluster = "current context"
			}
			if !k.InCluster && !k.HasKubeconfig {
				cluster += " (no kubeconfig)"
			}
			namespace = "(default)"
			if k.Namespace != "" {
				namespace = k.Namespace
			}
		}
		if e.DeployTimeoutSeconds > 0 {
			timeout = (time.Duration(e.DeployTimeoutSeconds) * time.Second).String()
		}
		replicas := max(e.Replicas, 1)
		production := "no"
		if e.Production {
			production = "yes"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\t%s\n", e.Name, production, replicas, e.DataPlane, cluster, namespace, timeout)
	}
}
