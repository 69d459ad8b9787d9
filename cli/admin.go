package cli

import (
	"context"
	"fmt"
	"net/http"

	"github.com/slipway-dev/slipway/api"
	"github.com/slipway-dev/slipway/secretbox"
)

func runToken(ctx context.Context, r *runner, args []string) error {
	if len(args) == 0 || args[0] != "create" {
		return fmt.Errorf("usage: slipway token create --name N --role admin|developer|viewer")
	}
	fs := r.flags("token create")
	cf := addClientFlags(fs)
	var name, role string
	fs.StringVar(&name, "name", "", "token name (required, unique)")
	fs.StringVar(&role, "role", "developer", "admin, developer or viewer")
	if err := r.parse(fs, args[1:]); err != nil {
		return err
	}
	c, err := cf.connect()
	if err != nil {
		return err
	}
	var out api.CreatedToken
	if err := c.do(ctx, http.MethodPost, "/api/v1/tokens", api.TokenRequest{Name: name, Role: role}, &out); err != nil {
		return err
	}
	fmt.Fprintf(r.stderr, "created token %q (role %s); it is shown once:\n", out.Name, out.Role)
	fmt.Fprintln(r.stdout, out.Token)
	return nil
}

func runKeys(ctx context.Context, r *runner, args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("usage: slipway keys create --kek-file F | slipway keys rotate [--kek-file F | --kek ID]")
	}
	switch args[0] {
	case "create":
		fs := r.flags("keys create")
		var path string
		fs.StringVar(&path, "kek-file", "", "key file to create (0600)")
		if err := r.parse(fs, args[1:]); err != nil {
			return err
		}
		if err := required("--kek-file", path); err != nil {
			return err
		}
		k, err := secretbox.LoadOrCreateKeyring(path)
		if err != nil {
			return err
		}
		fmt.Fprintf(r.stdout, "%s holds active KEK %s\n", path, k.ActiveID())
		return nil
	case "rotate":
		fs := r.flags("keys rotate")
		cf := addClientFlags(fs)
		var file, kek string
		fs.StringVar(&file, "kek-file", "", "add a KEK to this key file here, without a server (then give the file to every process and run keys rotate --kek ID)")
		fs.StringVar(&kek, "kek", "", "re-wrap every data key with this KEK, already in every process's key file")
		if err := r.parse(fs, args[1:]); err != nil {
			return err
		}
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
		if err := c.do(ctx, http.MethodPost, "/api/v1/keys/rotate", body, &out); err != nil {
			return err
		}
		fmt.Fprintf(r.stdout, "active KEK is now %s; re-wrapped %d data keys\n", out.Active, out.Rewrapped)
		return nil
	default:
		return fmt.Errorf("unknown keys command %q: want create or rotate", args[0])
	}
}
