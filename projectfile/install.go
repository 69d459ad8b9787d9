package projectfile

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"github.com/slipway-dev/slipway/api"
)

// installed is one project as the install has it.
type installed struct {
	// project is the project itself.
	project api.Project
	// envs are its environments in promotion order.
	envs []api.Environment
	// comps are its components, by name.
	comps []api.Component
	// configs are the configs and secrets of each component in each environment: component → environment →
	// configs, by key.
	configs map[string]map[string][]api.Config
}

// readProject reads project name, with its environments, components and their configs; nil (and no error) when
// there is no such project.
func readProject(ctx context.Context, c Client, name string) (*installed, error) {
	var p api.ProjectResponse
	if err := c.Do(ctx, http.MethodGet, apiPath("projects", name), nil, &p); err != nil {
		if isNotFound(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("reading project %s: %w", name, err)
	}
	in := &installed{project: p.Project, envs: p.Environments, configs: map[string]map[string][]api.Config{}}
	var comps api.Page[api.Component]
	if err := c.Do(ctx, http.MethodGet, apiPath("projects", name, "components"), nil, &comps); err != nil {
		return nil, fmt.Errorf("reading the components of project %s: %w", name, err)
	}
	in.comps = comps.Items
	for _, comp := range in.comps {
		in.configs[comp.Name] = map[string][]api.Config{}
		for _, env := range in.envs {
			var cfgs api.Page[api.Config]
			path := apiPath("projects", name, "components", comp.Name, "environments", env.Name, "configs")
			if err := c.Do(ctx, http.MethodGet, path, nil, &cfgs); err != nil {
				return nil, fmt.Errorf("reading the configs of %s/%s in %s: %w", name, comp.Name, env.Name, err)
			}
			in.configs[comp.Name][env.Name] = cfgs.Items
		}
	}
	return in, nil
}

// projectNames is the name of every project of the install, by name.
func projectNames(ctx context.Context, c Client) ([]string, error) {
	var names []string
	cursor := ""
	for {
		path := apiPath("projects") + "?limit=500"
		if cursor != "" {
			path += "&cursor=" + url.QueryEscape(cursor)
		}
		var page api.Page[api.Project]
		if err := c.Do(ctx, http.MethodGet, path, nil, &page); err != nil {
			return nil, fmt.Errorf("listing projects: %w", err)
		}
		for _, p := range page.Items {
			names = append(names, p.Name)
		}
		if page.Next == "" {
			return names, nil
		}
		cursor = page.Next
	}
}
