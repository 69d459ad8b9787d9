package cli

import (
	"context"
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

// finished reports whether a build in this status has ended.
func finished(status string) bool {
	return status == api.BuildSucceeded || status == api.BuildFailed || status == api.BuildCancelled
}

// buildDuration is how long b ran (from its start, or its creation when it never started), rounded to the
// second; false while it runs.
func buildDuration(b api.Build) (time.Duration, bool) {
	if b.EndedAt == nil {
		return 0, false
	}
	start := b.CreatedAt
	if b.StartedAt != nil {
		start = *b.StartedAt
	}
	return b.EndedAt.Sub(start).Round(time.Second), true
}

// buildPath is the API path of the build with this ID.
func buildPath(id string) string { return "/api/v1/builds/" + url.PathEscape(id) }

// buildCmd triggers a build. Stdout gets the build's ID alone on a line (then, with --follow, its log); stderr a
// summary and, with --follow, how the build ended. Its subcommands quarantine and unquarantine act on one build
// (a <project>/<component> always has a slash, so it never names one of them).
func (r *runner) buildCmd() *cobra.Command {
	var commit string
	var rebuild, follow bool
	cmd := &cobra.Command{Use: "build <project>/<component> [--commit X] [--rebuild] [--follow]",
		Short: "build a commit (default: the head of the component's branch) and print the build's ID",
		Args:  args("<project>/<component>"), ValidArgsFunction: r.completeComponents}
	cf := addClientFlags(cmd.Flags())
	cmd.Flags().StringVar(&commit, "commit", "", "full or short SHA, branch or tag to build (default: head of the component's branch)")
	cmd.Flags().BoolVar(&rebuild, "rebuild", false, "build the commit again under a new ID even when it has been built")
	cmd.Flags().BoolVarP(&follow, "follow", "f", false, "stream the build's log until the build ends; exit 1 unless it succeeded")
	cmd.RunE = func(cmd *cobra.Command, pos []string) error {
		path, c, err := cf.component(pos[0])
		if err != nil {
			return err
		}
		body := map[string]any{}
		if commit != "" {
			body["commit"] = commit
		}
		if rebuild {
			body["rebuild"] = true
		}
		var out api.BuildAccepted
		if err := c.do(cmd.Context(), http.MethodPost, path+"/builds", body, &out); err != nil {
			return err
		}
		fmt.Fprintln(r.stdout, out.ID)
		state := out.Status
		if out.Existing {
			state = "existing, " + out.Status
		}
		fmt.Fprintf(r.stderr, "build %s of %s at %s (%s)\n", out.ID, pos[0], out.Commit, state)
		if !follow {
			return nil
		}
		return r.followLog(cmd.Context(), c, out.ID, true)
	}
	cmd.AddCommand(r.buildQuarantineCmd(), r.buildUnquarantineCmd())
	return cmd
}

// buildsCmd prints a component's builds, newest first.
func (r *runner) buildsCmd() *cobra.Command {
	var status string
	var limit int
	var all bool
	cmd := &cobra.Command{Use: "builds <project>/<component> [--status S] [--limit N] [--all]", Short: "list a component's builds, newest first",
		Args: args("<project>/<component>"), ValidArgsFunction: r.completeComponents}
	cf := addClientFlags(cmd.Flags())
	cmd.Flags().StringVar(&status, "status", "", "only builds in this status (queued, running, succeeded, failed, cancelled; several comma-separated)")
	cmd.Flags().IntVar(&limit, "limit", 0, "builds per page (default: the server's, 50)")
	cmd.Flags().BoolVar(&all, "all", false, "list every build, page after page")
	output := outputFlag(cmd)
	cmd.RunE = func(cmd *cobra.Command, pos []string) error {
		path, c, err := cf.component(pos[0])
		if err != nil {
			return err
		}
		builds, more, err := listBuilds(cmd.Context(), c, path, status, limit, all)
		if err != nil {
			return err
		}
		if len(builds) == 0 && *output == outputTable {
			fmt.Fprintf(r.stderr, "no builds of %s\n", pos[0])
			return nil
		}
		if err := r.print(*output, builds, func(w io.Writer) { buildTable(w, builds) }); err != nil {
			return err
		}
		if more {
			fmt.Fprintln(r.stderr, "there are more builds: --all lists them all")
		}
		return nil
	}
	return cmd
}

// listBuilds reads a component's builds, newest first: one page of limit (0: the server's), or every page with
// all. more says there are more than were read.
func listBuilds(ctx context.Context, c *apiClient, component, status string, limit int, all bool) (builds []api.Build, more bool, err error) {
	builds = []api.Build{}
	cursor := ""
	for {
		q := url.Values{}
		if limit != 0 {
			q.Set("limit", strconv.Itoa(limit))
		}
		if status != "" {
			q.Set("status", status)
		}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		var page api.Page[api.Build]
		if err := c.do(ctx, http.MethodGet, component+"/builds?"+q.Encode(), nil, &page); err != nil {
			return nil, false, err
		}
		builds = append(builds, page.Items...)
		if cursor = page.Next; cursor == "" {
			return builds, false, nil
		}
		if !all {
			return builds, true, nil
		}
	}
}

// buildTable writes builds as a table.
func buildTable(tw io.Writer, builds []api.Build) {
	fmt.Fprintln(tw, "ID\tSTATUS\tCOMMIT\tDIGEST\tSCAN\tCREATED\tDURATION")
	for _, b := range builds {
		d := "-"
		if v, ok := buildDuration(b); ok {
			d = v.String()
		}
		summary := "-"
		if b.Scan != nil {
			summary = b.Scan.String()
		}
		status := b.Status
		if b.SupersededBy != "" {
			status += " (rebuilt: " + b.SupersededBy + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", b.ID, status, shorten(b.Commit, 12), shortDigest(b.Digest),
			summary, b.CreatedAt.Format(time.RFC3339), d)
	}
}

// shorten returns s cut to n bytes, or "-" when it is empty.
func shorten(s string, n int) string {
	if s == "" {
		return "-"
	}
	return s[:min(len(s), n)]
}

// shortDigest returns "sha256:" and the first 12 hex digits of a digest, or "-" when there is none yet.
func shortDigest(d string) string {
	algo, hex, ok := strings.Cut(d, ":")
	if !ok {
		return shorten(d, 12)
	}
	return algo + ":" + shorten(hex, 12)
}

// cancelCmd asks for a build to be cancelled; it becomes cancelled once its workflow has stopped its work.
func (r *runner) cancelCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "cancel <build-id>", Short: "cancel a build", Args: args("<build-id>"), ValidArgsFunction: r.completeBuildIDs}
	cf := addClientFlags(cmd.Flags())
	cmd.RunE = func(cmd *cobra.Command, pos []string) error {
		c, err := cf.connect()
		if err != nil {
			return err
		}
		var out api.BuildCancellation
		if err := c.do(cmd.Context(), http.MethodPost, buildPath(pos[0])+"/cancel", nil, &out); err != nil {
			return err
		}
		fmt.Fprintf(r.stdout, "cancel of build %s requested (it was %s; it becomes cancelled when its work has stopped)\n", out.ID, out.Status)
		return nil
	}
	return cmd
}
