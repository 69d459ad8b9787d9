package cli

import (
	"context"
	"net/http"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/slipway-dev/slipway/api"
)

// Shell completion: `slipway completion bash|zsh|fish` prints the script (cobra's); the functions here complete
// project, component, environment and build names from the API the verb would call, with the --server, --token
// and --data-dir (or SLIPWAY_*) given so far. When the API cannot be reached they complete nothing.

// noFiles ends a completion without falling back to file names.
const noFiles = cobra.ShellCompDirectiveNoFileComp

// completionClient is a client of the API cmd would call, or false.
func (r *runner) completionClient(cmd *cobra.Command) (*apiClient, bool) {
	fs := cmd.Flags()
	if err := r.applyEnv(fs); err != nil {
		return nil, false
	}
	get := func(name string) string { v, _ := fs.GetString(name); return v }
	c, err := (&clientFlags{server: get("server"), token: get("token"), dataDir: get("data-dir")}).connect()
	return c, err == nil
}

// names reads the list at path and returns the names of its items; nil when it cannot.
func names[T any](ctx context.Context, c *apiClient, path string, name func(T) string) []string {
	var page api.Page[T]
	if c.do(ctx, http.MethodGet, path, nil, &page) != nil {
		return nil
	}
	out := make([]string, 0, len(page.Items))
	for _, it := range page.Items {
		out = append(out, name(it))
	}
	return out
}

func (r *runner) projectNames(cmd *cobra.Command) []string {
	c, ok := r.completionClient(cmd)
	if !ok {
		return nil
	}
	return names(cmd.Context(), c, "/api/v1/projects", func(p api.Project) string { return p.Name })
}

// completeProjects completes a verb's one <project>.
func (r *runner) completeProjects(cmd *cobra.Command, args []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, noFiles
	}
	return r.projectNames(cmd), noFiles
}

// completeProjectsMany completes a verb's <project>...: the projects not yet named.
func (r *runner) completeProjectsMany(cmd *cobra.Command, args []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
	var out []string
	for _, p := range r.projectNames(cmd) {
		if !slices.Contains(args, p) {
			out = append(out, p)
		}
	}
	return out, noFiles
}

// completeProjectSlash completes the project of a new <project>/<name>: "shop/".
func (r *runner) completeProjectSlash(cmd *cobra.Command, args []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, noFiles
	}
	var out []string
	for _, p := range r.projectNames(cmd) {
		out = append(out, p+"/")
	}
	return out, noFiles | cobra.ShellCompDirectiveNoSpace
}

// completePair completes the first argument, <project>/<x>: the projects ("shop/") until one is typed, then the
// x-es of that project read from the API at projectPath(p)+suffix.
func (r *runner) completePair(cmd *cobra.Command, args []string, toComplete, suffix string) ([]cobra.Completion, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, noFiles
	}
	p, _, ok := strings.Cut(toComplete, "/")
	if !ok {
		return r.completeProjectSlash(cmd, args, toComplete)
	}
	c, ok := r.completionClient(cmd)
	if !ok {
		return nil, noFiles
	}
	var out []string
	for _, n := range names(cmd.Context(), c, projectPath(p)+suffix, func(it struct {
		Name string `json:"name"`
	}) string {
		return it.Name
	}) {
		out = append(out, p+"/"+n)
	}
	return out, noFiles
}

// completeComponents completes a verb's <project>/<component>.
func (r *runner) completeComponents(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	return r.completePair(cmd, args, toComplete, "/components")
}

// completeProjectEnvs completes a verb's <project>/<environment>.
func (r *runner) completeProjectEnvs(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	return r.completePair(cmd, args, toComplete, "/environments")
}

// envsOf are the environments of the project named by a verb's first argument ("shop" or "shop/…").
func (r *runner) envsOf(cmd *cobra.Command, args []string) []string {
	if len(args) == 0 {
		return nil
	}
	c, ok := r.completionClient(cmd)
	if !ok {
		return nil
	}
	p, _, _ := strings.Cut(args[0], "/")
	return names(cmd.Context(), c, projectPath(p)+"/environments", func(e api.Environment) string { return e.Name })
}

// completeProjectThenEnvs completes `env order <project> <environment>...`: the environments not yet named.
func (r *runner) completeProjectThenEnvs(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	if len(args) == 0 {
		return r.completeProjects(cmd, args, toComplete)
	}
	var out []string
	for _, e := range r.envsOf(cmd, args) {
		if !slices.Contains(args[1:], e) {
			out = append(out, e)
		}
	}
	return out, noFiles
}

// completeEnvFlag completes --env and --to: the environments of the verb's project.
func (r *runner) completeEnvFlag(cmd *cobra.Command, args []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
	return r.envsOf(cmd, args), noFiles
}

// buildChoices are the newest builds of a component (at most limit; succeeded only when status says so), each
// with its status and commit as the description.
func buildChoices(ctx context.Context, c *apiClient, component, status string, limit int) []cobra.Completion {
	builds, _, err := listBuilds(ctx, c, component, status, limit, false)
	if err != nil {
		return nil
	}
	out := make([]cobra.Completion, 0, len(builds))
	for _, b := range builds {
		out = append(out, cobra.CompletionWithDesc(b.ID, b.Status+" "+shorten(b.Commit, 12)))
	}
	return out
}

// completeBuildFlag completes --build: the succeeded builds of the verb's component, newest first.
func (r *runner) completeBuildFlag(cmd *cobra.Command, args []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
	if len(args) == 0 {
		return nil, noFiles
	}
	path, err := componentPath(args[0])
	c, ok := r.completionClient(cmd)
	if err != nil || !ok {
		return nil, noFiles
	}
	return buildChoices(cmd.Context(), c, path, api.BuildSucceeded, 20), noFiles
}

// completeBuildIDs completes a <build-id>: the newest builds of every component (a few each).
func (r *runner) completeBuildIDs(cmd *cobra.Command, args []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, noFiles
	}
	c, ok := r.completionClient(cmd)
	if !ok {
		return nil, noFiles
	}
	ctx := cmd.Context()
	var out []cobra.Completion
	for _, p := range names(ctx, c, "/api/v1/projects", func(p api.Project) string { return p.Name }) {
		for _, comp := range names(ctx, c, projectPath(p)+"/components", func(c api.Component) string { return c.Name }) {
			out = append(out, buildChoices(ctx, c, projectPath(p)+"/components/"+escape(comp), "", 5)...)
		}
	}
	return out, noFiles
}

// completeConfigKeys completes `config unset` and `secret unset` (secrets): the component first, then the keys
// of its configs (or secrets) in the environments --env names, or in any, not yet given.
func (r *runner) completeConfigKeys(secrets bool) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if len(args) == 0 {
			return r.completeComponents(cmd, args, toComplete)
		}
		path, err := componentPath(args[0])
		c, ok := r.completionClient(cmd)
		if err != nil || !ok {
			return nil, noFiles
		}
		envs, _ := cmd.Flags().GetStringSlice("env")
		if len(envs) == 0 {
			envs = r.envsOf(cmd, args)
		}
		var out []string
		for _, env := range envs {
			var page api.Page[api.Config]
			if c.do(cmd.Context(), http.MethodGet, configsPath(path, env), nil, &page) != nil {
				continue
			}
			for _, v := range page.Items {
				if v.Secret == secrets && !slices.Contains(args[1:], v.Key) && !slices.Contains(out, v.Key) {
					out = append(out, v.Key)
				}
			}
		}
		return out, noFiles
	}
}
