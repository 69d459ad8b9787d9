package cli

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/slipway-dev/slipway/api"
	"github.com/slipway-dev/slipway/scan"
)

// projectPath is the API path of a project.
func projectPath(p string) string { return "/api/v1/projects/" + url.PathEscape(p) }

func (r *runner) projectCmd() *cobra.Command {
	return group("project", "projects: create, list, get, delete; stop and start their line",
		r.projectCreateCmd(), r.projectListCmd(), r.projectGetCmd(), r.projectDeleteCmd(), r.projectStopCmd(), r.projectStartCmd())
}

func (r *runner) projectCreateCmd() *cobra.Command {
	var policy scan.Policy
	cmd := &cobra.Command{
		Use:   "create <project>",
		Short: "create a project; it comes with the environments development, then production",
		Args:  args("<project>"),
	}
	cf := addClientFlags(cmd.Flags())
	cmd.Flags().StringVar(&policy.FailOn, "fail-on", "", "lowest severity that fails a build's scan: LOW, MEDIUM, HIGH, CRITICAL or NONE (default CRITICAL)")
	cmd.Flags().BoolVar(&policy.AllowSecrets, "allow-secrets", false, "let images with secrets in them through the scan")
	cmd.Flags().BoolVar(&policy.RequireVulnDB, "require-vuln-db", false, "fail builds whose vulnerabilities could not be scanned")
	cmd.RunE = func(cmd *cobra.Command, pos []string) error {
		c, err := cf.connect()
		if err != nil {
			return err
		}
		var out api.ProjectResponse
		if err := c.do(cmd.Context(), http.MethodPost, "/api/v1/projects", api.ProjectRequest{Name: pos[0], ScanPolicy: policy}, &out); err != nil {
			return err
		}
		fmt.Fprintf(r.stderr, "created project %s with environments %s\n", out.Name, strings.Join(envNames(out.Environments), ", "))
		return nil
	}
	return cmd
}

func (r *runner) projectListCmd() *cobra.Command {
	return readList(r, readVerb[[]api.Project]{use: "list", short: "list the projects", args: args(),
		path: func([]string) (string, error) { return "/api/v1/projects", nil },
		table: func(w io.Writer, ps []api.Project) {
			fmt.Fprintln(w, "PROJECT\tFAIL ON\tCREATED")
			for _, p := range ps {
				fmt.Fprintf(w, "%s\t%s\t%s\n", p.Name, failOn(p.ScanPolicy), p.CreatedAt.Format(time.RFC3339))
			}
		}})
}

func (r *runner) projectGetCmd() *cobra.Command {
	return readOne(r, readVerb[api.ProjectResponse]{use: "get <project>", short: "show a project, its scan policy and its environments in promotion order",
		args: args("<project>"), complete: r.completeProjects, path: atProject(""),
		table: func(w io.Writer, p api.ProjectResponse) {
			fmt.Fprintf(w, "project:\t%s\n", p.Name)
			fmt.Fprintf(w, "created:\t%s\n", p.CreatedAt.Format(time.RFC3339))
			fmt.Fprintf(w, "scan fails on:\t%s (secrets %s, vulnerability database %s)\n", failOn(p.ScanPolicy),
				map[bool]string{true: "allowed", false: "fail"}[p.ScanPolicy.AllowSecrets],
				map[bool]string{true: "required", false: "optional"}[p.ScanPolicy.RequireVulnDB])
			fmt.Fprintf(w, "environments:\t%s\n", strings.Join(envNames(p.Environments), " → "))
		}})
}

func (r *runner) projectDeleteCmd() *cobra.Command {
	var force bool
	cmd := &cobra.Command{Use: "delete <project>", Short: "delete a project with its environments, components, configs and secrets",
		Args: args("<project>"), ValidArgsFunction: r.completeProjects}
	cf := addClientFlags(cmd.Flags())
	cmd.Flags().BoolVar(&force, "force", false, "remove what still runs in its environments first (else a project with running releases is refused)")
	cmd.RunE = func(cmd *cobra.Command, pos []string) error {
		c, err := cf.connect()
		if err != nil {
			return err
		}
		if err := c.do(cmd.Context(), http.MethodDelete, projectPath(pos[0])+forceQuery(force), nil, nil); err != nil {
			return err
		}
		fmt.Fprintf(r.stderr, "deleted project %s\n", pos[0])
		return nil
	}
	return cmd
}

// forceQuery is the query of a forced delete, or "".
func forceQuery(force bool) string {
	if force {
		return "?force=true"
	}
	return ""
}

// failOn is the severity at which the policy fails a build, its default spelled out.
func failOn(p scan.Policy) string {
	if p.FailOn == "" {
		return scan.SeverityCritical
	}
	return strings.ToUpper(p.FailOn)
}

// envNames are the environments' names, in their order.
func envNames(envs []api.Environment) []string {
	names := make([]string, len(envs))
	for i, e := range envs {
		names[i] = e.Name
	}
	return names
}
