package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"gopkg.in/yaml.v3"
)

// Output formats of -o.
const (
	outputTable = "table"
	outputJSON  = "json"
	outputYAML  = "yaml"
)

// outputFlag adds -o/--output to a read verb; its value is checked by print.
func outputFlag(cmd *cobra.Command) *string {
	o := cmd.Flags().StringP("output", "o", outputTable, "output format: table, json or yaml (the API's fields)")
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]string{outputTable, outputJSON, outputYAML}, cobra.ShellCompDirectiveNoFileComp))
	return o
}

// print writes v as the format says: json and yaml write the API's own fields (a list as an array); table
// calls table with a tab writer, flushed after.
func (r *runner) print(format string, v any, table func(w io.Writer)) error {
	switch format {
	case outputJSON:
		b, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(r.stdout, "%s\n", b)
		return err
	case outputYAML:
		// Through JSON, so that the keys are the API's, not the Go fields'.
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		var doc any
		if err := json.Unmarshal(b, &doc); err != nil {
			return err
		}
		out, err := yaml.Marshal(doc)
		if err != nil {
			return err
		}
		_, err = r.stdout.Write(out)
		return err
	case outputTable, "":
		tw := tabwriter.NewWriter(r.stdout, 0, 0, 2, ' ', 0)
		table(tw)
		return tw.Flush()
	default:
		return usagef("-o %q: want table, json or yaml", format)
	}
}

// yesNo is "yes" for true, "no" for false.
func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
