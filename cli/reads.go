package cli

import (
	"context"
	"io"
	"net/http"

	"github.com/spf13/cobra"

	"github.com/slipway-dev/slipway/api"
)

// readVerb is a verb that GETs one API path and prints the answer: with -o json, yaml or template as the API
// gives it (a list as an array of its items), else as a table.
type readVerb[T any] struct {
	use, short string
	args       cobra.PositionalArgs
	// complete completes the positional arguments; nil completes none.
	complete cobra.CompletionFunc
	// path is the API path to GET for the verb's arguments.
	path func(pos []string) (string, error)
	// table writes the answer as a table.
	table func(w io.Writer, v T)
}

// command is the verb, reading its answer with get.
func (v readVerb[T]) command(r *runner, get func(ctx context.Context, c *apiClient, path string) (T, error)) *cobra.Command {
	cmd := &cobra.Command{Use: v.use, Short: v.short, Args: v.args, ValidArgsFunction: v.complete}
	cf := addClientFlags(cmd.Flags())
	output := outputFlag(cmd)
	cmd.RunE = func(cmd *cobra.Command, pos []string) error {
		path, err := v.path(pos)
		if err != nil {
			return err
		}
		c, err := cf.connect()
		if err != nil {
			return err
		}
		out, err := get(cmd.Context(), c, path)
		if err != nil {
			return err
		}
		return r.print(*output, out, func(w io.Writer) { v.table(w, out) })
	}
	return cmd
}

// readOne is a verb printing one entity.
func readOne[T any](r *runner, v readVerb[T]) *cobra.Command {
	return v.command(r, func(ctx context.Context, c *apiClient, path string) (T, error) {
		var out T
		return out, c.do(ctx, http.MethodGet, path, nil, &out)
	})
}

// readList is a verb printing the items of a list ({"items": […]}), never null.
func readList[T any](r *runner, v readVerb[[]T]) *cobra.Command {
	return v.command(r, func(ctx context.Context, c *apiClient, path string) ([]T, error) {
		var page api.Page[T]
		if err := c.do(ctx, http.MethodGet, path, nil, &page); err != nil {
			return nil, err
		}
		if page.Items == nil {
			page.Items = []T{}
		}
		return page.Items, nil
	})
}

// atProject is the path of a verb whose first argument is a project, with suffix.
func atProject(suffix string) func(pos []string) (string, error) {
	return func(pos []string) (string, error) { return projectPath(pos[0]) + suffix, nil }
}

// atComponent is the path of a verb whose first argument is <project>/<component>, with suffix.
func atComponent(suffix string) func(pos []string) (string, error) {
	return func(pos []string) (string, error) {
		p, err := componentPath(pos[0])
		return p + suffix, err
	}
}
