package cli

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/slipway-dev/slipway/api"
)

// promotionIDPrefix starts the ID of every promotion request.
const promotionIDPrefix = "pr-"

// promotionDryRun is the status of what POST …/promote?dryRun=true answers: the request that would be made,
// and was not.
const promotionDryRun = "dry_run"

// promotionPath is the API path of a promotion request.
func promotionPath(id string) string { return "/api/v1/promotions/" + url.PathEscape(id) }

// approvalsOf is how many approvals p has.
func approvalsOf(p api.Promotion) int {
	n := 0
	for _, d := range p.Decisions {
		if d.Decision == api.DecisionApprove {
			n++
		}
	}
	return n
}

// route says where p goes: "from development to production", or "to production" for a deploy.
func route(p api.Promotion) string {
	if p.From == "" {
		return "to " + p.Environment
	}
	return "from " + p.From + " to " + p.Environment
}

// requestSummary is the line that says what a promotion request is, its status and what it waits for.
func requestSummary(p api.Promotion) string {
	s := fmt.Sprintf("promotion request %s of build %s %s: %s", p.ID, p.Build, route(p), p.Status)
	if w := waitsFor(p); w != "" {
		s += " — " + w
	}
	return s
}

// waitsFor says in words what a request waits for, or how it went: its message, with the approvals counted,
// until when it waits and its deployment.
func waitsFor(p api.Promotion) string {
	var parts []string
	switch p.Status {
	case api.PromotionPendingApproval:
		s := fmt.Sprintf("waits for approvals (%d of %d)", approvalsOf(p), p.MinApprovals)
		if p.ExpiresAt != nil {
			s += " until " + p.ExpiresAt.UTC().Format(time.RFC3339)
		}
		parts = append(parts, s)
	case api.PromotionWaitingWindow:
		if p.WaitingUntil != nil {
			parts = append(parts, "waits for a freeze window to end at "+p.WaitingUntil.UTC().Format(time.RFC3339))
		} else {
			parts = append(parts, "waits for a stopped line to be started")
		}
	}
	if p.Message != "" {
		parts = append(parts, p.Message)
	}
	if p.Status == api.PromotionRejected {
		for _, d := range p.Decisions {
			if d.Decision == api.DecisionReject && d.Comment != "" && !strings.Contains(p.Message, d.Comment) {
				parts = append(parts, fmt.Sprintf("%s said %q", d.Actor, d.Comment))
			}
		}
	}
	if d := p.Deployment; d != nil && (p.Status == api.PromotionDeploying || p.Status == api.PromotionFailed) {
		parts = append(parts, "deployment "+d.ID+" "+d.Status)
	}
	if p.BreakGlass != "" && !api.PromotionEnded(p.Status) {
		parts = append(parts, "glass broken by "+p.BreakGlass)
	}
	return strings.Join(parts, "; ")
}

// promotion polls the request until it ends, or is deploying and its deployment ends; it says on stderr how
// the request goes, and returns exitError 1 unless it succeeded.
func (w *waiter) promotion(ctx context.Context, p api.Promotion) error {
	last := requestSummary(p)
	if p.Status == api.PromotionPendingApproval {
		fmt.Fprintf(w.r.stderr, "waiting for approvals: an approver runs `slipway promotion approve %s`\n", p.ID)
	}
	for {
		w.state = "promotion request " + p.ID + " is " + p.Status
		if s := waitsFor(p); s != "" {
			w.state += " — " + s
		}
		if line := requestSummary(p); line != last {
			fmt.Fprintln(w.r.stderr, line)
			last = line
		}
		switch {
		case p.Status == api.PromotionSucceeded:
			if d := p.Deployment; d != nil && d.Status == api.DeploymentSucceeded {
				fmt.Fprintln(w.r.stderr, deployedLine(*d))
			}
			return nil
		case api.PromotionEnded(p.Status):
			return exitError{code: 1}
		case p.Status == api.PromotionDeploying && p.Deployment != nil:
			return w.deployment(ctx, p.Deployment.ID)
		}
		if err := w.pause(ctx); err != nil {
			return err
		}
		// A fresh value: a field the new answer leaves out (a message, a deadline) is gone.
		var now api.Promotion
		if err := w.c.do(ctx, http.MethodGet, promotionPath(p.ID), nil, &now); err != nil {
			return err
		}
		p = now
	}
}

// promoteDryRun asks the API what a promotion would be, records nothing, and prints its diff and the release
// rules of its target.
func (r *runner) promoteDryRun(ctx context.Context, c *apiClient, endpoint string, body any, output string) error {
	var p api.Promotion
	if err := c.do(ctx, http.MethodPost, endpoint+"?dryRun=true", body, &p); err != nil {
		return err
	}
	if p.Status != promotionDryRun || p.ID != "" {
		// A server that does not know dry runs ignores the query and makes the request.
		undo := "to take it back: slipway promotion cancel " + p.ID
		if p.Status == api.PromotionDeploying || api.PromotionEnded(p.Status) {
			undo = "it can no longer be cancelled"
		}
		fmt.Fprintf(r.stderr, "the API does not know dry runs and made the request: promotion request %s is %s; %s\n", p.ID, p.Status, undo)
		return exitError{code: 1}
	}
	// The target's rules say whether it would wait; a token that may not read them still gets the diff.
	var env *api.Environment
	var envs api.Page[api.Environment]
	if c.do(ctx, http.MethodGet, projectPath(p.Project)+"/environments", nil, &envs) == nil {
		if i := slices.IndexFunc(envs.Items, func(e api.Environment) bool { return e.Name == p.Environment }); i >= 0 {
			env = &envs.Items[i]
		}
	}
	return r.print(output, p, func(w io.Writer) { dryRunTable(w, p, env) })
}

// dryRunTable writes what a promotion would be: where, what it waits for in the target (env, when known), and
// its diff.
func dryRunTable(w io.Writer, p api.Promotion, env *api.Environment) {
	fmt.Fprintf(w, "dry run, nothing recorded: promotion of %s/%s build %s %s\n", p.Project, p.Component, p.Build, route(p))
	fmt.Fprintf(w, "approval:\t%s\n", approvalNeed(p, env))
	if env != nil {
		if st := env.Stopped; st != nil {
			fmt.Fprintf(w, "stopped:\t%s: it waits until the line is started\n", stopLine(*st))
		}
		if len(env.FreezeWindows) > 0 {
			fmt.Fprintf(w, "freeze windows:\t%s (in a window: %s)\n", freezeList(env.FreezeWindows), freezeMode(env.FreezeMode))
		}
		if env.Production {
			fmt.Fprintf(w, "re-scan:\tthe digest is scanned again before it deploys (production)\n")
		}
	}
	if p.Message != "" {
		fmt.Fprintf(w, "message:\t%s\n", p.Message)
	}
	diffTable(w, p.Diff)
}

// approvalNeed says whether a promotion into env would wait for approvals, and whose: from env's rule when
// known, else from the request's MinApprovals.
func approvalNeed(p api.Promotion, env *api.Environment) string {
	if env == nil {
		if p.MinApprovals > 0 {
			return fmt.Sprintf("needed: %d approval(s)", p.MinApprovals)
		}
		return "none needed"
	}
	if !env.ApprovalRequired {
		return "none needed"
	}
	return "needed: " + approvalRule(env.Approval)
}

// approvalRule is an approval rule in words, its defaults spelled out: "2 approval(s) from admin, rel-mgr".
func approvalRule(a *api.Approval) string {
	n, who, expiry := 1, "admin", 7*24*time.Hour
	if a != nil {
		n = max(a.MinApprovals, 1)
		if len(a.Approvers) > 0 {
			who = strings.Join(a.Approvers, ", ")
		}
		if a.ExpirySeconds > 0 {
			expiry = time.Duration(a.ExpirySeconds) * time.Second
		}
	}
	return fmt.Sprintf("%d approval(s) from %s within %s", n, who, expiry)
}

// stopLine says who stopped a line, when and why.
func stopLine(st api.Stop) string {
	s := "stopped"
	if st.Actor != "" {
		s += " by " + st.Actor
	}
	if !st.At.IsZero() {
		s += " at " + st.At.UTC().Format(time.RFC3339)
	}
	return s + ": " + st.Reason
}

// freezeMode is what a freeze mode does, "" spelled out.
func freezeMode(mode string) string {
	if mode == api.FreezeRefuse {
		return "refuse"
	}
	return "wait"
}

// freezeList is freeze windows in words: "weekend (0 18 * * 5 for 62h0m0s, Europe/Berlin), 2026-11-27T00:00:00Z–…".
func freezeList(ws []api.FreezeWindow) string {
	out := make([]string, len(ws))
	for i, fw := range ws {
		name := fw.Name
		if name == "" {
			name = fmt.Sprintf("freeze window %d", i+1)
		}
		if fw.Cron != "" {
			tz := fw.TimeZone
			if tz == "" {
				tz = "UTC"
			}
			out[i] = fmt.Sprintf("%s (%s for %s, %s)", name, fw.Cron, time.Duration(fw.DurationSeconds)*time.Second, tz)
			continue
		}
		var from, to string
		if fw.Start != nil {
			from = fw.Start.UTC().Format(time.RFC3339)
		}
		if fw.End != nil {
			to = fw.End.UTC().Format(time.RFC3339)
		}
		out[i] = fmt.Sprintf("%s (%s to %s)", name, from, to)
	}
	return strings.Join(out, ", ")
}

// diffTable writes what a promotion changes: the builds, the commits (short SHA, title, author), the files and
// the config and secret keys that differ (keys only). Each list is under a heading without tabs, which ends the
// columns above it.
func diffTable(w io.Writer, d *api.PromotionDiff) {
	if d == nil {
		fmt.Fprintln(w, "DIFF: not read")
		return
	}
	from := "nothing serves there"
	if d.FromBuild != "" {
		from = d.FromBuild + " at " + shorten(d.FromCommit, 7)
	}
	fmt.Fprintf(w, "serving now:\t%s\n", from)
	fmt.Fprintf(w, "deploys:\t%s at %s\n", d.ToBuild, shorten(d.ToCommit, 7))
	if d.Error != "" {
		fmt.Fprintf(w, "not read:\t%s\n", d.Error)
	}
	more := ""
	if d.Truncated {
		more = ", more not listed"
	}
	switch {
	case len(d.Commits) == 0:
		fmt.Fprintln(w, "COMMITS: none")
	case d.Rollback:
		fmt.Fprintf(w, "COMMITS TAKEN AWAY (a rollback; %d, newest first%s)\n", len(d.Commits), more)
	default:
		fmt.Fprintf(w, "COMMITS (%d, newest first%s)\n", len(d.Commits), more)
	}
	for _, c := range d.Commits {
		short := c.Short
		if short == "" {
			short = shorten(c.SHA, 7)
		}
		fmt.Fprintf(w, "%s\t%s\t%s\n", short, c.Title, c.Author)
	}
	if len(d.Files) == 0 {
		fmt.Fprintln(w, "FILES: none")
	} else {
		fmt.Fprintf(w, "FILES (%d%s)\n", len(d.Files), more)
	}
	for _, f := range d.Files {
		fmt.Fprintln(w, f)
	}
	if len(d.Configs) == 0 {
		fmt.Fprintln(w, "CONFIG AND SECRET KEYS: none differ")
		return
	}
	fmt.Fprintf(w, "CONFIG AND SECRET KEYS (%d differ; keys only)\n", len(d.Configs))
	for _, k := range d.Configs {
		secret := ""
		if k.Secret {
			secret = "secret"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\n", k.Key, k.Change, secret)
	}
}

// promotionsCmd lists a project's promotion requests, newest first.
func (r *runner) promotionsCmd() *cobra.Command {
	var status, component string
	cmd := readList(r, readVerb[[]api.Promotion]{use: "promotions <project> [--status S] [--component C]",
		short: "list a project's promotion requests (promotions, and deploys into environments with release rules), newest first",
		args:  args("<project>"), complete: r.completeProjects,
		path: func(pos []string) (string, error) {
			q := url.Values{}
			if status != "" {
				q.Set("status", status)
			}
			if component != "" {
				q.Set("component", component)
			}
			p := projectPath(pos[0]) + "/promotions"
			if len(q) > 0 {
				p += "?" + q.Encode()
			}
			return p, nil
		},
		table: func(w io.Writer, ps []api.Promotion) { promotionTable(w, ps, r.clock()) }})
	cmd.Flags().StringVar(&status, "status", "", "only the requests in this status: "+strings.Join(promotionStatuses, ", "))
	cmd.Flags().StringVar(&component, "component", "", "only the requests of this component")
	_ = cmd.RegisterFlagCompletionFunc("status", cobra.FixedCompletions(promotionStatuses, noFiles))
	return cmd
}

// promotionStatuses are the statuses a promotion request can be in, in the order of its life.
var promotionStatuses = []string{api.PromotionPendingApproval, api.PromotionWaitingWindow, api.PromotionQueued, api.PromotionDeploying,
	api.PromotionSucceeded, api.PromotionRejected, api.PromotionExpired, api.PromotionCancelled, api.PromotionFailed}

// promotionTable writes promotion requests as a table, their ages as of now.
func promotionTable(w io.Writer, ps []api.Promotion, now time.Time) {
	fmt.Fprintln(w, "ID\tCOMPONENT\tFROM→TO\tBUILD\tSTATUS\tREQUESTER\tAPPROVALS\tAGE\tMESSAGE")
	for _, p := range ps {
		from := p.From
		if from == "" {
			from = "-"
		}
		approvals := "-"
		if p.MinApprovals > 0 {
			approvals = fmt.Sprintf("%d/%d", approvalsOf(p), p.MinApprovals)
		}
		msg := p.Message
		if msg == "" {
			msg = "-"
		}
		fmt.Fprintf(w, "%s\t%s\t%s→%s\t%s\t%s\t%s\t%s\t%s\t%s\n", p.ID, p.Component, from, p.Environment, shorten(p.Build, 20), p.Status,
			p.Requester, approvals, age(now.Sub(p.CreatedAt)), msg)
	}
}

// age is a duration as a list shows it, in its largest whole unit: "45s", "12m", "5h", "3d".
func age(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", max(int(d/time.Second), 0))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d/time.Hour))
	default:
		return fmt.Sprintf("%dd", int(d/(24*time.Hour)))
	}
}

func (r *runner) promotionCmd() *cobra.Command {
	return group("promotion", "a promotion request: show, approve, reject, cancel, break-glass",
		r.promotionShowCmd(),
		r.promotionDecideCmd("approve", "approve a request that waits for approvals (never your own)", false),
		r.promotionDecideCmd("reject", "reject a request that waits for approvals, saying why (-m); it ends rejected", true),
		r.promotionDecideCmd("cancel", "cancel a request that is not deploying yet (its requester or an admin)", false),
		r.promotionDecideCmd("break-glass", "let a request through the freeze windows and stopped lines in its way, saying why (-m); "+
			"admin only, and it does not approve it", true))
}

func (r *runner) promotionShowCmd() *cobra.Command {
	return readOne(r, readVerb[api.Promotion]{use: "show <id>", short: "show a promotion request: its status, decisions, deployment and diff",
		args: args("<id>"), complete: r.completePromotionIDs(""),
		path:  func(pos []string) (string, error) { return promotionPath(pos[0]), nil },
		table: promotionDetail})
}

// promotionDetail writes one promotion request, all its fields, then its decisions and diff.
func promotionDetail(w io.Writer, p api.Promotion) {
	at := func(t *time.Time) string { return t.UTC().Format(time.RFC3339) }
	fmt.Fprintf(w, "promotion:\t%s\n", p.ID)
	fmt.Fprintf(w, "status:\t%s\n", p.Status)
	fmt.Fprintf(w, "component:\t%s/%s\n", p.Project, p.Component)
	from := p.From
	if from == "" {
		from = "- (a deploy)"
	}
	fmt.Fprintf(w, "from → to:\t%s → %s\n", from, p.Environment)
	fmt.Fprintf(w, "build:\t%s (%s)\n", p.Build, p.Digest)
	fmt.Fprintf(w, "requester:\t%s\n", p.Requester)
	if p.MinApprovals > 0 {
		fmt.Fprintf(w, "approvals:\t%d of %d\n", approvalsOf(p), p.MinApprovals)
	} else {
		fmt.Fprintf(w, "approvals:\tnone needed\n")
	}
	fmt.Fprintf(w, "created:\t%s\n", at(&p.CreatedAt))
	fmt.Fprintf(w, "updated:\t%s\n", at(&p.UpdatedAt))
	if p.ExpiresAt != nil {
		fmt.Fprintf(w, "expires:\t%s\n", at(p.ExpiresAt))
	}
	if p.WaitingUntil != nil {
		fmt.Fprintf(w, "waiting until:\t%s\n", at(p.WaitingUntil))
	}
	if p.BreakGlass != "" {
		fmt.Fprintf(w, "break glass:\t%s\n", p.BreakGlass)
	}
	if p.Message != "" {
		fmt.Fprintf(w, "message:\t%s\n", p.Message)
	}
	if d := p.Deployment; d != nil {
		s := d.ID + " " + d.Status
		if d.URL != "" {
			s += " at " + d.URL
		}
		if d.Message != "" {
			s += ": " + d.Message
		}
		fmt.Fprintf(w, "deployment:\t%s\n", s)
	}
	if p.Rescan != nil {
		fmt.Fprintf(w, "re-scan:\t%s (report: GET %s/scan)\n", p.Rescan.String(), promotionPath(p.ID))
	}
	if len(p.Decisions) == 0 {
		fmt.Fprintln(w, "DECISIONS: none")
	} else {
		fmt.Fprintf(w, "DECISIONS (%d, oldest first)\n", len(p.Decisions))
	}
	for _, d := range p.Decisions {
		comment := "-"
		if d.Comment != "" {
			comment = d.Comment
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", d.At.UTC().Format(time.RFC3339), d.Actor, d.Decision, comment)
	}
	if p.Diff != nil {
		fmt.Fprintln(w, "DIFF")
	}
	diffTable(w, p.Diff)
}

// promotionDecideCmd is `promotion <decision> <id> [-m comment]`: it posts the decision and prints the request as
// it is now. needsComment refuses it without -m before anything is sent.
func (r *runner) promotionDecideCmd(decision, short string, needsComment bool) *cobra.Command {
	var comment string
	use := decision + " <id> [-m COMMENT]"
	status := api.PromotionPendingApproval
	if needsComment {
		use = decision + " <id> -m COMMENT"
	}
	if decision == "cancel" || decision == "break-glass" {
		status = ""
	}
	cmd := &cobra.Command{Use: use, Short: short, Args: args("<id>"), ValidArgsFunction: r.completePromotionIDs(status)}
	cf := addClientFlags(cmd.Flags())
	help := "why, kept with the decision and in the audit log"
	if needsComment {
		help += " (required)"
	}
	cmd.Flags().StringVarP(&comment, "message", "m", "", help)
	var wf *waitFlags
	if decision == "approve" || decision == "break-glass" {
		wf = addWaitFlags(cmd.Flags())
	}
	output := outputFlag(cmd)
	cmd.RunE = func(cmd *cobra.Command, pos []string) error {
		if needsComment && strings.TrimSpace(comment) == "" {
			return usagef("%s needs -m COMMENT saying why", decision)
		}
		c, err := cf.connect()
		if err != nil {
			return err
		}
		var p api.Promotion
		if err := c.do(cmd.Context(), http.MethodPost, promotionPath(pos[0])+"/"+decision, api.PromotionDecision{Comment: comment}, &p); err != nil {
			return err
		}
		if err := r.print(*output, p, func(w io.Writer) { promotionTable(w, []api.Promotion{p}, r.clock()) }); err != nil {
			return err
		}
		if wf == nil || !wf.wait {
			return nil
		}
		w := &waiter{r: r, c: c, component: projectPath(p.Project) + "/components/" + escape(p.Component)}
		return r.await(cmd.Context(), wf, w, func(ctx context.Context) error { return w.promotion(ctx, p) })
	}
	return cmd
}

// completePromotionIDs completes a promotion request's ID: those of every project in this status, or, for "",
// those that have not ended.
func (r *runner) completePromotionIDs(status string) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, noFiles
		}
		c, ok := r.completionClient(cmd)
		if !ok {
			return nil, noFiles
		}
		ctx := cmd.Context()
		q := ""
		if status != "" {
			q = "?status=" + url.QueryEscape(status)
		}
		var out []cobra.Completion
		for _, p := range names(ctx, c, "/api/v1/projects", func(p api.Project) string { return p.Name }) {
			var page api.Page[api.Promotion]
			if c.do(ctx, http.MethodGet, projectPath(p)+"/promotions"+q, nil, &page) != nil {
				continue
			}
			for _, pr := range page.Items {
				if status == "" && api.PromotionEnded(pr.Status) {
					continue
				}
				out = append(out, cobra.CompletionWithDesc(pr.ID, pr.Status+" "+pr.Component+" "+route(pr)))
			}
		}
		return out, noFiles
	}
}
