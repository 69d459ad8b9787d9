package cli

import (
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/spf13/cobra"

	"github.com/slipway-dev/slipway/api"
	"github.com/slipway-dev/slipway/secretbox"
)

func (r *runner) tokenCmd() *cobra.Command {
	var name, role string
	create := &cobra.Command{Use: "create --name N --role admin|developer|viewer", Short: "mint an API token (admin only); it is printed once",
		Args: args()}
	cf := addClientFlags(create.Flags())
	create.Flags().StringVar(&name, "name", "", "token name (required, unique)")
	create.Flags().StringVar(&role, "role", "developer", "admin, developer or viewer")
	_ = create.MarkFlagRequired("name")
	_ = create.RegisterFlagCompletionFunc("role", cobra.FixedCompletions([]string{"admin", "developer", "viewer"}, cobra.ShellCompDirectiveNoFileComp))
	create.RunE = func(cmd *cobra.Command, _ []string) error {
		c, err := cf.connect()
		if err != nil {
			return err
		}
		var out api.CreatedToken
		if err := c.do(cmd.Context(), http.MethodPost, "/api/v1/tokens", api.TokenRequest{Name: name, Role: role}, &out); err != nil {
			return err
		}
		fmt.Fprintf(r.stderr, "created token %q (role %s); it is shown once:\n", out.Name, out.Role)
		fmt.Fprintln(r.stdout, out.Token)
		return nil
	}

	list := readList(r, readVerb[[]api.Token]{use: "list", short: "list the API tokens (admin only): names and roles, never the tokens", args: args(),
		path: func([]string) (string, error) { return "/api/v1/tokens", nil },
		table: func(w io.Writer, tokens []api.Token) {
			fmt.Fprintln(w, "ID\tNAME\tROLE\tCREATED")
			for _, t := range tokens {
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", t.ID, t.Name, t.Role, t.CreatedAt.Format(time.RFC3339))
			}
		}})
	return group("token", "API tokens: create, list", create, list)
}

func (r *runner) keysCmd() *cobra.Command {
	var path string
	create := &cobra.Command{Use: "create --kek-file F", Short: "create a key file holding a new key-encryption key (0600)", Args: args()}
	create.Flags().StringVar(&path, "kek-file", "", "key file to create (0600)")
	_ = create.MarkFlagRequired("kek-file")
	create.RunE = func(*cobra.Command, []string) error {
		k, err := secretbox.LoadOrCreateKeyring(path)
		if err != nil {
			return err
		}
		fmt.Fprintf(r.stdout, "%s holds active KEK %s\n", path, k.ActiveID())
		return nil
	}

	var file, kek string
	rotate := &cobra.Command{Use: "rotate [--kek-file F | --kek ID]", Short: "rotate the key-encryption key: re-wrap every data key", Args: args()}
	cf := addClientFlags(rotate.Flags())
	rotate.Flags().StringVar(&file, "kek-file", "", "add a KEK to this key file here, without a server (then give the file to every process and run keys rotate --kek ID)")
	rotate.Flags().StringVar(&kek, "kek", "", "re-wrap every data key with this KEK, already in every process's key file")
	rotate.RunE = func(cmd *cobra.Command, _ []string) error {
		if file != "" {
			k, err := secretbox.LoadKeyring(file)
			if err != nil {
				return err
			}
			id, err := k.Rotate()
			if err != nil {
				return err
			}
			fmt.Fprintf(r.stdout, "%s now holds active KEK %s; give this file to every slipway process, then run: slipway keys rotate --kek %s\n", file, id, id)
			return nil
		}
		c, err := cf.connect()
		if err != nil {
			return err
		}
		var body any
		if kek != "" {
			body = api.RotateRequest{KEK: kek}
		}
		var out api.Rotation
		if err := c.do(cmd.Context(), http.MethodPost, "/api/v1/keys/rotate", body, &out); err != nil {
			return err
		}
		fmt.Fprintf(r.stdout, "active KEK is now %s; re-wrapped %d data keys\n", out.Active, out.Rewrapped)
		return nil
	}
	return group("keys", "key-encryption keys: create, rotate", create, rotate)
}
