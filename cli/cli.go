package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// Exit codes of every verb.
const (
	// exitOK: the verb did what it was asked.
	exitOK = 0
	// exitFailed: the API refused the request, could not be reached, or what the verb waited for (a build, a
	// deployment, a promotion request) did not succeed or did not end within --timeout. stderr says why.
	exitFailed = 1
	// exitUsage: the command line is wrong (unknown verb, flag or argument; a SLIPWAY_<FLAG> that does not
	// parse). Nothing was sent.
	exitUsage = 2
)

// exitCodesHelp is the part of `slipway --help` that documents the exit codes.
const exitCodesHelp = `Exit codes: 0 done; 1 the API refused or could not be reached, or the build, deployment or promotion
request waited for did not succeed (stderr says why); 2 the command line is wrong (nothing was sent).

Every flag can also be set by SLIPWAY_<FLAG> (upper case, dashes as underscores); a flag on the command
line wins over the variable. The client verbs find the API and the admin token of a local slipway dev in
--data-dir (.slipway) unless --server and --token say otherwise.`

// Env looks up an environment variable, like os.LookupEnv.
type Env func(key string) (string, bool)

// IO is the streams a command line runs with.
type IO struct {
	// In is where secret values are read from when they are piped; a terminal there is prompted, without echo.
	// Nil reads nothing.
	In io.Reader
	// Out gets what a verb answers: IDs, tables, JSON or YAML.
	Out io.Writer
	// Err gets progress, warnings and errors.
	Err io.Writer
}

// runner carries what every verb needs.
type runner struct {
	env    Env
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	// backoff is the first wait before a log stream is reopened; 0 means followBackoff. When set, it is also
	// how often --wait polls (else deployPoll).
	backoff time.Duration
	// now is the clock ages and --since are read against; nil means time.Now.
	now func() time.Time
	// running is set once a verb's flags and arguments have been accepted: an error after that is a failure
	// (exit 1), one before a usage error (exit 2).
	running bool
}

// clock is the time now.
func (r *runner) clock() time.Time {
	if r.now == nil {
		return time.Now()
	}
	return r.now()
}

// exitError ends a verb with an exit code and no further message: the verb has already said why.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// usageError is a wrong command line: exit 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// usagef is a usageError with this message.
func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// Main runs the command line and returns the process exit code.
func Main(ctx context.Context, args []string, env Env, streams IO) int {
	r := &runner{env: env, stdin: streams.In, stdout: streams.Out, stderr: streams.Err}
	return r.run(ctx, args)
}

// run runs the command line args and returns the process exit code.
func (r *runner) run(ctx context.Context, args []string) int {
	root := r.root()
	root.SetArgs(args)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return exitOK
	}
	var exit exitError
	if errors.As(err, &exit) {
		return exit.code
	}
	name := "slipway"
	if cmd != nil {
		name = cmd.CommandPath()
	}
	if msg := err.Error(); strings.Contains(msg, "\n") {
		// Several errors (a file's mistakes, each at its line): one a line, under the verb.
		fmt.Fprintf(r.stderr, "%s:\n%s\n", name, msg)
	} else {
		fmt.Fprintf(r.stderr, "%s: %s\n", name, msg)
	}
	var usage usageError
	if errors.As(err, &usage) || !r.running {
		if cmd != nil {
			fmt.Fprintf(r.stderr, "(see: %s --help)\n", cmd.CommandPath())
		}
		return exitUsage
	}
	return exitFailed
}

// root is the slipway command with every verb.
func (r *runner) root() *cobra.Command {
	root := &cobra.Command{
		Use:   "slipway",
		Short: "slipway builds every commit once and promotes it, by digest, through a project's environments",
		Long: "slipway builds every commit once and promotes it, by digest, through a project's environments.\n\n" +
			"`slipway dev` runs everything in one process on embedded defaults; the other verbs call its API.\n\n" + exitCodesHelp,
		SilenceErrors: true,
		SilenceUsage:  true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			if err := r.applyEnv(cmd.Flags()); err != nil {
				return usageError{err}
			}
			// Cobra checks these after this hook; before, so that a missing one is a usage error.
			if err := cmd.ValidateRequiredFlags(); err != nil {
				return usageError{err}
			}
			if err := cmd.ValidateFlagGroups(); err != nil {
				return usageError{err}
			}
			r.running = true
			return nil
		},
	}
	root.SetOut(r.stdout)
	root.SetErr(r.stderr)
	root.SetIn(r.stdin)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.AddGroup(&cobra.Group{ID: "resources", Title: "Resources:"}, &cobra.Group{ID: "delivery", Title: "Builds and deployments:"},
		&cobra.Group{ID: "processes", Title: "Processes:"})
	add := func(group string, cmds ...*cobra.Command) {
		for _, c := range cmds {
			c.GroupID = group
			root.AddCommand(c)
		}
	}
	add("resources", r.projectCmd(), r.envCmd(), r.componentCmd(), r.configCmd(), r.secretCmd(), r.repoCredentialCmd(),
		r.webhookCmd(), r.notificationCmd(), r.tokenCmd(), r.applyCmd(), r.exportCmd())
	add("delivery", r.buildCmd(), r.buildsCmd(), r.logsCmd(), r.cancelCmd(), r.deployCmd(), r.promoteCmd(), r.deploymentsCmd(),
		r.releaseHoldCmd(), r.promotionsCmd(), r.promotionCmd(), r.auditCmd(), r.doraCmd(), r.runCmd(), r.runsCmd(), r.scheduleCmd())
	add("processes", r.devCmd(), r.serverCmd(), r.workerCmd(), r.keysCmd(), r.trivyDBCmd())
	return root
}

// applyEnv sets each flag of fs not given on the command line from its SLIPWAY_<FLAG> variable, if set.
func (r *runner) applyEnv(fs *pflag.FlagSet) error {
	var err error
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Changed || f.Name == "help" || err != nil {
			return
		}
		key := "SLIPWAY_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v, ok := r.env(key); ok {
			if e := fs.Set(f.Name, v); e != nil {
				err = fmt.Errorf("%s=%q: %w", key, v, e)
			}
		}
	})
	return err
}

// args accepts exactly the positional arguments named (such as "<build-id>"), for a verb's Args.
func args(names ...string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, got []string) error {
		if len(got) < len(names) {
			return usagef("missing %s", names[len(got)])
		}
		if len(got) > len(names) {
			return usagef("unexpected argument %q", got[len(names)])
		}
		return nil
	}
}

// atLeast accepts the positional arguments named and any number more, for a verb's Args.
func atLeast(names ...string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, got []string) error {
		if len(got) < len(names) {
			return usagef("missing %s", names[len(got)])
		}
		return nil
	}
}

// group is a noun's command (such as `slipway project`) whose verbs are subcommands; run alone it prints its help.
func group(use, short string, verbs ...*cobra.Command) *cobra.Command {
	c := &cobra.Command{Use: use, Short: short, Args: func(cmd *cobra.Command, got []string) error {
		if len(got) > 0 {
			return usagef("unknown command %q for %q", got[0], cmd.CommandPath())
		}
		return nil
	}, RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() }}
	c.AddCommand(verbs...)
	return c
}
