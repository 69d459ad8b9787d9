package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
)

// Env looks up an environment variable, like os.LookupEnv.
type Env func(key string) (string, bool)

// command is one verb of the slipway command line.
type command struct {
	summary string
	run     func(ctx context.Context, r *runner, args []string) error
}

// runner carries what every verb needs.
type runner struct {
	env    Env
	stdout io.Writer
	stderr io.Writer
	// backoff is the first wait before a log stream is reopened; 0 means followBackoff.
	backoff time.Duration
}

// exitError ends a verb with an exit code and no further message: the verb has already said why.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

func commands() map[string]command {
	return map[string]command{
		"dev":         {"run everything in one process on embedded defaults", runDev},
		"server":      {"run the API against an external Temporal, database and registry", runServer},
		"worker":      {"run a Temporal worker against an external Temporal, database and registry", runWorker},
		"token":       {"manage API tokens: token create --name N --role admin|developer|viewer", runToken},
		"keys":        {"manage key-encryption keys: keys create --kek-file F | keys rotate", runKeys},
		"build":       {"build a commit: build <project>/<component> [--commit X] [--rebuild] [--follow]", runBuild},
		"builds":      {"list a component's builds: builds <project>/<component> [--status S] [--limit N] [--all]", runBuilds},
		"logs":        {"print a build's log: logs [-f|--follow] <build-id>", runLogs},
		"cancel":      {"cancel a build: cancel <build-id>", runCancel},
		"deploy":      {"deploy (or roll back to) a build: deploy <project>/<component> --env E --build B [--wait]", runDeploy},
		"promote":     {"promote a build to the next environment: promote <project>/<component> [--build B] [--to E] [--wait]", runPromote},
		"deployments": {"what runs where: deployments <project>/<component>", runDeployments},
		"env":         {"environments and where they deploy: env list <project> | env set <project>/<environment> [flags]", runEnv},

		// Verbs that talk to the registry rather than the API.
		"trivy-db": {"publish a Trivy vulnerability DB: trivy-db push <dir> [--registry host:port] [--insecure]", runTrivyDB},
	}
}

// Main runs the command line and returns the process exit code.
func Main(ctx context.Context, args []string, env Env, stdout, stderr io.Writer) int {
	r := &runner{env: env, stdout: stdout, stderr: stderr}
	return r.run(ctx, args)
}

// run runs the verb named by args[0] and returns the process exit code.
func (r *runner) run(ctx context.Context, args []string) int {
	stderr := r.stderr
	cmds := commands()
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stderr, cmds)
		return 2
	}
	cmd, ok := cmds[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "slipway: unknown command %q\n\n", args[0])
		usage(stderr, cmds)
		return 2
	}
	if err := cmd.run(ctx, r, args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 2
		}
		var exit exitError
		if errors.As(err, &exit) {
			return exit.code
		}
		fmt.Fprintf(stderr, "slipway %s: %v\n", args[0], err)
		return 1
	}
	return 0
}

func usage(w io.Writer, cmds map[string]command) {
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	fmt.Fprintln(w, "usage: slipway <command> [flags]")
	fmt.Fprintln(w)
	for _, n := range names {
		fmt.Fprintf(w, "  %-8s %s\n", n, cmds[n].summary)
	}
	fmt.Fprintln(w, "\nEvery flag can also be set by SLIPWAY_<FLAG> (upper case, dashes as underscores).")
}

// flags returns a flag set for a verb whose defaults are later overridden from SLIPWAY_* variables
// by parse.
func (r *runner) flags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet("slipway "+name, flag.ContinueOnError)
	fs.SetOutput(r.stderr)
	return fs
}

// verbFlags is flags for a client verb: -h prints the verb's usage line, such as
// "logs [-f|--follow] <build-id>", before its flags.
func (r *runner) verbFlags(name, usage string) *flag.FlagSet {
	fs := r.flags(name)
	fs.Usage = func() {
		fmt.Fprintf(r.stderr, "usage: slipway %s\n\nflags:\n", usage)
		fs.PrintDefaults()
	}
	return fs
}

// parse applies SLIPWAY_<FLAG> variables to flags not given on the command line, then the
// arguments. A variable that does not parse is an error naming it.
func (r *runner) parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	return r.applyEnv(fs)
}

// parseArgs is parse for a verb that takes exactly the positional arguments named (such as "<build-id>"),
// which may come before, between or after the flags ("--" ends the flags). It returns them in order.
func (r *runner) parseArgs(fs *flag.FlagSet, args []string, names ...string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if used := len(args) - len(rest); used > 0 && args[used-1] == "--" {
			pos = append(pos, rest...)
			break
		}
		if len(rest) == 0 {
			break
		}
		pos, args = append(pos, rest[0]), rest[1:]
	}
	if len(pos) < len(names) {
		return nil, fmt.Errorf("missing %s (see: %s -h)", names[len(pos)], fs.Name())
	}
	if len(pos) > len(names) {
		return nil, fmt.Errorf("unexpected argument %q", pos[len(names)])
	}
	return pos, r.applyEnv(fs)
}

// applyEnv sets each flag not given on the command line from its SLIPWAY_<FLAG> variable, if set. One-letter
// flags are short forms of long ones and have no variable.
func (r *runner) applyEnv(fs *flag.FlagSet) error {
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if given[f.Name] || len(f.Name) == 1 || err != nil {
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
