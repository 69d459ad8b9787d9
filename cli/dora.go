package cli

import (
	"fmt"
	"io"
	"net/url"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/slipway-dev/slipway/api"
)

// doraCmd prints the DORA figures of a project, or of one component, over the last days.
func (r *runner) doraCmd() *cobra.Command {
	var component string
	var days int
	cmd := readOne(r, readVerb[api.DORA]{use: "dora <project> [--component C] [--days N]",
		short: "the DORA figures of a project's last environment: deployment frequency, lead time, change failure rate, time to restore",
		args:  args("<project>"), complete: r.completeProjects,
		path: func(pos []string) (string, error) {
			q := url.Values{}
			if component != "" {
				q.Set("component", component)
			}
			if days != 0 {
				if days < 1 || days > api.DORAMaxDays {
					return "", usagef("--days %d: want 1 to %d", days, api.DORAMaxDays)
				}
				q.Set("days", strconv.Itoa(days))
			}
			p := projectPath(pos[0]) + "/dora"
			if len(q) > 0 {
				p += "?" + q.Encode()
			}
			return p, nil
		},
		table: doraTable})
	cmd.Flags().StringVar(&component, "component", "", "only this component's deployments (default: all the project's)")
	cmd.Flags().IntVar(&days, "days", 0, fmt.Sprintf("the period in UTC days, today included, 1 to %d (default %d)", api.DORAMaxDays, api.DORADefaultDays))
	return cmd
}

// doraTable writes the four figures with their bands, then each environment's counts.
func doraTable(w io.Writer, f api.DORA) {
	what := f.Project
	if f.Component != "" {
		what += "/" + f.Component
	}
	if f.Environment == "" {
		fmt.Fprintf(w, "%s has no environment: nothing to measure\n", what)
		return
	}
	fmt.Fprintf(w, "DORA figures of %s in %s, the last %d days (%s to %s)\n\n", what, f.Environment, f.Days,
		f.Since.Format(time.DateOnly), f.Until.Format(time.DateOnly))
	fmt.Fprintln(w, "FIGURE\tVALUE\tBAND")
	df := f.DeploymentFrequency
	fmt.Fprintf(w, "deployment frequency\t%.2f a day (%d succeeded)\t%s\n", df.PerDay, df.Deployments, orDash(df.Band))
	lt := f.LeadTime
	lead := "-"
	if lt.Changes > 0 {
		lead = fmt.Sprintf("median %s, p90 %s (%d changes", age(seconds(lt.MedianSeconds)), age(seconds(lt.P90Seconds)), lt.Changes)
		if lt.Fallbacks > 0 {
			lead += fmt.Sprintf(", %d from the build's creation", lt.Fallbacks)
		}
		lead += ")"
	}
	fmt.Fprintf(w, "lead time for changes\t%s\t%s\n", lead, orDash(lt.Band))
	cfr := f.ChangeFailureRate
	rate := "-"
	if cfr.Deployments > 0 {
		rate = fmt.Sprintf("%.0f%% (%d of %d: %d failed, %d rolled back)", 100*cfr.Rate, cfr.Failed+cfr.RolledBack, cfr.Deployments,
			cfr.Failed, cfr.RolledBack)
	}
	fmt.Fprintf(w, "change failure rate\t%s\t%s\n", rate, orDash(cfr.Band))
	tr := f.TimeToRestore
	restore := "-"
	if tr.Restored > 0 {
		restore = fmt.Sprintf("median %s (%d restored)", age(seconds(tr.MedianSeconds)), tr.Restored)
	}
	if tr.Unrestored > 0 {
		restore = fmt.Sprintf("%s, %d not restored yet", restore, tr.Unrestored)
	}
	fmt.Fprintf(w, "time to restore\t%s\t%s\n\n", restore, orDash(tr.Band))

	fmt.Fprintln(w, "ENVIRONMENT\tSUCCEEDED\tFAILED\tROLLED BACK\tFAILURE RATE\tRESTORE")
	for _, e := range f.Environments {
		restore := "-"
		if e.Restored > 0 {
			restore = age(seconds(e.RestoreMedianSeconds))
		}
		fmt.Fprintf(w, "%s\t%d\t%d\t%d\t%.0f%%\t%s\n", e.Environment, e.Succeeded, e.Failed, e.RolledBack, 100*e.ChangeFailureRate, restore)
	}
}

func seconds(s int64) time.Duration { return time.Duration(s) * time.Second }

// orDash is s, or "-" when it is empty.
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
