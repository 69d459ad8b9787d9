package projectfile

import (
	"cmp"
	"context"
	"net/http"
	"slices"
	"strings"

	"github.com/slipway-dev/slipway/api"
)

// components adds the changes that make the install's components (and their configs in envs, the project's
// environments to be) the declared ones, and with Prune deletes those the file leaves out.
func (d *differ) components(in *installed, envs []string) {
	p := d.project
	byName := map[string]api.Component{}
	for _, c := range in.comps {
		byName[c.Name] = c
	}
	for _, want := range p.Components {
		ref := p.Name + "/" + want.Name
		have, ok := byName[want.Name]
		if !ok {
			fields := componentFields(api.Component{}, want, true)
			d.add(Change{text: "+ component " + ref, stage: stageComponent, path: want.path, doing: "creating component " + ref,
				run: func(ctx context.Context, c Client) (*Webhook, error) {
					var resp api.ComponentResponse
					err := c.Do(ctx, http.MethodPost, apiPath("projects", p.Name, "components"), fields, &resp)
					return webhookOf(ref, resp.Webhook), err
				}})
		} else if cs := componentChanges(have, want); len(cs) > 0 {
			fields := componentFields(have, want, false)
			d.add(Change{text: "~ component " + ref + ": " + strings.Join(cs, ", "), stage: stageComponent, path: want.path,
				doing: "changing component " + ref,
				run: func(ctx context.Context, c Client) (*Webhook, error) {
					var resp api.ComponentResponse
					err := c.Do(ctx, http.MethodPatch, apiPath("projects", p.Name, "components", want.Name), fields, &resp)
					if !have.AutoBuild && want.AutoBuild {
						return webhookOf(ref, resp.Webhook), err
					}
					return nil, err
				}})
		}
		d.configs(want, in.configs[want.Name], envs)
	}
	if !d.opts.Prune {
		return
	}
	for _, have := range in.comps {
		if slices.ContainsFunc(p.Components, func(c Component) bool { return c.Name == have.Name }) {
			continue
		}
		ref := p.Name + "/" + have.Name
		d.add(Change{text: "- component " + ref, stage: stageComponentDelete, doing: "deleting component " + ref,
			run: func(ctx context.Context, c Client) (*Webhook, error) {
				return nil, c.Do(ctx, http.MethodDelete, apiPath("projects", p.Name, "components", have.Name), nil, nil)
			}})
	}
}

// webhookOf is the webhook h of component ref; nil when h is.
func webhookOf(ref string, h *api.Webhook) *Webhook {
	if h == nil {
		return nil
	}
	return &Webhook{Component: ref, Webhook: *h}
}

// wanted is c with the API's defaults in place of the fields it leaves out.
func wanted(c Component) Component {
	c.Branch = cmp.Or(c.Branch, defaultBranch)
	c.Dockerfile = cmp.Or(c.Dockerfile, defaultDockerfile)
	c.Context = cmp.Or(c.Context, defaultContext)
	c.Type = cmp.Or(c.Type, defaultType)
	return c
}

// componentChanges are the fields of have that differ from want, as "field old → new".
func componentChanges(have api.Component, want Component) []string {
	want = wanted(want)
	var cs changes
	add(&cs, "repo", have.Repo, want.Repo)
	add(&cs, "branch", have.Branch, want.Branch)
	add(&cs, "dockerfile", have.Dockerfile, want.Dockerfile)
	add(&cs, "context", have.Context, want.Context)
	add(&cs, "type", cmp.Or(have.Type, defaultType), want.Type)
	if !slices.Equal(have.Paths, want.Paths) {
		cs = append(cs, "paths "+show(have.Paths)+" → "+show(want.Paths))
	}
	add(&cs, "autoBuild", have.AutoBuild, want.AutoBuild)
	add(&cs, "autoDeploy", have.AutoDeploy, want.AutoDeploy)
	return cs
}

// componentFields is the body that makes have as want says: every field for a POST (create), only those that
// differ for a PATCH. It is a map, not an api.ComponentFields: that type's absent fields encode as null, which in
// a PATCH (a JSON merge patch) resets them.
func componentFields(have api.Component, want Component, create bool) map[string]any {
	want = wanted(want)
	f := map[string]any{}
	set := func(name string, differs bool, v any) {
		if create || differs {
			f[name] = v
		}
	}
	if create {
		f["name"] = want.Name
	}
	set("repo", have.Repo != want.Repo, want.Repo)
	set("branch", have.Branch != want.Branch, want.Branch)
	set("dockerfile", have.Dockerfile != want.Dockerfile, want.Dockerfile)
	set("context", have.Context != want.Context, want.Context)
	set("type", cmp.Or(have.Type, defaultType) != want.Type, want.Type)
	set("paths", !slices.Equal(have.Paths, want.Paths), append([]string{}, want.Paths...)) // [] not null: null resets
	set("autoBuild", have.AutoBuild != want.AutoBuild, want.AutoBuild)
	set("autoDeploy", have.AutoDeploy != want.AutoDeploy, want.AutoDeploy)
	return f
}
