package cli

import (
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/slipway-dev/slipway/projectfile"
)

func (r *runner) applyCmd() *cobra.Command {
	var file string
	var dryRun, prune bool
	cmd := &cobra.Command{Use: "apply -f slipway.yaml [--dry-run] [--prune]",
		Short: "make projects, environments, components and configs what a file declares",
		Long: "Make the projects a file declares — their environments (promotion order, production, data plane), components " +
			"and non-secret configs — what it says: create what is missing, change what differs, and with --prune delete " +
			"the components and configs of those projects the file does not declare. It prints each change (+ create, " +
			"~ change, - delete), then applies them; a second apply of the same file changes nothing. Secrets are " +
			"named by key in the file, never given: apply warns about each that is not set. A file with mistakes is " +
			"refused whole, each as file:line: field: message. `slipway export` writes the same format.",
		Args: args()}
	cf := addClientFlags(cmd.Flags())
	cmd.Flags().StringVarP(&file, "file", "f", "", "the file to apply (- reads stdin)")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "print what would change and change nothing")
	cmd.Flags().BoolVar(&prune, "prune", false, "also delete the components and non-secret configs of the file's projects that it does not declare")
	_ = cmd.MarkFlagRequired("file")
	_ = cmd.MarkFlagFilename("file", "yaml", "yml")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		name, data, err := r.readInput(file)
		if err != nil {
			return err
		}
		f, err := projectfile.Parse(name, data)
		if err != nil {
			return err
		}
		c, err := cf.connect()
		if err != nil {
			return err
		}
		plan, err := projectfile.Diff(cmd.Context(), c, f, projectfile.Options{Prune: prune})
		if err != nil {
			return err
		}
		if err := plan.Write(r.stdout); err != nil || dryRun || len(plan.Changes) == 0 {
			return err
		}
		applied, err := plan.Apply(cmd.Context(), c)
		if applied != nil {
			if werr := applied.Write(r.stderr); werr != nil && err == nil {
				err = werr
			}
		}
		return err
	}
	return cmd
}

// readInput reads the file a flag names, or stdin for "-"; it returns the name to report errors with.
func (r *runner) readInput(file string) (string, []byte, error) {
	if file == "-" {
		if r.stdin == nil {
			return "", nil, usagef("-f -: no stdin")
		}
		b, err := io.ReadAll(r.stdin)
		return "<stdin>", b, err
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", nil, fmt.Errorf("-f: %w", err)
	}
	return file, b, nil
}

func (r *runner) exportCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "export [<project>...]",
		Short: "write projects (default: all) as a file for `slipway apply`: secrets by key only",
		Args:  cobra.ArbitraryArgs, ValidArgsFunction: r.completeProjectsMany}
	cf := addClientFlags(cmd.Flags())
	cmd.RunE = func(cmd *cobra.Command, projects []string) error {
		c, err := cf.connect()
		if err != nil {
			return err
		}
		f, err := projectfile.Export(cmd.Context(), c, projects...)
		if err != nil {
			return err
		}
		b, err := f.Marshal()
		if err != nil {
			return err
		}
		_, err = r.stdout.Write(b)
		return err
	}
	return cmd
}
