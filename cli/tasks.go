package cli

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/slipway-dev/slipway/api"
)

// runPath is the API path of a task run.
func runPath(id string) string { return "/api/v1/runs/" + url.PathEscape(id) }

// isRunID says whether id names a task run (run-…) rather than a build.
func isRunID(id string) bool { return strings.HasPrefix(id, "run-") }

// schedulePath is the API path of a task's schedule in an environment.
func schedulePath(component, env string) string {
	return component + "/environments/" + escape(env) + "/schedule"
}

func (r *runner) scheduleCmd() *cobra.Command {
	return group("schedule", "when scheduled tasks run: set, list, delete",
		r.scheduleSetCmd(), r.scheduleListCmd(), r.scheduleDeleteCmd())
}

func (r *runner) scheduleSetCmd() *cobra.Command {
	var env string
	var f api.TaskScheduleFields
	cmd := &cobra.Command{Use: "set <project>/<component> --env E --cron EXPR [--time-zone TZ] [--overlap P] [--paused]",
		Short: "set when a scheduled task runs in an environment (a Temporal Schedule starts each run)",
		Args:  args("<project>/<component>"), ValidArgsFunction: r.completeComponents}
	cf := addClientFlags(cmd.Flags())
	cmd.Flags().StringVar(&env, "env", "", "environment the task runs in on this schedule (required)")
	cmd.Flags().StringVar(&f.Cron, "cron", "", `when: five fields (minute hour day-of-month month day-of-week) such as "*/15 * * * *", or @hourly, @daily, @every 10m (required)`)
	cmd.Flags().StringVar(&f.TimeZone, "time-zone", "", "IANA time zone the cron expression is read in (default UTC)")
	cmd.Flags().StringVar(&f.Overlap, "overlap", "", "a run due while the last still runs: "+strings.Join(api.OverlapPolicies, ", ")+" (default skip)")
	cmd.Flags().BoolVar(&f.Paused, "paused", false, "keep the schedule but start no run until set again without --paused")
	_ = cmd.MarkFlagRequired("env")
	_ = cmd.MarkFlagRequired("cron")
	_ = cmd.RegisterFlagCompletionFunc("env", r.completeEnvFlag)
	output := outputFlag(cmd)
	cmd.RunE = func(cmd *cobra.Command, pos []string) error {
		path, c, err := cf.component(pos[0])
		if err != nil {
			return err
		}
		var out api.TaskSchedule
		if err := c.do(cmd.Context(), http.MethodPut, schedulePath(path, env), f, &out); err != nil {
			return err
		}
		return r.print(*output, out, func(w io.Writer) { scheduleTable(w, []api.TaskSchedule{out}) })
	}
	return cmd
}

func (r *runner) scheduleListCmd() *cobra.Command {
	return readList(r, readVerb[[]api.TaskSchedule]{use: "list <project>/<component>", short: "list a scheduled task's schedules, by environment",
		args: args("<project>/<component>"), complete: r.completeComponents, path: atComponent("/schedules"), table: scheduleTable})
}

func (r *runner) scheduleDeleteCmd() *cobra.Command {
	var env string
	cmd := &cobra.Command{Use: "delete <project>/<component> --env E", Short: "stop a scheduled task from running in an environment",
		Args: args("<project>/<component>"), ValidArgsFunction: r.completeComponents}
	cf := addClientFlags(cmd.Flags())
	cmd.Flags().StringVar(&env, "env", "", "environment (required)")
	_ = cmd.MarkFlagRequired("env")
	_ = cmd.RegisterFlagCompletionFunc("env", r.completeEnvFlag)
	cmd.RunE = func(cmd *cobra.Command, pos []string) error {
		path, c, err := cf.component(pos[0])
		if err != nil {
			return err
		}
		if err := c.do(cmd.Context(), http.MethodDelete, schedulePath(path, env), nil, nil); err != nil {
			return err
		}
		fmt.Fprintf(r.stderr, "deleted the schedule of %s in %s\n", pos[0], env)
		return nil
	}
	return cmd
}

// scheduleTable writes schedules as a table.
func scheduleTable(w io.Writer, list []api.TaskSchedule) {
	fmt.Fprintln(w, "ENVIRONMENT\tCRON\tTIME ZONE\tOVERLAP\tNEXT")
	for _, s := range list {
		next := "paused"
		if !s.Paused && len(s.Next) > 0 {
			next = s.Next[0].Format(time.RFC3339)
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", s.Environment, s.Cron, s.TimeZone, s.Overlap, next)
	}
}

// runCmd runs a task now. Stdout gets the run's ID alone on a line (then, with --follow, its output); stderr how
// it ended.
func (r *runner) runCmd() *cobra.Command {
	var env string
	var follow bool
	cmd := &cobra.Command{Use: "run <project>/<component> --env E [-f]", Short: "run a task's release in an environment now (the build deployed there)",
		Args: args("<project>/<component>"), ValidArgsFunction: r.completeComponents}
	cf := addClientFlags(cmd.Flags())
	cmd.Flags().StringVar(&env, "env", "", "environment whose release runs (required)")
	cmd.Flags().BoolVarP(&follow, "follow", "f", false, "wait for the run to end and print its output; exit 1 unless it succeeded")
	_ = cmd.MarkFlagRequired("env")
	_ = cmd.RegisterFlagCompletionFunc("env", r.completeEnvFlag)
	cmd.RunE = func(cmd *cobra.Command, pos []string) error {
		path, c, err := cf.component(pos[0])
		if err != nil {
			return err
		}
		var run api.TaskRun
		if err := c.do(cmd.Context(), http.MethodPost, path+"/environments/"+escape(env)+"/runs", nil, &run); err != nil {
			return err
		}
		fmt.Fprintln(r.stdout, run.ID)
		fmt.Fprintf(r.stderr, "run %s of build %s queued in %s\n", run.ID, run.Build, run.Environment)
		if !follow {
			return nil
		}
		return r.runOutput(cmd.Context(), c, run.ID, true)
	}
	return cmd
}

// runOutput prints a task run's output. With follow it first waits for the run to end (a run's output is kept
// when its container has exited), then says on stderr how it ended and returns exitError 1 unless it succeeded.
func (r *runner) runOutput(ctx context.Context, c *apiClient, id string, follow bool) error {
	var run api.TaskRun
	for {
		if err := c.do(ctx, http.MethodGet, runPath(id), nil, &run); err != nil {
			return err
		}
		if !follow || run.Status == api.RunSucceeded || run.Status == api.RunFailed {
			break
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(orBackoff(r.backoff)):
		}
	}
	body, err := c.stream(ctx, runPath(id)+"/logs")
	if err != nil {
		return err
	}
	defer body.Close()
	if _, err := io.Copy(r.stdout, body); err != nil {
		return fmt.Errorf("reading the output of run %s: %w", id, err)
	}
	if !follow {
		return nil
	}
	fmt.Fprintln(r.stderr, runOutcome(run))
	if run.Status != api.RunSucceeded {
		return exitError{1}
	}
	return nil
}

// orBackoff is how long a poll waits: d, or followBackoff when d is not set.
func orBackoff(d time.Duration) time.Duration {
	if d <= 0 {
		return followBackoff
	}
	return d
}

// runOutcome is the line that says how a run ended, such as "run run-1 failed after 2s: exited with status 3".
func runOutcome(run api.TaskRun) string {
	s := "run " + run.ID + " " + run.Status
	if run.DurationSeconds > 0 {
		d := time.Duration(run.DurationSeconds * float64(time.Second)).Round(time.Millisecond)
		if run.Status == api.RunSucceeded {
			s += " in " + d.String()
		} else {
			s += " after " + d.String()
		}
	}
	if run.Message != "" {
		s += ": " + run.Message
	}
	return s
}

func (r *runner) runsCmd() *cobra.Command {
	var env string
	cmd := readList(r, readVerb[[]api.TaskRun]{use: "runs <project>/<component> [--env E]", short: "list a task's runs, newest first",
		args: args("<project>/<component>"), complete: r.completeComponents,
		path: func(pos []string) (string, error) {
			p, err := componentPath(pos[0])
			if env != "" {
				p += "/runs?environment=" + url.QueryEscape(env)
				return p, err
			}
			return p + "/runs", err
		},
		table: runTable})
	cmd.Flags().StringVar(&env, "env", "", "only the runs in this environment")
	_ = cmd.RegisterFlagCompletionFunc("env", r.completeEnvFlag)
	return cmd
}

// runTable writes runs as a table.
func runTable(w io.Writer, runs []api.TaskRun) {
	fmt.Fprintln(w, "ID\tSTATUS\tEXIT\tENVIRONMENT\tTRIGGER\tBUILD\tCREATED\tDURATION")
	for _, run := range runs {
		exit, took := "-", "-"
		if run.ExitCode != nil {
			exit = fmt.Sprint(*run.ExitCode)
		}
		if run.DurationSeconds > 0 {
			took = time.Duration(run.DurationSeconds * float64(time.Second)).Round(time.Millisecond).String()
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", run.ID, run.Status, exit, run.Environment, run.Trigger,
			shorten(run.Build, 20), run.CreatedAt.Format(time.RFC3339), took)
	}
}
