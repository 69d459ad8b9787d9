package cli

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/slipway-dev/slipway/api"
)

// componentPath turns "<project>/<component>" into the component's API path.
func componentPath(arg string) (string, error) {
	p, c, err := splitPair(arg, "<project>/<component>")
	if err != nil {
		return "", err
	}
	return projectPath(p) + "/components/" + escape(c), nil
}

// splitPair splits "<a>/<b>" (what names the form, for the error).
func splitPair(arg, what string) (string, string, error) {
	a, b, ok := strings.Cut(arg, "/")
	if !ok || a == "" || b == "" || strings.Contains(b, "/") {
		return "", "", usagef("%q is not %s", arg, what)
	}
	return a, b, nil
}

// componentFlags are the settings of a component that create and set take, as flags.
type componentFlags struct {
	repo, branch, dockerfile, context, typ string
	paths                                  []string
	autoBuild, autoDeploy                  bool
}

func (f *componentFlags) add(fs *pflag.FlagSet) {
	fs.StringVar(&f.repo, "repo", "", "Git repository URL: https://…, ssh://…, git@host:path or file:///…")
	fs.StringVar(&f.branch, "branch", "", "branch whose commits are built and deployed (default main)")
	fs.StringVar(&f.dockerfile, "dockerfile", "", "path of the Dockerfile in the repository (default Dockerfile)")
	fs.StringVar(&f.context, "context", "", "build context directory in the repository (default .)")
	fs.StringVar(&f.typ, "type", "", "what it is: "+strings.Join(api.ComponentTypes, ", ")+" (default service)")
	fs.StringSliceVar(&f.paths, "path", nil, "only pushes changing a file matching this build automatically: a path.Match pattern or a directory ending in / (repeatable or comma-separated; '' clears)")
	fs.BoolVar(&f.autoBuild, "auto-build", false, "build every commit pushed to the branch (through the repository's webhook)")
	fs.BoolVar(&f.autoDeploy, "auto-deploy", false, "deploy every successful build to the project's first environment")
}

// fields are the settings given on the command line (and only those), as the API's body: a map, since a field
// of api.ComponentFields left nil would be sent as null, which resets it.
func (f *componentFlags) fields(fs *pflag.FlagSet) map[string]any {
	out := map[string]any{}
	fs.Visit(func(fl *pflag.Flag) {
		switch fl.Name {
		case "repo":
			out["repo"] = f.repo
		case "branch":
			out["branch"] = f.branch
		case "dockerfile":
			out["dockerfile"] = f.dockerfile
		case "context":
			out["context"] = f.context
		case "type":
			out["type"] = f.typ
		case "path":
			out["paths"] = nonEmpty(f.paths)
		case "auto-build":
			out["autoBuild"] = f.autoBuild
		case "auto-deploy":
			out["autoDeploy"] = f.autoDeploy
		}
	})
	return out
}

func (r *runner) componentCmd() *cobra.Command {
	return group("component", "components: create, list, get, set, delete",
		r.componentCreateCmd(), r.componentListCmd(), r.componentGetCmd(), r.componentSetCmd(), r.componentDeleteCmd())
}

func (r *runner) componentCreateCmd() *cobra.Command {
	var f componentFlags
	cmd := &cobra.Command{Use: "create <project>/<component> --repo URL", Short: "add a component: a Git repository and branch, built from its Dockerfile",
		Args: args("<project>/<component>"), ValidArgsFunction: r.completeProjectSlash}
	cf := addClientFlags(cmd.Flags())
	f.add(cmd.Flags())
	_ = cmd.MarkFlagRequired("repo")
	cmd.RunE = func(cmd *cobra.Command, pos []string) error {
		p, name, err := splitPair(pos[0], "<project>/<component>")
		if err != nil {
			return err
		}
		c, err := cf.connect()
		if err != nil {
			return err
		}
		body := f.fields(cmd.Flags())
		body["name"] = name
		var out api.ComponentResponse
		if err := c.do(cmd.Context(), http.MethodPost, projectPath(p)+"/components", body, &out); err != nil {
			return err
		}
		fmt.Fprintf(r.stderr, "created component %s/%s (%s, branch %s)\n", out.Project, out.Name, out.Repo, out.Branch)
		r.printWebhook(out.Webhook)
		return nil
	}
	return cmd
}

func (r *runner) componentSetCmd() *cobra.Command {
	var f componentFlags
	cmd := &cobra.Command{Use: "set <project>/<component> [flags]", Short: "change the settings given (and only those) of a component",
		Args: args("<project>/<component>"), ValidArgsFunction: r.completeComponents}
	cf := addClientFlags(cmd.Flags())
	f.add(cmd.Flags())
	output := outputFlag(cmd)
	cmd.RunE = func(cmd *cobra.Command, pos []string) error {
		path, err := componentPath(pos[0])
		if err != nil {
			return err
		}
		body := f.fields(cmd.Flags())
		if len(body) == 0 {
			return usagef("nothing to set")
		}
		c, err := cf.connect()
		if err != nil {
			return err
		}
		var out api.ComponentResponse
		if err := c.do(cmd.Context(), http.MethodPatch, path, body, &out); err != nil {
			return err
		}
		if err := r.print(*output, out, func(w io.Writer) { componentTable(w, []api.Component{out.Component}) }); err != nil {
			return err
		}
		r.printWebhook(out.Webhook)
		return nil
	}
	return cmd
}

// printWebhook tells on stderr how a repository's pushes reach slipway, when that needs doing by hand.
func (r *runner) printWebhook(w *api.Webhook) {
	switch {
	case w == nil:
	case w.Registered:
		fmt.Fprintf(r.stderr, "webhook registered on the repository: %s\n", w.URL)
	default:
		fmt.Fprintf(r.stderr, "webhook: %s\n", w.Note)
		fmt.Fprintf(r.stderr, "  URL     %s\n", w.URL)
		if w.Secret != "" {
			fmt.Fprintf(r.stderr, "  secret  %s\n", w.Secret)
		}
	}
}

func (r *runner) componentListCmd() *cobra.Command {
	return readList(r, readVerb[[]api.Component]{use: "list <project>", short: "list a project's components", args: args("<project>"),
		complete: r.completeProjects, path: atProject("/components"), table: componentTable})
}

func (r *runner) componentGetCmd() *cobra.Command {
	return readOne(r, readVerb[api.Component]{use: "get <project>/<component>", short: "show a component's settings",
		args: args("<project>/<component>"), complete: r.completeComponents, path: atComponent(""),
		table: func(w io.Writer, comp api.Component) {
			paths := "(every push)"
			if len(comp.Paths) > 0 {
				paths = strings.Join(comp.Paths, ", ")
			}
			for _, kv := range [][2]string{
				{"component", comp.Project + "/" + comp.Name}, {"repo", comp.Repo}, {"branch", comp.Branch},
				{"dockerfile", comp.Dockerfile}, {"context", comp.Context}, {"auto-build", yesNo(comp.AutoBuild)},
				{"paths", paths}, {"auto-deploy", yesNo(comp.AutoDeploy)}, {"updated", comp.UpdatedAt.Format(time.RFC3339)},
			} {
				fmt.Fprintf(w, "%s:\t%s\n", kv[0], kv[1])
			}
		}})
}

// componentTable writes components as a table.
func componentTable(w io.Writer, comps []api.Component) {
	fmt.Fprintln(w, "COMPONENT\tTYPE\tREPO\tBRANCH\tDOCKERFILE\tCONTEXT\tAUTO-BUILD\tAUTO-DEPLOY")
	for _, c := range comps {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", c.Name, c.Type, c.Repo, c.Branch, c.Dockerfile, c.Context, yesNo(c.AutoBuild), yesNo(c.AutoDeploy))
	}
}

func (r *runner) componentDeleteCmd() *cobra.Command {
	var force bool
	cmd := &cobra.Command{Use: "delete <project>/<component>", Short: "delete a component with its builds' records, configs and secrets",
		Args: args("<project>/<component>"), ValidArgsFunction: r.completeComponents}
	cf := addClientFlags(cmd.Flags())
	cmd.Flags().BoolVar(&force, "force", false, "remove what still runs first (else a component with running releases is refused)")
	cmd.RunE = func(cmd *cobra.Command, pos []string) error {
		path, c, err := cf.component(pos[0])
		if err != nil {
			return err
		}
		if err := c.do(cmd.Context(), http.MethodDelete, path+forceQuery(force), nil, nil); err != nil {
			return err
		}
		fmt.Fprintf(r.stderr, "deleted component %s\n", pos[0])
		return nil
	}
	return cmd
}

func (r *runner) webhookCmd() *cobra.Command {
	show := readOne(r, readVerb[api.Webhook]{use: "show <project>/<component>", short: "where the repository's pushes are delivered (never the secret)",
		args: args("<project>/<component>"), complete: r.completeComponents, path: atComponent("/webhook"),
		table: func(w io.Writer, h api.Webhook) {
			fmt.Fprintf(w, "url:\t%s\n", h.URL)
			fmt.Fprintf(w, "registered:\t%s\n", yesNo(h.Registered))
			if h.Note != "" {
				fmt.Fprintf(w, "note:\t%s\n", h.Note)
			}
		}})
	return group("webhook", "a component's repository webhook: show", show)
}

func (r *runner) repoCredentialCmd() *cobra.Command {
	var username, tokenFile, keyFile, knownHostsFile, passFile string
	set := &cobra.Command{Use: "set <project>/<component> [flags]",
		Short: "store the credential slipway clones a private repository with (replaces the whole credential)",
		Long: "Store the credential slipway clones a private repository with: a token for https (read from --token-file, " +
			"else from stdin or a prompt without echo) or an SSH key for ssh (--ssh-key-file with --known-hosts-file). " +
			"It is sealed and never shown again; it replaces the whole credential.",
		Args: args("<project>/<component>"), ValidArgsFunction: r.completeComponents}
	cf := addClientFlags(set.Flags())
	set.Flags().StringVar(&username, "username", "", "user name going with the token (default x-access-token)")
	set.Flags().StringVar(&tokenFile, "token-file", "", "`file` holding the access token of an https repository")
	set.Flags().StringVar(&keyFile, "ssh-key-file", "", "PEM private key `file` of an ssh repository")
	set.Flags().StringVar(&passFile, "ssh-key-passphrase-file", "", "`file` holding the passphrase of an encrypted --ssh-key-file")
	set.Flags().StringVar(&knownHostsFile, "known-hosts-file", "", "known_hosts `file` with the ssh server's host keys (required with --ssh-key-file)")
	set.RunE = func(cmd *cobra.Command, pos []string) error {
		path, err := componentPath(pos[0])
		if err != nil {
			return err
		}
		req := api.RepoCredentialRequest{Username: username}
		if keyFile != "" {
			for _, f := range []struct {
				flag, file string
				dst        *string
			}{{"--ssh-key-file", keyFile, &req.SSHKey}, {"--ssh-key-passphrase-file", passFile, &req.SSHKeyPassphrase}, {"--known-hosts-file", knownHostsFile, &req.KnownHosts}} {
				if f.file == "" {
					continue
				}
				if *f.dst, err = readFile(f.flag, f.file); err != nil {
					return err
				}
			}
		} else if req.Token, err = r.secretValue(tokenFile, "access token of the repository"); err != nil {
			return err
		}
		c, err := cf.connect()
		if err != nil {
			return err
		}
		var out api.RepoCredential
		if err := c.do(cmd.Context(), http.MethodPut, path+"/repo-credentials", req, &out); err != nil {
			return err
		}
		fmt.Fprintf(r.stderr, "repository credential of %s stored (token %s, ssh key %s, known hosts %s)\n", pos[0],
			yesNo(out.Token), yesNo(out.SSHKey), yesNo(out.KnownHosts))
		return nil
	}
	del := &cobra.Command{Use: "delete <project>/<component>", Short: "forget the credential: the repository is cloned anonymously again",
		Args: args("<project>/<component>"), ValidArgsFunction: r.completeComponents}
	dcf := addClientFlags(del.Flags())
	del.RunE = func(cmd *cobra.Command, pos []string) error {
		path, c, err := dcf.component(pos[0])
		if err != nil {
			return err
		}
		if err := c.do(cmd.Context(), http.MethodDelete, path+"/repo-credentials", nil, nil); err != nil {
			return err
		}
		fmt.Fprintf(r.stderr, "repository credential of %s deleted\n", pos[0])
		return nil
	}
	return group("repo-credential", "a component's private repository credential: set, delete", set, del)
}
