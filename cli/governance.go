package cli

import (
	"fmt"
	"net/http"
	"time"

	"github.com/spf13/cobra"

	"github.com/slipway-dev/slipway/api"
)

// buildQuarantineCmd quarantines a build: it is never deployed or promoted again, and requests waiting with it
// fail at their turn.
func (r *runner) buildQuarantineCmd() *cobra.Command {
	var reason string
	cmd := &cobra.Command{Use: "quarantine <build-id> --reason R", Short: "never deploy or promote this build again (until an admin unquarantines it)",
		Args: args("<build-id>"), ValidArgsFunction: r.completeBuildIDs}
	cf := addClientFlags(cmd.Flags())
	cmd.Flags().StringVar(&reason, "reason", "", "why the build must not be deployed, kept with it and in the audit log (required)")
	_ = cmd.MarkFlagRequired("reason")
	cmd.RunE = func(cmd *cobra.Command, pos []string) error {
		c, err := cf.connect()
		if err != nil {
			return err
		}
		var q api.Quarantine
		if err := c.do(cmd.Context(), http.MethodPost, buildPath(pos[0])+"/quarantine", api.QuarantineRequest{Reason: reason}, &q); err != nil {
			return err
		}
		fmt.Fprintf(r.stderr, "quarantined build %s (by %s at %s): %s\n", pos[0], q.Actor, q.At.UTC().Format(time.RFC3339), q.Reason)
		return nil
	}
	return cmd
}

// buildUnquarantineCmd lets a quarantined build be deployed again (admin only).
func (r *runner) buildUnquarantineCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "unquarantine <build-id>", Short: "let a quarantined build be deployed and promoted again (admin only)",
		Args: args("<build-id>"), ValidArgsFunction: r.completeBuildIDs}
	cf := addClientFlags(cmd.Flags())
	cmd.RunE = func(cmd *cobra.Command, pos []string) error {
		c, err := cf.connect()
		if err != nil {
			return err
		}
		if err := c.do(cmd.Context(), http.MethodDelete, buildPath(pos[0])+"/quarantine", nil, nil); err != nil {
			return err
		}
		fmt.Fprintf(r.stderr, "build %s is no longer quarantined\n", pos[0])
		return nil
	}
	return cmd
}

// projectStopCmd stops a project's line: nothing is promoted or deployed into its environments until it is
// started; the requests made meanwhile wait (or are refused, in an environment whose freeze mode refuses).
func (r *runner) projectStopCmd() *cobra.Command {
	var reason string
	cmd := &cobra.Command{Use: "stop <project> --reason R", Short: "stop the project's line: nothing is promoted or deployed until it is started",
		Args: args("<project>"), ValidArgsFunction: r.completeProjects}
	cf := addClientFlags(cmd.Flags())
	cmd.Flags().StringVar(&reason, "reason", "", "why the line stops, shown to whoever asks to deploy and kept in the audit log (required)")
	_ = cmd.MarkFlagRequired("reason")
	cmd.RunE = func(cmd *cobra.Command, pos []string) error {
		c, err := cf.connect()
		if err != nil {
			return err
		}
		var st api.Stop
		if err := c.do(cmd.Context(), http.MethodPut, projectPath(pos[0])+"/stop", api.StopRequest{Reason: reason}, &st); err != nil {
			return err
		}
		fmt.Fprintf(r.stderr, "the line of project %s is %s; an admin starts it with `slipway project start %s`\n", pos[0], stopLine(st), pos[0])
		return nil
	}
	return cmd
}

// projectStartCmd starts a project's stopped line (admin only); the requests that waited for it go on.
func (r *runner) projectStartCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "start <project>", Short: "start the project's stopped line again (admin only); waiting requests go on",
		Args: args("<project>"), ValidArgsFunction: r.completeProjects}
	cf := addClientFlags(cmd.Flags())
	cmd.RunE = func(cmd *cobra.Command, pos []string) error {
		c, err := cf.connect()
		if err != nil {
			return err
		}
		if err := c.do(cmd.Context(), http.MethodDelete, projectPath(pos[0])+"/stop", nil, nil); err != nil {
			return err
		}
		fmt.Fprintf(r.stderr, "the line of project %s runs again\n", pos[0])
		return nil
	}
	return cmd
}
