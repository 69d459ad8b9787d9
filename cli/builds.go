package cli

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

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

// componentPath turns "<project>/<component>" into the component's API path.
// componentVerb parses a verb whose one argument is <project>/<component> and connects to the API;
// it returns that argument and the component's API path.
func (r *runner) componentVerb(fs *flag.FlagSet, args []string, cf *clientFlags) (arg, path string, c *apiClient, err error) {
	pos, err := r.parseArgs(fs, args, "<project>/<component>")
	if err != nil {
		return "", "", nil, err
	}
	if path, err = componentPath(pos[0]); err != nil {
		return "", "", nil, err
	}
	c, err = cf.connect()
	return pos[0], path, c, err
}

func componentPath(arg string) (string, error) {
	p, c, ok := strings.Cut(arg, "/")
	if !ok || p == "" || c == "" || strings.Contains(c, "/") {
		return "", fmt.Errorf("%q is not <project>/<component>", arg)
	}
	return "/api/v1/projects/" + url.PathEscape(p) + "/components/" + url.PathEscape(c), nil
}

// buildPath is the API path of the build with this ID.
func buildPath(id string) string { return "/api/v1/builds/" + url.PathEscape(id) }

// runBuild triggers a build. Stdout gets the build's ID alone on a line (then, with --follow, its log); stderr
// a summary and, with --follow, how the build ended.
func runBuild(ctx context.Context, r *runner, args []string) error {
	fs := r.verbFlags("build", "build <project>/<component> [--commit X] [--rebuild] [--follow]")
	cf := addClientFlags(fs)
	var commit string
	var rebuild, follow bool
	fs.StringVar(&commit, "commit", "", "full or short SHA, branch or tag to build (default: head of the component's branch)")
	fs.BoolVar(&rebuild, "rebuild", false, "build the commit again under a new ID even when it has been built")
	fs.BoolVar(&follow, "follow", false, "stream the build's log until the build ends; exit 1 unless it succeeded")
	component, path, c, err := r.componentVerb(fs, args, cf)
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
	if err := c.do(ctx, http.MethodPost, path+"/builds", body, &out); err != nil {
		return err
	}
	fmt.Fprintln(r.stdout, out.ID)
	state := out.Status
	if out.Existing {
		state = "existing, " + out.Status
	}
	fmt.Fprintf(r.stderr, "build %s of %s at %s (%s)\n", out.ID, component, out.Commit, state)
	if !follow {
		return nil
	}
	return r.followLog(ctx, c, out.ID, true)
}

// runBuilds prints a component's builds, newest first, as a table.
func runBuilds(ctx context.Context, r *runner, args []string) error {
	fs := r.verbFlags("builds", "builds <project>/<component> [--status S] [--limit N] [--all]")
	cf := addClientFlags(fs)
	var status string
	var limit int
	var all bool
	fs.StringVar(&status, "status", "", "only builds in this status (queued, running, succeeded, failed, cancelled; several comma-separated)")
	fs.IntVar(&limit, "limit", 0, "builds per page (default: the server's, 50)")
	fs.BoolVar(&all, "all", false, "list every build, page after page")
	component, path, c, err := r.componentVerb(fs, args, cf)
	if err != nil {
		return err
	}
	var builds []api.Build
	cursor, more := "", false
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
		if err := c.do(ctx, http.MethodGet, path+"/builds?"+q.Encode(), nil, &page); err != nil {
			return err
		}
		builds = append(builds, page.Items...)
		cursor = page.Next
		if cursor == "" {
			break
		}
		if !all {
			more = true
			break
		}
	}
	if len(builds) == 0 {
		fmt.Fprintf(r.stderr, "no builds of %s\n", component)
		return nil
	}
	tw := tabwriter.NewWriter(r.stdout, 0, 0, 2, ' ', 0)
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
	if err := tw.Flush(); err != nil {
		return err
	}
	if more {
		fmt.Fprintln(r.stderr, "there are more builds: --all lists them all")
	}
	return nil
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

// runCancel asks for a build to be cancelled; it becomes cancelled once its workflow has stopped its work.
func runCancel(ctx context.Context, r *runner, args []string) error {
	fs := r.verbFlags("cancel", "cancel <build-id>")
	cf := addClientFlags(fs)
	pos, err := r.parseArgs(fs, args, "<build-id>")
	if err != nil {
		return err
	}
	c, err := cf.connect()
	if err != nil {
		return err
	}
	var out api.BuildCancellation
	if err := c.do(ctx, http.MethodPost, buildPath(pos[0])+"/cancel", nil, &out); err != nil {
		return err
	}
	fmt.Fprintf(r.stdout, "cancel of build %s requested (it was %s; it becomes cancelled when its work has stopped)\n", out.ID, out.Status)
	return nil
}
