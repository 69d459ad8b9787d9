package cli

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/slipway-dev/slipway/api"
)

// notificationCmd is `slipway notification`: a project's outgoing webhooks.
func (r *runner) notificationCmd() *cobra.Command {
	return group("notification", "a project's notification hooks: its events POSTed, signed, to a URL (JSON or Slack)",
		r.notificationAddCmd(), readList(r, readVerb[[]api.NotificationHook]{use: "list <project>", short: "a project's notification hooks",
			args: args("<project>"), complete: r.completeProjects, path: atProject("/notifications"), table: hookTable}),
		readList(r, readVerb[[]api.NotificationDelivery]{use: "deliveries <project> <hook-id>",
			short: "a hook's delivery log, newest first: each event, its attempts and the last answer",
			args:  args("<project>", "<hook-id>"), path: func(pos []string) (string, error) {
				return projectPath(pos[0]) + "/notifications/" + escape(pos[1]) + "/deliveries", nil
			}, table: deliveryTable}),
		r.notificationDeleteCmd(), r.notificationTestCmd())
}

func (r *runner) notificationAddCmd() *cobra.Command {
	var req api.NotificationHookRequest
	cmd := &cobra.Command{Use: "add <project> --url URL [--format slack] [--event E]... [--secret S]",
		Short: "add a notification hook (admin); without --secret slipway makes one and prints it, this once",
		Args:  args("<project>"), ValidArgsFunction: r.completeProjects}
	cf := addClientFlags(cmd.Flags())
	cmd.Flags().StringVar(&req.URL, "url", "", "where the events are POSTed (required)")
	cmd.Flags().StringVar(&req.Format, "format", "", "json (default) or slack (a Slack incoming webhook's {\"text\"})")
	cmd.Flags().StringArrayVar(&req.Events, "event", nil, "an event to deliver, repeatable (default: every one): "+strings.Join(api.NotificationEvents, ", "))
	cmd.Flags().StringVar(&req.Secret, "secret", "", "the signing key (HMAC-SHA256 of the body in X-Slipway-Signature); default: made by slipway")
	_ = cmd.MarkFlagRequired("url")
	_ = cmd.RegisterFlagCompletionFunc("format", cobra.FixedCompletions([]string{api.NotificationJSON, api.NotificationSlack}, noFiles))
	_ = cmd.RegisterFlagCompletionFunc("event", cobra.FixedCompletions(api.NotificationEvents, noFiles))
	output := outputFlag(cmd)
	cmd.RunE = func(cmd *cobra.Command, pos []string) error {
		c, err := cf.connect()
		if err != nil {
			return err
		}
		var out api.NotificationHook
		if err := c.do(cmd.Context(), http.MethodPost, projectPath(pos[0])+"/notifications", req, &out); err != nil {
			return err
		}
		if out.Secret != "" {
			fmt.Fprintf(r.stderr, "the hook's signing secret, shown this once: %s\n", out.Secret)
		}
		return r.print(*output, out, func(w io.Writer) { hookTable(w, []api.NotificationHook{out}) })
	}
	return cmd
}

func (r *runner) notificationDeleteCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "delete <project> <hook-id>", Short: "delete a notification hook and its delivery log (admin)",
		Args: args("<project>", "<hook-id>")}
	cf := addClientFlags(cmd.Flags())
	cmd.RunE = func(cmd *cobra.Command, pos []string) error {
		c, err := cf.connect()
		if err != nil {
			return err
		}
		if err := c.do(cmd.Context(), http.MethodDelete, projectPath(pos[0])+"/notifications/"+escape(pos[1]), nil, nil); err != nil {
			return err
		}
		fmt.Fprintf(r.stderr, "deleted notification hook %s\n", pos[1])
		return nil
	}
	return cmd
}

func (r *runner) notificationTestCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "test <project> <hook-id>", Short: "send a hook a ping (admin); see it with notification deliveries",
		Args: args("<project>", "<hook-id>")}
	cf := addClientFlags(cmd.Flags())
	cmd.RunE = func(cmd *cobra.Command, pos []string) error {
		c, err := cf.connect()
		if err != nil {
			return err
		}
		var d api.NotificationDelivery
		if err := c.do(cmd.Context(), http.MethodPost, projectPath(pos[0])+"/notifications/"+escape(pos[1])+"/test", nil, &d); err != nil {
			return err
		}
		fmt.Fprintf(r.stderr, "ping %s sent to %s\n", d.ID, pos[1])
		return nil
	}
	return cmd
}

func hookTable(w io.Writer, hooks []api.NotificationHook) {
	fmt.Fprintln(w, "ID\tURL\tFORMAT\tEVENTS\tBY\tCREATED")
	for _, h := range hooks {
		events := "all"
		if len(h.Events) > 0 {
			events = strings.Join(h.Events, ",")
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", h.ID, h.URL, h.Format, events, h.Actor, h.CreatedAt.Format(time.RFC3339))
	}
}

func deliveryTable(w io.Writer, ds []api.NotificationDelivery) {
	fmt.Fprintln(w, "DELIVERY\tEVENT\tSUBJECT\tSTATUS\tATTEMPTS\tLAST ANSWER\tAT")
	for _, d := range ds {
		last := "-"
		if d.LastStatus != 0 {
			last = fmt.Sprint(d.LastStatus)
		}
		if d.LastError != "" {
			last = d.LastError
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%d\t%s\t%s\n", d.ID, d.Event, d.Subject, d.Status, d.Attempts, last, d.UpdatedAt.Format(time.RFC3339))
	}
}
