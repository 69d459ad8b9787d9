package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
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
}

func commands() map[string]command {
	return map[string]command{
		"dev":    {"run everything in one process on embedded defaults", runDev},
		"server": {"run the API against an external Temporal, database and registry", runServer},
		"worker": {"run a Temporal worker against an external Temporal, database and registry", runWorker},
		"token":  {"manage API tokens: token create --name N --role admin|developer|viewer", runToken},
		"keys":   {"manage key-encryption keys: keys create --kek-file F | keys rotate", runKeys},
	}
}

// Main runs the command line and returns the process exit code.
func Main(ctx context.Context, args []string, env Env, stdout, stderr io.Writer) int {
	r := &runner{env: env, stdout: stdout, stderr: stderr}
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

// parse applies SLIPWAY_<FLAG> variables to flags not given on the command line, then the
// arguments. A variable that does not parse is an error naming it.
func (r *runner) parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if given[f.Name] || err != nil {
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
