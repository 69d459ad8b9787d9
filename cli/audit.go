package cli

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/slipway-dev/slipway/api"
)

// auditPath is the API path of the audit log.
const auditPath = "/api/v1/audit"

// auditCmd prints the audit log, newest first, or with --jsonl exports every matching entry as JSON lines.
func (r *runner) auditCmd() *cobra.Command {
	var project, component, env, actor, action, target, since, until string
	var limit int
	var all, jsonl bool
	cmd := &cobra.Command{Use: "audit [--project P] [--component C] [--env E] [--actor A] [--action X] [--target T] [--since T] [--until T] [--limit N] [--all] [--jsonl]",
		Short: "the audit log: who deployed, promoted, approved, stopped or changed what, where, why and how it went; newest first",
		Args:  args()}
	cf := addClientFlags(cmd.Flags())
	fs := cmd.Flags()
	fs.StringVar(&project, "project", "", "only entries about this project")
	fs.StringVar(&component, "component", "", "only entries about this component")
	fs.StringVar(&env, "env", "", "only entries about this environment")
	fs.StringVar(&actor, "actor", "", `only what this token did ("slipway": what slipway did by itself)`)
	fs.StringVar(&action, "action", "", "only this action: "+strings.Join(auditActions, ", "))
	fs.StringVar(&target, "target", "", "only entries about this build, deployment, promotion request, config key or token")
	fs.StringVar(&since, "since", "", "only entries from this time on: RFC 3339 (2026-12-01T00:00:00Z) or a duration back from now (24h)")
	fs.StringVar(&until, "until", "", "only entries before this time: RFC 3339 or a duration back from now")
	fs.IntVar(&limit, "limit", 0, "entries per page, 1 to 1000 (default: the server's)")
	fs.BoolVar(&all, "all", false, "list every matching entry, page after page")
	fs.BoolVar(&jsonl, "jsonl", false, "export every matching entry to stdout as JSON lines (one entry a line, newest first), as it arrives")
	_ = cmd.RegisterFlagCompletionFunc("action", cobra.FixedCompletions(auditActions, noFiles))
	output := outputFlag(cmd)
	cmd.MarkFlagsMutuallyExclusive("jsonl", "output")
	cmd.MarkFlagsMutuallyExclusive("jsonl", "limit")
	cmd.MarkFlagsMutuallyExclusive("jsonl", "all")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		q := url.Values{}
		for k, v := range map[string]string{"project": project, "component": component, "environment": env, "actor": actor,
			"action": action, "target": target} {
			if v != "" {
				q.Set(k, v)
			}
		}
		for name, v := range map[string]string{"since": since, "until": until} {
			if v == "" {
				continue
			}
			t, err := r.timeArg(v)
			if err != nil {
				return usagef("--%s %q: %v", name, v, err)
			}
			q.Set(name, t.UTC().Format(time.RFC3339))
		}
		if limit != 0 {
			q.Set("limit", strconv.Itoa(limit))
		}
		c, err := cf.connect()
		if err != nil {
			return err
		}
		ctx := cmd.Context()
		if jsonl {
			q.Set("format", "jsonl")
			body, err := c.stream(ctx, auditPath+"?"+q.Encode())
			if err != nil {
				return err
			}
			defer body.Close()
			if _, err := io.Copy(r.stdout, body); err != nil {
				return fmt.Errorf("reading the audit log: %w", err)
			}
			return nil
		}
		entries := []api.AuditEntry{}
		more := false
		for {
			var page api.AuditPage
			path := auditPath
			if len(q) > 0 {
				path += "?" + q.Encode()
			}
			if err := c.do(ctx, http.MethodGet, path, nil, &page); err != nil {
				return err
			}
			entries = append(entries, page.Entries...)
			if page.Next == "" {
				break
			}
			if !all {
				more = true
				break
			}
			q.Set("cursor", page.Next)
		}
		if len(entries) == 0 && *output == outputTable {
			fmt.Fprintln(r.stderr, "no audit entries match")
			return nil
		}
		if err := r.print(*output, entries, func(w io.Writer) { auditTable(w, entries) }); err != nil {
			return err
		}
		if more {
			fmt.Fprintln(r.stderr, "there are older entries: --all lists them all, --jsonl exports them")
		}
		return nil
	}
	return cmd
}

// auditActions are the actions an audit entry records.
var auditActions = []string{api.AuditDeploy, api.AuditPromote, api.AuditApprove, api.AuditReject, api.AuditCancel, api.AuditBreakGlass,
	api.AuditQuarantine, api.AuditUnquarantine, api.AuditStop, api.AuditStart, api.AuditPromotionEnd, api.AuditConfigSet,
	api.AuditConfigDelete, api.AuditTokenCreate, api.AuditTokenDelete, api.AuditEnvironmentSet, api.AuditRollBack, api.AuditHold,
	api.AuditReleaseHold, api.AuditNotificationSet, api.AuditNotificationDelete}

// timeArg reads a time flag: RFC 3339, or a duration back from now.
func (r *runner) timeArg(v string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return time.Time{}, fmt.Errorf("want an RFC 3339 time such as 2026-12-01T00:00:00Z, or a duration back from now such as 24h")
	}
	return r.clock().Add(-d), nil
}

// auditTable writes audit entries as a table, in the order given (the API's: newest first).
func auditTable(w io.Writer, entries []api.AuditEntry) {
	fmt.Fprintln(w, "TIME\tACTOR\tACTION\tWHERE\tTARGET\tREASON\tRESULT")
	dash := func(s string) string {
		if s == "" {
			return "-"
		}
		return s
	}
	for _, e := range entries {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.At.UTC().Format(time.RFC3339), e.Actor, e.Action, auditWhere(e),
			dash(e.Target), dash(e.Reason), dash(e.Result))
	}
}

// auditWhere is where an entry happened as <project>/<component>/<environment>: trailing parts not known are
// left off, a middle one is "-" ("shop/-/production"); "-" when none is.
func auditWhere(e api.AuditEntry) string {
	parts := []string{e.Project, e.Component, e.Environment}
	for len(parts) > 0 && parts[len(parts)-1] == "" {
		parts = parts[:len(parts)-1]
	}
	if len(parts) == 0 {
		return "-"
	}
	for i, p := range parts {
		if p == "" {
			parts[i] = "-"
		}
	}
	return strings.Join(parts, "/")
}
