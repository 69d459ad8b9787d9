package cli

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
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
	rules := addReleaseRuleFlags(cmd)
	output := outputFlag(cmd)
	cmd.RunE = func(cmd *cobra.Command, pos []string) error {
		p, env, err := splitPair(pos[0], "<project>/<environment>")
		if err != nil {
			return err
		}
		body, kube := map[string]any{}, map[string]any{}
		var ferr error
		fs.Visit(func(f *pflag.Flag) {
			if err := rules.set(body, f.Name); err != nil {
				ferr = err
			}
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
		if len(body) == 0 && !rules.approvalChanged(fs) && !rules.automationChanged(fs) {
			return usagef("nothing to set")
		}
		c, err := cf.connect()
		if err != nil {
			return err
		}
		if rules.approvalChanged(fs) || rules.automationChanged(fs) {
			// The API replaces the whole approval rule, promotion policy and verification: start from the
			// environment's.
			cur, err := currentEnvironment(cmd.Context(), c, p, env)
			if err != nil {
				return err
			}
			if rules.approvalChanged(fs) {
				body["approval"] = rules.approval(fs, approvalOf(cur))
			}
			if err := rules.automation(fs, cur, body); err != nil {
				return err
			}
		}
		var out api.Environment
		if err := c.do(cmd.Context(), http.MethodPatch, projectPath(p)+"/environments/"+escape(env), body, &out); err != nil {
			return err
		}
		return r.print(*output, out, func(w io.Writer) { environmentTable(w, []api.Environment{out}) })
	}
	return cmd
}

// environmentTable writes environments as a table, then their freeze windows and stopped lines below it.
func environmentTable(tw io.Writer, envs []api.Environment) {
	fmt.Fprintln(tw, "ENVIRONMENT\tPRODUCTION\tREPLICAS\tDATA PLANE\tCLUSTER\tNAMESPACE\tDEPLOY TIMEOUT\tAPPROVAL\tFREEZE")
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
		approval := "no"
		if e.ApprovalRequired {
			approval = approvalShort(e.Approval)
		}
		var holds []string
		if n := len(e.FreezeWindows); n > 0 {
			holds = append(holds, fmt.Sprintf("%d window(s), %s", n, freezeMode(e.FreezeMode)))
		}
		if e.Stopped != nil {
			holds = append(holds, "stopped")
		}
		freeze := "-"
		if len(holds) > 0 {
			freeze = strings.Join(holds, "; ")
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\n", e.Name, yesNo(e.Production), replicas, e.DataPlane, cluster, namespace,
			timeout, approval, freeze)
	}
	// The windows and stops in full, below the table (a line without tabs ends its columns).
	for _, e := range envs {
		if len(e.FreezeWindows) > 0 {
			fmt.Fprintf(tw, "freeze windows of %s (in one: %s): %s\n", e.Name, freezeMode(e.FreezeMode), freezeList(e.FreezeWindows))
		}
		if e.Stopped != nil {
			fmt.Fprintf(tw, "the line of %s is %s\n", e.Name, stopLine(*e.Stopped))
		}
		if p := e.Promotion; p != nil && p.Policy == api.PromotionAuto {
			fmt.Fprintf(tw, "builds are promoted into %s by themselves, %s after serving verified in the environment before\n", e.Name,
				time.Duration(p.SoakSeconds)*time.Second)
		}
		if v := e.Verification; v != nil && len(v.HTTP) > 0 {
			checks := make([]string, len(v.HTTP))
			for i, c := range v.HTTP {
				checks[i] = "GET " + cmp.Or(c.Path, "/")
				if c.BodyContains != "" {
					checks[i] += fmt.Sprintf(" containing %q", c.BodyContains)
				}
			}
			window := time.Duration(cmp.Or(v.WindowSeconds, 60)) * time.Second
			fmt.Fprintf(tw, "releases in %s are verified for %s (else rolled back): %s\n", e.Name, window, strings.Join(checks, "; "))
		}
	}
}

// approvalShort is an approval rule as the environments table shows it: "1 from admin".
func approvalShort(a *api.Approval) string {
	n, who := 1, "admin"
	if a != nil {
		n = max(a.MinApprovals, 1)
		if len(a.Approvers) > 0 {
			who = strings.Join(a.Approvers, ",")
		}
	}
	return fmt.Sprintf("%d from %s", n, who)
}

// releaseRuleFlags are env set's flags for an environment's release rules.
type releaseRuleFlags struct {
	required           bool
	minApprovals       int
	approvers, freezes []string
	expiry             time.Duration
	freezeMode, stop   string
	noFreeze, start    bool
	// promotion policy and verification
	policy       string
	soak, window time.Duration
	checks       []string
	noVerify     bool
}

func addReleaseRuleFlags(cmd *cobra.Command) *releaseRuleFlags {
	f := &releaseRuleFlags{}
	fs := cmd.Flags()
	fs.BoolVar(&f.required, "approval-required", false, "whether promotions and deploys into the environment wait for approvals: "+
		"--approval-required=true or =false (default: in production only); the approval flags not given stay as they are (admin only)")
	fs.IntVar(&f.minApprovals, "min-approvals", 0, "how many distinct approvers a request needs, up to 10 (0: one)")
	fs.StringSliceVar(&f.approvers, "approvers", nil, "who may approve: roles (admin, developer) or token names, comma-separated ('': the admin role)")
	fs.DurationVar(&f.expiry, "approval-expiry", 0, "how long a request waits for approvals before it expires, whole seconds (0: 7 days)")
	fs.StringVar(&f.freezeMode, "freeze-mode", "", "what a request in a freeze window or a stopped line does: wait (until it ends) or refuse (admin only)")
	fs.StringArrayVar(&f.freezes, "freeze", nil, "a freeze window, repeatable; those given replace the environment's (admin only): "+
		"'NAME;CRON;DURATION[;TZ]' recurring — CRON five fields of each start, DURATION such as 62h, TZ an IANA zone (default UTC), "+
		"e.g. 'weekend;0 18 * * 5;62h;Europe/Berlin' — or 'NAME;START;END' once, both RFC 3339")
	fs.BoolVar(&f.noFreeze, "no-freeze", false, "remove every freeze window (admin only)")
	fs.StringVar(&f.stop, "stop", "", "stop the environment's line, saying why: nothing is promoted or deployed into it until --start")
	fs.BoolVar(&f.start, "start", false, "start the environment's stopped line again; waiting requests go on (admin only)")
	fs.StringVar(&f.policy, "promotion", "", "how builds get here from the environment before: manual (a person promotes) or auto "+
		"(promoted by themselves once serving verified there for --soak; approvals and windows still apply) (admin only)")
	fs.DurationVar(&f.soak, "soak", 0, "with --promotion auto: how long a build serves verified in the environment before first, whole seconds (0: at once)")
	fs.StringArrayVar(&f.checks, "verify", nil, "an HTTP check of each new release once it serves, repeatable; those given replace the environment's: "+
		"'PATH[;TEXT]' — GET PATH answers 2xx (and its body contains TEXT) 3 times in a row, tried every 5 s; a release that fails is "+
		"rolled back (admin only)")
	fs.DurationVar(&f.window, "verify-window", 0, "how long the checks are tried, whole seconds up to 1h (0: 1m)")
	fs.BoolVar(&f.noVerify, "no-verify", false, "verify nothing (admin only)")
	_ = cmd.RegisterFlagCompletionFunc("freeze-mode", cobra.FixedCompletions([]string{api.FreezeWait, api.FreezeRefuse}, noFiles))
	_ = cmd.RegisterFlagCompletionFunc("promotion", cobra.FixedCompletions([]string{api.PromotionManual, api.PromotionAuto}, noFiles))
	cmd.MarkFlagsMutuallyExclusive("freeze", "no-freeze")
	cmd.MarkFlagsMutuallyExclusive("stop", "start")
	cmd.MarkFlagsMutuallyExclusive("verify", "no-verify")
	cmd.MarkFlagsMutuallyExclusive("verify-window", "no-verify")
	return f
}

// automationFlags are the flags that change the promotion policy or the verification, which the API replaces
// whole: the flags not given keep what the environment has.
var automationFlags = []string{"promotion", "soak", "verify", "verify-window", "no-verify"}

// automationChanged says a promotion policy or verification flag was given.
func (f *releaseRuleFlags) automationChanged(fs *pflag.FlagSet) bool {
	return slices.ContainsFunc(automationFlags, func(name string) bool { return fs.Changed(name) })
}

// automation puts the promotion policy and verification of env, with the flags given applied, into body.
func (f *releaseRuleFlags) automation(fs *pflag.FlagSet, env api.Environment, body map[string]any) error {
	for name, d := range map[string]time.Duration{"soak": f.soak, "verify-window": f.window} {
		if fs.Changed(name) && (d%time.Second != 0 || d < 0) {
			return usagef("--%s %s: want whole seconds, 0 or more", name, d)
		}
	}
	if fs.Changed("promotion") || fs.Changed("soak") {
		p := api.PromotionPolicyUpdate{}
		if env.Promotion != nil {
			p = api.PromotionPolicyUpdate(*env.Promotion)
		}
		if fs.Changed("promotion") {
			if f.policy != api.PromotionManual && f.policy != api.PromotionAuto {
				return usagef("--promotion %q: want %s or %s", f.policy, api.PromotionManual, api.PromotionAuto)
			}
			p.Policy = f.policy
		}
		if fs.Changed("soak") {
			p.SoakSeconds = int(f.soak / time.Second)
		}
		body["promotion"] = p
	}
	if f.noVerify {
		body["verification"] = api.VerificationUpdate{}
		return nil
	}
	if fs.Changed("verify") || fs.Changed("verify-window") {
		v := api.VerificationUpdate{}
		if env.Verification != nil {
			v = api.VerificationUpdate(*env.Verification)
		}
		if fs.Changed("verify") {
			v.HTTP = make([]api.HTTPCheck, 0, len(f.checks))
			for _, c := range f.checks {
				path, text, _ := strings.Cut(c, ";")
				if !strings.HasPrefix(path, "/") {
					return usagef("--verify %q: want PATH[;TEXT], PATH from /", c)
				}
				v.HTTP = append(v.HTTP, api.HTTPCheck{Path: path, BodyContains: text})
			}
		}
		if fs.Changed("verify-window") {
			v.WindowSeconds = int(f.window / time.Second)
		}
		body["verification"] = v
	}
	return nil
}

// approvalFlags are the flags that change the approval rule.
var approvalFlags = []string{"approval-required", "min-approvals", "approvers", "approval-expiry"}

// approvalChanged says an approval flag was given.
func (f *releaseRuleFlags) approvalChanged(fs *pflag.FlagSet) bool {
	return slices.ContainsFunc(approvalFlags, func(name string) bool { return fs.Changed(name) })
}

// approval is the rule a with the approval flags given applied.
func (f *releaseRuleFlags) approval(fs *pflag.FlagSet, a api.ApprovalUpdate) api.ApprovalUpdate {
	if fs.Changed("approval-required") {
		a.Required = &f.required
	}
	if fs.Changed("min-approvals") {
		a.MinApprovals = f.minApprovals
	}
	if fs.Changed("approvers") {
		a.Approvers = nonEmpty(f.approvers)
	}
	if fs.Changed("approval-expiry") {
		a.ExpirySeconds = int(f.expiry / time.Second)
	}
	return a
}

// set puts what the flag named (when it is a release rule's, but the approval's) sets into a PATCH body.
func (f *releaseRuleFlags) set(body map[string]any, name string) error {
	switch name {
	case "approval-expiry":
		if f.expiry%time.Second != 0 || f.expiry < 0 {
			return usagef("--approval-expiry %s: want whole seconds, 0 or more", f.expiry)
		}
	case "freeze-mode":
		if f.freezeMode != api.FreezeWait && f.freezeMode != api.FreezeRefuse {
			return usagef("--freeze-mode %q: want %s or %s", f.freezeMode, api.FreezeWait, api.FreezeRefuse)
		}
		body["freezeMode"] = f.freezeMode
	case "freeze":
		windows := make([]api.FreezeWindowUpdate, 0, len(f.freezes))
		for _, v := range f.freezes {
			w, err := parseFreeze(v)
			if err != nil {
				return usagef("--freeze %q: %v", v, err)
			}
			windows = append(windows, w)
		}
		body["freezeWindows"] = windows
	case "no-freeze":
		if f.noFreeze {
			body["freezeWindows"] = []api.FreezeWindowUpdate{}
		}
	case "stop":
		if strings.TrimSpace(f.stop) == "" {
			return usagef("--stop needs a reason: say why the line stops")
		}
		body["stopped"], body["stopReason"] = true, f.stop
	case "start":
		if f.start {
			body["stopped"] = false
		}
	}
	return nil
}

// parseFreeze reads a --freeze window: NAME;CRON;DURATION[;TZ] or NAME;START;END.
func parseFreeze(v string) (api.FreezeWindowUpdate, error) {
	parts := strings.Split(v, ";")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	if len(parts) < 3 || len(parts) > 4 {
		return api.FreezeWindowUpdate{}, fmt.Errorf("want NAME;CRON;DURATION[;TZ] or NAME;START;END")
	}
	w := api.FreezeWindowUpdate{Name: parts[0]}
	if start, err := time.Parse(time.RFC3339, parts[1]); err == nil {
		end, err := time.Parse(time.RFC3339, parts[2])
		if err != nil || len(parts) != 3 {
			return w, fmt.Errorf("a one-off window is NAME;START;END, both RFC 3339 times such as 2026-11-27T00:00:00Z")
		}
		w.Start, w.End = &start, &end
		return w, nil
	}
	d, err := time.ParseDuration(parts[2])
	if err != nil || d <= 0 || d%time.Second != 0 {
		return w, fmt.Errorf("DURATION %q: want whole seconds above zero, such as 62h or 90m", parts[2])
	}
	w.Cron, w.DurationSeconds = parts[1], int(d/time.Second)
	if len(parts) == 4 {
		w.TimeZone = parts[3]
	}
	return w, nil
}

// currentEnvironment is environment env of project p as it is now.
func currentEnvironment(ctx context.Context, c *apiClient, p, env string) (api.Environment, error) {
	var page api.Page[api.Environment]
	if err := c.do(ctx, http.MethodGet, projectPath(p)+"/environments", nil, &page); err != nil {
		return api.Environment{}, fmt.Errorf("reading the release rules of %s: %w", env, err)
	}
	i := slices.IndexFunc(page.Items, func(e api.Environment) bool { return e.Name == env })
	if i < 0 {
		return api.Environment{}, fmt.Errorf("environment %q of project %q: not found", env, p)
	}
	return page.Items[i], nil
}

// approvalOf is the approval rule of e ({}: the default).
func approvalOf(e api.Environment) api.ApprovalUpdate {
	if a := e.Approval; a != nil {
		out := api.ApprovalUpdate(*a)
		out.Approvers = slices.Clone(a.Approvers)
		return out
	}
	return api.ApprovalUpdate{}
}
