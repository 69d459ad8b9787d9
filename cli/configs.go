package cli

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/slipway-dev/slipway/api"
)

// escape is url.PathEscape, for one segment of an API path.
func escape(s string) string { return url.PathEscape(s) }

// configsPath is the API path of a component's configs in one environment.
func configsPath(component, env string) string {
	return component + "/environments/" + escape(env) + "/configs"
}

// configTarget is what config and secret verbs act on: a component, and its environments from --env.
type configTarget struct {
	envs []string
	cf   *clientFlags
}

// add gives cmd --env (required unless optional) and the client flags.
func (t *configTarget) add(r *runner, cmd *cobra.Command, optional bool) {
	t.cf = addClientFlags(cmd.Flags())
	help := "environment (repeatable or comma-separated)"
	if optional {
		help += " (default: every environment of the project)"
	}
	cmd.Flags().StringSliceVar(&t.envs, "env", nil, help)
	if !optional {
		_ = cmd.MarkFlagRequired("env")
	}
	_ = cmd.RegisterFlagCompletionFunc("env", r.completeEnvFlag)
	cmd.ValidArgsFunction = r.completeComponents
}

// resolve returns the component's API path, the environments (every one of the project when none was given) and a
// client.
func (t *configTarget) resolve(cmd *cobra.Command, arg string) (string, []string, *apiClient, error) {
	p, _, err := splitPair(arg, "<project>/<component>")
	if err != nil {
		return "", nil, nil, err
	}
	path, _ := componentPath(arg)
	c, err := t.cf.connect()
	if err != nil {
		return "", nil, nil, err
	}
	envs := nonEmpty(t.envs)
	if len(envs) == 0 {
		var page api.Page[api.Environment]
		if err := c.do(cmd.Context(), http.MethodGet, projectPath(p)+"/environments", nil, &page); err != nil {
			return "", nil, nil, err
		}
		envs = envNames(page.Items)
	}
	return path, envs, c, nil
}

func (r *runner) configCmd() *cobra.Command {
	return group("config", "a component's configs per environment: set, list, unset",
		r.configSetCmd(), r.configListCmd(false), r.configUnsetCmd(false))
}

func (r *runner) secretCmd() *cobra.Command {
	return group("secret", "a component's secrets per environment (write-only): set, list, unset",
		r.secretSetCmd(), r.configListCmd(true), r.configUnsetCmd(true))
}

func (r *runner) configSetCmd() *cobra.Command {
	var t configTarget
	cmd := &cobra.Command{Use: "set <project>/<component> --env E KEY=VALUE...", Short: "set configs (plain values) of a component in environments",
		Args: atLeast("<project>/<component>", "KEY=VALUE")}
	t.add(r, cmd, false)
	cmd.RunE = func(cmd *cobra.Command, pos []string) error {
		pairs := make([][2]string, 0, len(pos)-1)
		for _, kv := range pos[1:] {
			k, v, ok := strings.Cut(kv, "=")
			if !ok || k == "" {
				return usagef("%q is not KEY=VALUE", kv)
			}
			pairs = append(pairs, [2]string{k, v})
		}
		path, envs, c, err := t.resolve(cmd, pos[0])
		if err != nil {
			return err
		}
		plain := false
		for _, env := range envs {
			for _, kv := range pairs {
				if err := c.do(cmd.Context(), http.MethodPut, configsPath(path, env)+"/"+escape(kv[0]),
					api.ConfigRequest{Value: &kv[1], Secret: &plain}, nil); err != nil {
					return fmt.Errorf("%s in %s: %w", kv[0], env, err)
				}
				fmt.Fprintf(r.stderr, "set config %s in %s\n", kv[0], env)
			}
		}
		return nil
	}
	return cmd
}

func (r *runner) secretSetCmd() *cobra.Command {
	var t configTarget
	var fromFile string
	cmd := &cobra.Command{Use: "set <project>/<component> --env E KEY [--from-file F]",
		Short: "set a secret: its value from --from-file, stdin, or a prompt without echo, never the command line",
		Long: "Set a secret of a component in environments. Its value is read from --from-file (as is), else from stdin when it " +
			"is not a terminal (one trailing newline dropped), else from a prompt without echo: never from the command line, " +
			"where shell history and ps would keep it. It is sealed and never shown again.",
		Args: args("<project>/<component>", "KEY")}
	t.add(r, cmd, false)
	cmd.Flags().StringVar(&fromFile, "from-file", "", "read the value from this `file`")
	cmd.RunE = func(cmd *cobra.Command, pos []string) error {
		key := pos[1]
		if k, _, ok := strings.Cut(key, "="); ok {
			return usagef("secret values are not taken from the command line: give %s and pipe the value in, or use --from-file", k)
		}
		value, err := r.secretValue(fromFile, "value of "+key)
		if err != nil {
			return err
		}
		path, envs, c, err := t.resolve(cmd, pos[0])
		if err != nil {
			return err
		}
		secret := true
		for _, env := range envs {
			if err := c.do(cmd.Context(), http.MethodPut, configsPath(path, env)+"/"+escape(key),
				api.ConfigRequest{Value: &value, Secret: &secret}, nil); err != nil {
				return fmt.Errorf("%s in %s: %w", key, env, err)
			}
			fmt.Fprintf(r.stderr, "set secret %s in %s\n", key, env)
		}
		return nil
	}
	return cmd
}

// configListCmd lists configs and secrets (secrets only: true); a secret's value is never shown.
func (r *runner) configListCmd(secrets bool) *cobra.Command {
	var t configTarget
	what := "configs and secrets (secrets as sealed)"
	if secrets {
		what = "secrets (their keys: values are never shown)"
	}
	cmd := &cobra.Command{Use: "list <project>/<component> [--env E]", Short: "list a component's " + what + " per environment",
		Args: args("<project>/<component>")}
	t.add(r, cmd, true)
	output := outputFlag(cmd)
	cmd.RunE = func(cmd *cobra.Command, pos []string) error {
		path, envs, c, err := t.resolve(cmd, pos[0])
		if err != nil {
			return err
		}
		type envConfig struct {
			Environment string `json:"environment"`
			api.Config
		}
		var items []envConfig
		for _, env := range envs {
			var page api.Page[api.Config]
			if err := c.do(cmd.Context(), http.MethodGet, configsPath(path, env), nil, &page); err != nil {
				return fmt.Errorf("%s: %w", env, err)
			}
			for _, v := range page.Items {
				if !secrets || v.Secret {
					items = append(items, envConfig{Environment: env, Config: v})
				}
			}
		}
		if items == nil {
			items = []envConfig{}
		}
		return r.print(*output, items, func(w io.Writer) {
			fmt.Fprintln(w, "ENVIRONMENT\tKEY\tKIND\tVALUE\tUPDATED")
			for _, v := range items {
				kind, value := "config", ""
				if v.Value != nil {
					value = *v.Value
				}
				if v.Secret {
					kind, value = "secret", "(sealed)"
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", v.Environment, v.Key, kind, value, v.UpdatedAt.Format(time.RFC3339))
			}
		})
	}
	return cmd
}

// configUnsetCmd deletes configs (or secrets) by key.
func (r *runner) configUnsetCmd(secrets bool) *cobra.Command {
	var t configTarget
	what := "configs"
	if secrets {
		what = "secrets"
	}
	cmd := &cobra.Command{Use: "unset <project>/<component> --env E KEY...", Short: "delete " + what + " of a component in environments",
		Args: atLeast("<project>/<component>", "KEY")}
	t.add(r, cmd, false)
	cmd.ValidArgsFunction = r.completeConfigKeys(secrets)
	cmd.RunE = func(cmd *cobra.Command, pos []string) error {
		path, envs, c, err := t.resolve(cmd, pos[0])
		if err != nil {
			return err
		}
		for _, env := range envs {
			for _, key := range pos[1:] {
				if err := c.do(cmd.Context(), http.MethodDelete, configsPath(path, env)+"/"+escape(key), nil, nil); err != nil {
					return fmt.Errorf("%s in %s: %w", key, env, err)
				}
				fmt.Fprintf(r.stderr, "deleted %s in %s\n", key, env)
			}
		}
		return nil
	}
	return cmd
}

// secretValue reads a secret: the whole of file when one is named, else stdin when it is not a terminal (one
// trailing newline dropped), else what is typed at a prompt without echo. what names it in the prompt.
func (r *runner) secretValue(file, what string) (string, error) {
	if file != "" {
		return readFile("--from-file", file)
	}
	if f, ok := r.stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprintf(r.stderr, "%s (not shown): ", what)
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(r.stderr)
		if err != nil {
			return "", fmt.Errorf("reading the %s: %w", what, err)
		}
		return string(b), nil
	}
	if r.stdin == nil {
		return "", usagef("no %s: give --from-file, or pipe it in", what)
	}
	b, err := io.ReadAll(r.stdin)
	if err != nil {
		return "", fmt.Errorf("reading the %s from stdin: %w", what, err)
	}
	v, ok := strings.CutSuffix(string(b), "\r\n")
	if !ok {
		v = strings.TrimSuffix(v, "\n")
	}
	if len(b) == 0 {
		return "", usagef("no %s on stdin: pipe it in, or give --from-file", what)
	}
	return v, nil
}

// readFile is the contents of the file a flag names.
func readFile(flag, path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("%s: %w", flag, err)
	}
	return string(b), nil
}

// nonEmpty returns the values but empty ones, never nil: a flag given as ” clears a list.
func nonEmpty(values []string) []string {
	out := []string{}
	for _, v := range values {
		if v != "" {
			out = append(out, v)
		}
	}
	return out
}
