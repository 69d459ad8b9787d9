package projectfile

import (
	"context"
	"maps"
	"net/http"
	"slices"

	"github.com/slipway-dev/slipway/api"
)

// configs adds the changes that make the configs of want in each of envs, have (environment → configs; nil for
// a new component), the declared ones, and warns about the declared secrets that are not set. With Prune it
// deletes the non-secret configs the file leaves out; it never writes or deletes a secret.
func (d *differ) configs(want Component, have map[string][]api.Config, envs []string) {
	p := d.project
	for _, env := range envs {
		ref := p.Name + "/" + want.Name + "/" + env
		byKey := map[string]api.Config{}
		for _, c := range have[env] {
			byKey[c.Key] = c
		}
		values := want.Configs[env]
		for _, key := range slices.Sorted(maps.Keys(values)) {
			value := values[key]
			path := field(want.path, "configs."+env+"."+key)
			cur, ok := byKey[key]
			switch {
			case ok && cur.Secret:
				d.warnf("config %s %s is a secret in the install; the file gives it a plain value, which is not written (delete the secret to make it a config)", ref, key)
				continue
			case ok && cur.Value != nil && *cur.Value == value:
				continue
			}
			text := "+ config " + ref + " " + key + " = " + show(value)
			doing := "setting config " + ref + " " + key
			if ok {
				old := ""
				if cur.Value != nil {
					old = *cur.Value
				}
				text = "~ config " + ref + " " + key + ": " + show(old) + " → " + show(value)
			}
			d.add(Change{text: text, stage: stageConfig, path: path, doing: doing, run: putConfig(p.Name, want.Name, env, key, value)})
		}
		secrets := want.Secrets[env]
		for _, key := range secrets {
			cur, ok := byKey[key]
			switch {
			case !ok:
				d.warnf("secret %s %s is not set (slipway secret set %s/%s %s --env %s)", ref, key, p.Name, want.Name, key, env)
			case !cur.Secret:
				d.warnf("secret %s %s is set as a plain config, not a secret (slipway secret set %s/%s %s --env %s)", ref, key, p.Name, want.Name, key, env)
			}
		}
		if !d.opts.Prune {
			continue
		}
		for _, c := range have[env] {
			if _, declared := values[c.Key]; declared || c.Secret || slices.Contains(secrets, c.Key) {
				continue
			}
			d.add(Change{text: "- config " + ref + " " + c.Key, stage: stageConfigDelete, doing: "deleting config " + ref + " " + c.Key,
				run: func(ctx context.Context, cl Client) (*Webhook, error) {
					return nil, cl.Do(ctx, http.MethodDelete, configPath(p.Name, want.Name, env, c.Key), nil, nil)
				}})
		}
	}
}

// putConfig is the run of a change that puts the non-secret config key of component comp of project p in env.
func putConfig(p, comp, env, key, value string) func(context.Context, Client) (*Webhook, error) {
	// No "secret": a new key is a plain config, and a key made a secret since Diff read it stays one.
	req := api.ConfigRequest{Value: &value}
	return func(ctx context.Context, c Client) (*Webhook, error) {
		return nil, c.Do(ctx, http.MethodPut, configPath(p, comp, env, key), req, nil)
	}
}

// configPath is the API path of config key of component comp of project p in env.
func configPath(p, comp, env, key string) string {
	return apiPath("projects", p, "components", comp, "environments", env, "configs", key)
}
