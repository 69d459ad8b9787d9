package cli

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/slipway-dev/slipway/api"
)

const envUsage = "env list <project> | env set <project>/<environment> [--data-plane docker|kubernetes] [--kubeconfig FILE] " +
	"[--kube-context C] [--in-cluster] [--namespace N] [--ingress-namespace N]... [--deploy-timeout D]"

// runEnv lists a project's environments or changes one's data plane and deploy timeout.
func runEnv(ctx context.Context, r *runner, args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("usage: slipway %s", envUsage)
	}
	switch args[0] {
	case "list":
		return r.listEnvironments(ctx, args[1:])
	case "set":
		return r.setEnvironment(ctx, args[1:])
	default:
		return fmt.Errorf("unknown env command %q: want list or set", args[0])
	}
}

// listEnvironments prints the project's environments in promotion order, with where each deploys to.
func (r *runner) listEnvironments(ctx context.Context, args []string) error {
	fs := r.verbFlags("env list", "env list <project>")
	cf := addClientFlags(fs)
	pos, err := r.parseArgs(fs, args, "<project>")
	if err != nil {
		return err
	}
	c, err := cf.connect()
	if err != nil {
		return err
	}
	var page api.Page[api.Environment]
	if err := c.do(ctx, http.MethodGet, "/api/v1/projects/"+url.PathEscape(pos[0])+"/environments", nil, &page); err != nil {
		return err
	}
	return r.printEnvironments(page.Items)
}

// setEnvironment PATCHes the flags given (and only those) onto the environment and prints it as it is now.
func (r *runner) setEnvironment(ctx context.Context, args []string) error {
	fs := r.verbFlags("env set", "env set <project>/<environment> [flags]")
	cf := addClientFlags(fs)
	var dataPlane, kubeconfig, kubeContext, namespace string
	var inCluster bool
	var ingress stringList
	var timeout time.Duration
	fs.StringVar(&dataPlane, "data-plane", "", "where releases run: docker (the worker's Docker Engine) or kubernetes (admin only)")
	fs.StringVar(&kubeconfig, "kubeconfig", "", "kubeconfig `file` for kubernetes, kept sealed by the server and never shown again; '' deletes the stored one (admin only)")
	fs.StringVar(&kubeContext, "kube-context", "", "kubeconfig context to use (default: its current context)")
	fs.BoolVar(&inCluster, "in-cluster", false, "reach the cluster with the worker's own service account instead of a kubeconfig")
	fs.StringVar(&namespace, "namespace", "", "namespace the releases run in (default: slipway-<project>-<environment>)")
	fs.Var(&ingress, "ingress-namespace", "a `namespace` whose pods may reach the environment's (repeatable; '' clears the list)")
	fs.DurationVar(&timeout, "deploy-timeout", 0, "how long a release may take to get ready, whole seconds up to 1h (0: the worker's --ready-timeout)")
	pos, err := r.parseArgs(fs, args, "<project>/<environment>")
	if err != nil {
		return err
	}
	p, env, ok := strings.Cut(pos[0], "/")
	if !ok || p == "" || env == "" || strings.Contains(env, "/") {
		return fmt.Errorf("%q is not <project>/<environment>", pos[0])
	}
	body, kube := map[string]any{}, map[string]any{}
	var ferr error
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "data-plane":
			body["dataPlane"] = dataPlane
		case "kubeconfig":
			body["kubeconfig"] = ""
			if kubeconfig != "" {
				b, err := os.ReadFile(kubeconfig)
				if err != nil {
					ferr = fmt.Errorf("--kubeconfig: %w", err)
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
			kube["ingressNamespaces"] = ingress.nonEmpty()
		case "deploy-timeout":
			if timeout%time.Second != 0 || timeout < 0 {
				ferr = fmt.Errorf("--deploy-timeout %s: want whole seconds, 0 or more", timeout)
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
		return fmt.Errorf("nothing to set (see: slipway env set -h)")
	}
	c, err := cf.connect()
	if err != nil {
		return err
	}
	var out api.Environment
	if err := c.do(ctx, http.MethodPatch, "/api/v1/projects/"+url.PathEscape(p)+"/environments/"+url.PathEscape(env), body, &out); err != nil {
		return err
	}
	return r.printEnvironments([]api.Environment{out})
}

// printEnvironments writes environments as a table.
func (r *runner) printEnvironments(envs []api.Environment) error {
	tw := tabwriter.NewWriter(r.stdout, 0, 0, 2, ' ', 0)
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
	return tw.Flush()
}

// stringList is a repeatable string flag.
type stringList []string

func (l *stringList) String() string { return strings.Join(*l, ",") }

func (l *stringList) Set(v string) error {
	*l = append(*l, v)
	return nil
}

// nonEmpty returns the values given but empty ones, never nil: "--ingress-namespace ”" clears the list.
func (l stringList) nonEmpty() []string {
	out := []string{}
	for _, v := range l {
		if v != "" {
			out = append(out, v)
		}
	}
	return out
}
