package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"text/template"

	"github.com/spf13/cobra"
	"gopkg.in/yaml.v3"
)

// Output formats of -o.
const (
	outputTable = "table"
	outputJSON  = "json"
	outputYAML  = "yaml"
	// outputTemplate prefixes a Go template run on the API's JSON: -o 'template={{.digest}}'.
	outputTemplate = "template="
)

// outputFlag adds -o/--output to a read verb; its value is checked by print.
func outputFlag(cmd *cobra.Command) *string {
	o := cmd.Flags().StringP("output", "o", outputTable, "output format: table, json, yaml (the API's fields), or template=TEMPLATE (a Go template on the API's JSON, e.g. 'template={{.digest}}')")
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]string{outputTable, outputJSON, outputYAML}, cobra.ShellCompDirectiveNoFileComp))
	return o
}

// print writes v as the format says: json, yaml and template write the API's own fields (a list as an array);
// table calls table with a tab writer, flushed after.
func (r *runner) print(format string, v any, table func(w io.Writer)) error {
	if text, ok := strings.CutPrefix(format, outputTemplate); ok {
		tmpl, err := template.New("output").Option("missingkey=error").Parse(text)
		if err != nil {
			return usagef("-o template: %v", err)
		}
		doc, err := asJSON(v)
		if err != nil {
			return err
		}
		if err := tmpl.Execute(r.stdout, doc); err != nil {
			return fmt.Errorf("-o template: %w", err)
		}
		_, err = fmt.Fprintln(r.stdout)
		return err
	}
	switch format {
	case outputJSON:
		b, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(r.stdout, "%s\n", b)
		return err
	case outputYAML:
		doc, err := asJSON(v)
		if err != nil {
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
		return usagef("-o %q: want table, json, yaml or template=TEMPLATE", format)
	}
}

// asJSON is v as encoding/json reads its JSON back: maps, slices and scalars with the API's keys, not the Go
// fields'.
func asJSON(v any) (any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var doc any
	return doc, json.Unmarshal(b, &doc)
}

// yesNo is "yes" for true, "no" for false.
func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
