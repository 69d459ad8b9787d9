package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/slipway-dev/slipway/api"
	"github.com/slipway-dev/slipway/console"
	"github.com/slipway-dev/slipway/delivery"
	"github.com/slipway-dev/slipway/descriptor"
	"github.com/slipway-dev/slipway/store"
)

// The web console's pages: rendered here from the same reads as the REST API (buildView, buildsPage,
// environmentDeployments, configsOf, …); every write a page offers is a REST call made by console.js (a
// promotion's decisions and a build's quarantine too), so it runs the API's use cases, role checks and audit.

// pageKey marks a request to a console page, so that handleError answers it with an HTML page.
const pageKey = "slipway.page"

// consoleBuildsPerPage is how many builds a component's Build Area lists per page.
const consoleBuildsPerPage = 20

// consoleRoutes registers the console's routes: the sign-in, the assets and the pages (each needs a session).
func (s *Server) consoleRoutes() {
	e := s.echo
	e.GET("/", func(c echo.Context) error { return c.Redirect(http.StatusSeeOther, "/projects") })
	e.GET("/sign-in", s.signInPage)
	e.POST("/sign-in", s.signIn)
	e.POST("/sign-out", s.signOut)
	assets := http.StripPrefix(console.AssetsPrefix, http.FileServerFS(console.Static()))
	e.GET(console.AssetsPrefix+"*", echo.WrapHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("v") == console.AssetVersion {
			w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		}
		assets.ServeHTTP(w, r)
	})))

	viewer, admin := s.page(roleViewer), s.page(roleAdmin)
	e.GET("/projects", s.projectsPage, viewer)
	e.GET("/projects/:project", s.projectPage, viewer)
	e.GET("/projects/:project/promotions", s.promotionsPage, viewer)
	e.GET("/projects/:project/dora", s.doraPage, viewer)
	e.GET("/projects/:project/promotions/:id", s.promotionPage, viewer)
	e.GET("/projects/:project/components/:component", s.buildAreaPage, viewer)
	e.GET("/projects/:project/components/:component/commits", s.commitsFragment, viewer)
	e.GET("/projects/:project/components/:component/deploy", s.deployPage, viewer)
	e.GET("/projects/:project/components/:component/configs", s.configsPage, viewer)
	e.GET("/builds/:id", s.buildPage, viewer)
	e.GET("/tokens", s.tokensPage, admin)
}

// page admits a request to a console page with a session whose role is at least least: without one the browser
// is sent to the sign-in (and back here after it). Errors become HTML pages (handleError).
func (s *Server) page(least role) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			c.Set(pageKey, true)
			h := c.Response().Header()
			h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "+
				"connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
			h.Set("X-Content-Type-Options", "nosniff")
			h.Set("Referrer-Policy", "same-origin")
			h.Set("Cache-Control", "no-store")
			sess, ok, err := s.sessionFromCookie(c)
			if err != nil {
				return err
			}
			if !ok {
				return c.Redirect(http.StatusSeeOther, "/sign-in?next="+url.QueryEscape(c.Request().URL.RequestURI()))
			}
			c.Set(sessionKey, sess)
			c.Set(tokenKey, sess.Token)
			if r, known := parseRole(sess.Token.Role); !known || r < least {
				return &APIError{Status: http.StatusForbidden, Code: "forbidden",
					Message: "token " + sess.Token.Name + " with role " + sess.Token.Role + " may not see this page"}
			}
			return next(c)
		}
	}
}

// layout is what every page of the signed-in session shows around its content.
func layout(c echo.Context, title string, crumbs ...console.Crumb) console.Layout {
	sess, _ := sessionOf(c)
	return console.Layout{
		Title:  title,
		User:   userOf(sess),
		CSRF:   sess.CSRF,
		Crumbs: append([]console.Crumb{{Label: "Projects", Href: "/projects"}}, crumbs...),
	}
}

// userOf is who sess is signed in as, and what the pages let them do.
func userOf(sess store.Session) console.User {
	r, _ := parseRole(sess.Token.Role)
	return console.User{Name: sess.Token.Name, Role: sess.Token.Role, CanWrite: r >= roleDeveloper, Admin: r >= roleAdmin}
}

// render writes page with data as the answer; a page that fails to render is an error (a 500), not half a page.
func (s *Server) render(c echo.Context, status int, page string, data any) error {
	var buf bytes.Buffer
	if err := s.pages.Render(&buf, page, data); err != nil {
		return err
	}
	return c.HTMLBlob(status, buf.Bytes())
}

// renderPageError answers a page request that failed with the error page.
func (s *Server) renderPageError(c echo.Context, e *APIError) error {
	l := layout(c, http.StatusText(e.Status))
	if _, ok := sessionOf(c); !ok {
		l = console.Layout{Title: http.StatusText(e.Status)}
	}
	return s.render(c, e.Status, "error", console.ErrorPage{Layout: l, Status: e.Status, Message: e.Message})
}

func (s *Server) signInPage(c echo.Context) error {
	if _, ok, err := s.sessionFromCookie(c); err == nil && ok {
		return c.Redirect(http.StatusSeeOther, localPath(c.QueryParam("next")))
	}
	return s.renderSignIn(c, http.StatusOK, "", localPath(c.QueryParam("next")))
}

func (s *Server) renderSignIn(c echo.Context, status int, msg, next string) error {
	c.Response().Header().Set("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'; form-action 'self'")
	return s.render(c, status, "signin", console.SignInPage{Layout: console.Layout{Title: "Sign in"}, Error: msg, Next: next})
}

func (s *Server) projectsPage(c echo.Context) error {
	ps, err := s.store.ListProjects(c.Request().Context(), "", maxPageSize)
	if err != nil {
		return err
	}
	l := layout(c, "Projects")
	l.Crumbs = nil
	return s.render(c, http.StatusOK, "projects", console.ProjectsPage{Layout: l, Projects: nonNil(projectsOf(ps))})
}

func (s *Server) projectPage(c echo.Context) error {
	ctx := c.Request().Context()
	p, err := s.store.GetProject(ctx, c.Param("project"))
	if err != nil {
		return err
	}
	envs, err := s.store.ListEnvironments(ctx, p.Name)
	if err != nil {
		return err
	}
	comps, err := s.store.ListComponents(ctx, p.Name)
	if err != nil {
		return err
	}
	nav, err := s.projectNav(ctx, p.Name, console.TabOverview)
	if err != nil {
		return err
	}
	stop, err := s.projectStop(ctx, p.Name)
	if err != nil {
		return err
	}
	out := console.ProjectPage{Layout: layout(c, p.Name, console.Crumb{Label: p.Name}), Nav: nav, Project: projectOf(p), Stop: stop}
	out.Project.ScanPolicy = p.ScanPolicy
	out.FollowProject = p.Name
	names := mapSlice(envs, func(e store.Environment) string { return e.Name })
	now := time.Now()
	for i, e := range envs {
		row := console.EnvironmentRow{Environment: environmentOf(e), Gate: gateOf(e, stop, now)}
		if i > 0 {
			row.Up = strings.Join(swapped(names, i, i-1), ",")
		}
		if i < len(envs)-1 {
			row.Down = strings.Join(swapped(names, i, i+1), ",")
		}
		out.Environments = append(out.Environments, row)
	}
	for _, comp := range comps {
		row := console.ComponentRow{Component: componentOf(comp)}
		if bs, err := s.store.ListBuilds(ctx, p.Name, comp.Name, "", 1); err != nil {
			return err
		} else if len(bs) > 0 {
			b := delivery.BuildOf(bs[0])
			row.LastBuild = &b
		}
		for _, e := range envs {
			cur, err := s.store.CurrentDeployment(ctx, p.Name, comp.Name, e.Name)
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			row.Running = append(row.Running, console.Running{Environment: e.Name, Deployment: deploymentOf(cur)})
		}
		out.Components = append(out.Components, row)
	}
	return s.render(c, http.StatusOK, "project", out)
}

// swapped is names with the elements at i and j swapped (a copy).
func swapped(names []string, i, j int) []string {
	out := slices.Clone(names)
	out[i], out[j] = out[j], out[i]
	return out
}

// componentPage reads what every tab of a component shows.
func (s *Server) componentPage(c echo.Context, tab console.Tab) (console.ComponentPage, store.Component, []store.Environment, error) {
	comp, envs, err := s.componentEnvironments(c)
	if err != nil {
		return console.ComponentPage{}, comp, nil, err
	}
	title := comp.Name
	switch tab {
	case console.TabDeploy:
		title += " · Deploy"
	case console.TabConfigs:
		title += " · Configs & secrets"
	}
	l := layout(c, title, console.Crumb{Label: comp.Project, Href: "/projects/" + url.PathEscape(comp.Project)}, console.Crumb{Label: comp.Name})
	l.FollowProject, l.FollowComponent = comp.Project, comp.Name
	return console.ComponentPage{Layout: l, Component: componentOf(comp), Environments: environmentsOf(envs), Tab: tab}, comp, envs, nil
}

func componentPath(comp store.Component) string {
	return "/projects/" + url.PathEscape(comp.Project) + "/components/" + url.PathEscape(comp.Name)
}

func (s *Server) buildAreaPage(c echo.Context) error {
	cp, comp, _, err := s.componentPage(c, console.TabBuild)
	if err != nil {
		return err
	}
	cursor := c.QueryParam("cursor")
	if cursor != "" {
		if b, err := s.store.GetBuild(c.Request().Context(), cursor); err != nil || b.Project != comp.Project || b.Component != comp.Name {
			cursor = "" // a stale or foreign cursor shows the newest builds
		}
	}
	builds, err := s.buildsPage(c.Request().Context(), comp.Project, comp.Name, cursor, consoleBuildsPerPage, nil)
	if err != nil {
		return err
	}
	quarantined, err := s.quarantinesOf(c.Request().Context(), mapSlice(builds.Items, func(b api.Build) string { return b.ID })...)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "component", console.BuildAreaPage{
		ComponentPage: cp, CommitsURL: componentPath(comp) + "/commits", Builds: builds, Cursor: cursor, Quarantined: quarantined,
	})
}

// commitsFragment is the Build Area's commit cards, read from the repository; an unreachable repository is said
// in the fragment, not as an error page.
func (s *Server) commitsFragment(c echo.Context) error {
	c.Set(pageKey, true)
	ctx := c.Request().Context()
	comp, envs, err := s.componentEnvironments(c)
	if err != nil {
		return err
	}
	sess, _ := sessionOf(c)
	out := console.CommitsFragment{CanWrite: userOf(sess).CanWrite, BuildsURL: "/api/v1" + componentPath(comp) + "/builds"}
	if len(envs) > 0 {
		out.FirstEnvironment = envs[0].Name
	}
	commits, err := s.builds.Commits(ctx, comp, 10)
	if err != nil {
		var refused *delivery.Error
		if !errors.As(err, &refused) {
			return err
		}
		out.Error = refused.Message
	}
	out.Commits = commits
	c.Response().Header().Set(echo.HeaderContentType, echo.MIMETextHTMLCharsetUTF8)
	return s.pages.Fragment(c.Response(), "component", "commits", out)
}

func (s *Server) buildPage(c echo.Context) error {
	ctx := c.Request().Context()
	b, err := s.store.GetBuild(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	v, err := s.buildView(ctx, b)
	if err != nil {
		return err
	}
	l := layout(c, "Build "+b.ID,
		console.Crumb{Label: b.Project, Href: "/projects/" + url.PathEscape(b.Project)},
		console.Crumb{Label: b.Component, Href: componentPath(store.Component{Project: b.Project, Name: b.Component})},
		console.Crumb{Label: b.ID})
	l.FollowProject, l.FollowComponent = b.Project, b.Component
	out := console.BuildPage{Layout: l, Build: v, Finished: buildFinished(b.Status), CanCancel: !buildFinished(b.Status) && l.User.CanWrite}
	quarantined, err := s.quarantinesOf(ctx, b.ID)
	if err != nil {
		return err
	}
	out.Quarantine = quarantined[b.ID]
	if ui := s.temporalUI.Load(); ui != nil && b.WorkflowID != "" {
		out.TemporalURL = *ui + "/namespaces/" + url.PathEscape(s.namespace) + "/workflows/" + url.PathEscape(b.WorkflowID)
		if b.RunID != "" {
			out.TemporalURL += "/" + url.PathEscape(b.RunID)
		}
	}
	if b.Scan != nil {
		r, err := s.store.GetBuildScan(ctx, b.ID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if err == nil {
			out.Scan = &r
		}
	}
	if b.Descriptor != nil {
		for _, e := range endpointsOf(b).Items {
			ep := console.Endpoint{Endpoint: e.Endpoint, SpecURL: e.SpecURL}
			if e.SpecURL != "" {
				sp, err := s.store.GetBuildSpec(ctx, b.ID, e.Name)
				if err != nil && !errors.Is(err, store.ErrNotFound) {
					return err
				}
				ep.Format, ep.Operations = sp.Format, operationsOf(sp)
			}
			out.Endpoints = append(out.Endpoints, ep)
		}
	}
	return s.render(c, http.StatusOK, "build", out)
}

// operationsOf lists the operations of an OpenAPI 3 or Swagger 2 spec by path, then method; nil for other
// formats or a document without paths.
func operationsOf(sp descriptor.Spec) []console.Operation {
	if sp.JSON == nil {
		return nil
	}
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if json.Unmarshal(sp.JSON, &doc) != nil {
		return nil
	}
	methods := []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}
	var out []console.Operation
	for path, item := range doc.Paths {
		for _, m := range methods {
			raw, ok := item[m]
			if !ok {
				continue
			}
			var op struct {
				Summary     string `json:"summary"`
				OperationID string `json:"operationId"`
			}
			_ = json.Unmarshal(raw, &op)
			if op.Summary == "" {
				op.Summary = op.OperationID
			}
			out = append(out, console.Operation{Method: strings.ToUpper(m), Path: path, Summary: op.Summary})
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Path != out[j].Path {
			return out[i].Path < out[j].Path
		}
		return slices.Index(methods, strings.ToLower(out[i].Method)) < slices.Index(methods, strings.ToLower(out[j].Method))
	})
	return out
}

func (s *Server) deployPage(c echo.Context) error {
	ctx := c.Request().Context()
	cp, comp, envs, err := s.componentPage(c, console.TabDeploy)
	if err != nil {
		return err
	}
	deps, err := s.environmentDeployments(ctx, comp, envs)
	if err != nil {
		return err
	}
	succeeded, err := s.buildsPage(ctx, comp.Project, comp.Name, "", consoleBuildsPerPage, map[string]bool{api.BuildSucceeded: true})
	if err != nil {
		return err
	}
	out := console.DeployPage{ComponentPage: cp, Builds: succeeded.Items, Task: api.IsTask(comp.Type)}
	schedules := map[string]api.TaskSchedule{}
	if out.Task {
		list, err := s.store.ListTaskSchedules(ctx, comp.Project, comp.Name)
		if err != nil {
			return err
		}
		for _, ts := range list {
			schedules[ts.Environment] = taskScheduleOf(ts)
		}
		runs, err := s.store.ListTaskRuns(ctx, comp.Project, comp.Name, "", "", consoleBuildsPerPage)
		if err != nil {
			return err
		}
		out.Runs = nonNil(mapSlice(runs, taskRunOf))
	}
	shown := mapSlice(succeeded.Items, func(b api.Build) string { return b.ID })
	for _, d := range deps {
		if d.Current != nil {
			shown = append(shown, d.Current.Build)
		}
	}
	if out.Quarantined, err = s.quarantinesOf(ctx, shown...); err != nil {
		return err
	}
	stop, err := s.projectStop(ctx, comp.Project)
	if err != nil {
		return err
	}
	now := time.Now()
	required := map[string][]api.RequiredConfig{} // build ID → what it requires
	for i, e := range envs {
		card := console.DeployCard{Environment: environmentOf(e), Deployments: deps[i], Gate: gateOf(e, stop, now)}
		if len(deps[i].History) > 0 {
			card.Last = &deps[i].History[0]
		}
		if cur := deps[i].Current; cur != nil {
			card.Quarantine = out.Quarantined[cur.Build]
		}
		// A writer asks for a deploy or promotion into an environment with approvals (an approver lets it
		// through); elsewhere production needs an admin.
		admin := cp.User.Admin
		mayDeploy := cp.User.CanWrite && delivery.MayDeployTo(e, admin, "deploying") == nil
		card.MayDeploy = mayDeploy || cp.User.CanWrite && delivery.ApprovalOf(e).Required
		if i+1 < len(envs) {
			next := envs[i+1]
			card.Next = next.Name
			if rule := delivery.ApprovalOf(next); rule.Required {
				card.NextApprovals = rule.MinApprovals
			}
			card.MayPromote = deps[i].Current != nil && cp.User.CanWrite &&
				(card.NextApprovals > 0 || delivery.MayDeployTo(next, admin, "promoting") == nil)
		}
		card.MayRun = out.Task && deps[i].Current != nil && mayDeploy
		if ts, ok := schedules[e.Name]; ok {
			card.Schedule = &ts
		}
		// What the build serving here (or, when none does, the newest succeeded one) requires that is not set.
		want := ""
		switch {
		case deps[i].Current != nil:
			want = deps[i].Current.Build
		case len(succeeded.Items) > 0:
			want = succeeded.Items[0].ID
		}
		if want != "" {
			req, ok := required[want]
			if !ok {
				if b, err := s.store.GetBuild(ctx, want); err == nil {
					req = delivery.BuildOf(b).Required
				}
				required[want] = req
			}
			if card.Missing, err = s.missingConfigs(ctx, comp, e.Name, req); err != nil {
				return err
			}
		}
		out.Cards = append(out.Cards, card)
	}
	return s.render(c, http.StatusOK, "deploy", out)
}

// missingConfigs is those of req that environment env of comp has no value for.
func (s *Server) missingConfigs(ctx context.Context, comp store.Component, env string, req []api.RequiredConfig) ([]api.RequiredConfig, error) {
	if len(req) == 0 {
		return nil, nil
	}
	vals, err := s.store.ListConfigs(ctx, comp.Project, comp.Name, env)
	if err != nil {
		return nil, err
	}
	var out []api.RequiredConfig
	for _, r := range req {
		if !slices.ContainsFunc(vals, func(v store.ConfigValue) bool { return v.Key == r.Name }) {
			out = append(out, r)
		}
	}
	return out, nil
}

func (s *Server) configsPage(c echo.Context) error {
	ctx := c.Request().Context()
	cp, comp, envs, err := s.componentPage(c, console.TabConfigs)
	if err != nil {
		return err
	}
	var required []api.RequiredConfig
	if newest, err := s.buildsPage(ctx, comp.Project, comp.Name, "", 1, map[string]bool{api.BuildSucceeded: true}); err != nil {
		return err
	} else if len(newest.Items) > 0 {
		required = newest.Items[0].Required
	}
	out := console.ConfigsPage{ComponentPage: cp}
	for _, e := range envs {
		cfgs, err := s.configsOf(ctx, comp.Project, comp.Name, e.Name)
		if err != nil {
			return err
		}
		set := console.ConfigSet{Environment: e.Name, Configs: cfgs}
		for _, r := range required {
			has := slices.ContainsFunc(cfgs, func(v api.Config) bool { return v.Key == r.Name })
			set.Required = append(set.Required, console.Requirement{RequiredConfig: r, Set: has})
		}
		out.Sets = append(out.Sets, set)
	}
	return s.render(c, http.StatusOK, "configs", out)
}

func (s *Server) tokensPage(c echo.Context) error {
	ts, err := s.store.ListTokens(c.Request().Context())
	if err != nil {
		return err
	}
	l := layout(c, "Tokens", console.Crumb{Label: "Tokens"})
	return s.render(c, http.StatusOK, "tokens", console.TokensPage{Layout: l, Tokens: tokensOf(ts)})
}
