package server

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/slipway-dev/slipway/api"
	"github.com/slipway-dev/slipway/console"
	"github.com/slipway-dev/slipway/delivery"
	"github.com/slipway-dev/slipway/store"
)

// The console's release governance: a project's promotion requests, one request's page, and what holds an
// environment (approvals, stopped lines, freeze windows). Their decisions are the REST API's own routes
// (POST /api/v1/promotions/{id}/approve|reject|cancel|break-glass), called by console.js as every write is.

// consolePromotionsPerPage is how many requests the Promotions page lists in each of its parts.
const consolePromotionsPerPage = 50

// waitingPromotions is the project's (or, with component, its component's) requests that wait for approvals or
// a freeze window, newest first.
func (s *Server) waitingPromotions(ctx context.Context, project, component string) ([]store.Promotion, error) {
	var out []store.Promotion
	for _, status := range []string{api.PromotionPendingApproval, api.PromotionWaitingWindow} {
		ps, err := s.store.ListPromotions(ctx, project, component, status, consolePromotionsPerPage)
		if err != nil {
			return nil, err
		}
		out = append(out, ps...)
	}
	slices.SortStableFunc(out, func(a, b store.Promotion) int { return b.CreatedAt.Compare(a.CreatedAt) })
	return out, nil
}

// projectNav is the tabs of project's pages with tab current.
func (s *Server) projectNav(ctx context.Context, project string, tab console.ProjectTab) (console.ProjectNav, error) {
	waiting, err := s.waitingPromotions(ctx, project, "")
	if err != nil {
		return console.ProjectNav{}, err
	}
	return console.ProjectNav{Project: project, Tab: tab, Waiting: len(waiting)}, nil
}

// quarantinesOf is the quarantines of those of the builds that are quarantined, by build ID.
func (s *Server) quarantinesOf(ctx context.Context, ids ...string) (map[string]*api.Quarantine, error) {
	qs, err := s.store.Quarantines(ctx, ids...)
	if err != nil {
		return nil, err
	}
	out := make(map[string]*api.Quarantine, len(qs))
	for id, q := range qs {
		out[id] = &q
	}
	return out, nil
}

// promotionRows is ps as the Promotions page lists them, with their builds' quarantines.
func (s *Server) promotionRows(c echo.Context, ps []store.Promotion, withDiff bool) ([]console.PromotionRow, error) {
	quarantined, err := s.quarantinesOf(c.Request().Context(), mapSlice(ps, func(p store.Promotion) string { return p.BuildID })...)
	if err != nil {
		return nil, err
	}
	out := make([]console.PromotionRow, 0, len(ps))
	for _, p := range ps {
		v, err := s.promotionOf(c, p, withDiff)
		if err != nil {
			return nil, err
		}
		row := console.PromotionRow{Promotion: v, Quarantine: quarantined[p.BuildID]}
		for _, d := range v.Decisions {
			if d.Decision == api.DecisionApprove {
				row.Approved = append(row.Approved, d.Actor)
			} else {
				row.Rejected = append(row.Rejected, d.Actor)
			}
		}
		out = append(out, row)
	}
	return out, nil
}

func projectPath(project string) string { return "/projects/" + url.PathEscape(project) }

// promotionsPage is GET /projects/{p}/promotions[?component=]: the requests that wait first, then the latest
// others.
func (s *Server) promotionsPage(c echo.Context) error {
	ctx := c.Request().Context()
	p, err := s.store.GetProject(ctx, c.Param("project"))
	if err != nil {
		return err
	}
	component := c.QueryParam("component")
	if component != "" {
		if _, err := s.store.GetComponent(ctx, p.Name, component); err != nil {
			return err
		}
	}
	waiting, err := s.waitingPromotions(ctx, p.Name, component)
	if err != nil {
		return err
	}
	latest, err := s.store.ListPromotions(ctx, p.Name, component, "", consolePromotionsPerPage)
	if err != nil {
		return err
	}
	latest = slices.DeleteFunc(latest, func(r store.Promotion) bool {
		return r.Status == api.PromotionPendingApproval || r.Status == api.PromotionWaitingWindow
	})
	l := layout(c, p.Name+" · Promotions", console.Crumb{Label: p.Name, Href: projectPath(p.Name)}, console.Crumb{Label: "Promotions"})
	l.FollowProject = p.Name
	out := console.PromotionsPage{Layout: l, Component: component,
		Nav: console.ProjectNav{Project: p.Name, Tab: console.TabPromotions}}
	if out.Waiting, err = s.promotionRows(c, waiting, false); err != nil {
		return err
	}
	if out.Recent, err = s.promotionRows(c, latest, false); err != nil {
		return err
	}
	if component == "" {
		out.Nav.Waiting = len(waiting)
	} else if out.Nav, err = s.projectNav(ctx, p.Name, console.TabPromotions); err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "promotions", out)
}

// promotionPage is GET /projects/{p}/promotions/{id}: one request with its diff, re-scan and decisions, and the
// forms that decide it. ?requested=1 (where the console goes after asking for it) says it was requested.
func (s *Server) promotionPage(c echo.Context) error {
	ctx := c.Request().Context()
	p, err := s.store.GetPromotion(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	if p.Project != c.Param("project") {
		return &APIError{Status: http.StatusNotFound, Code: "not_found",
			Message: "project " + c.Param("project") + " has no promotion request " + p.ID}
	}
	env, err := delivery.Environment(ctx, s.store, p.Project, p.Environment)
	if err != nil {
		return err
	}
	rows, err := s.promotionRows(c, []store.Promotion{p}, true)
	if err != nil {
		return err
	}
	nav, err := s.projectNav(ctx, p.Project, console.TabPromotions)
	if err != nil {
		return err
	}
	l := layout(c, "Promotion "+p.ID, console.Crumb{Label: p.Project, Href: projectPath(p.Project)},
		console.Crumb{Label: "Promotions", Href: projectPath(p.Project) + "/promotions"}, console.Crumb{Label: p.ID})
	l.FollowProject = p.Project
	if c.QueryParam("requested") != "" {
		l.Flash = "Promotion request " + p.ID + " created"
		if p.Message != "" {
			l.Flash += ": " + p.Message
		}
		l.Flash += "."
	}
	who, rule := actor(c), delivery.ApprovalOf(env)
	out := console.PromotionPage{Layout: l, Nav: nav, Promotion: rows[0], Approvers: rule.Approvers}
	out.MayDecide = l.User.CanWrite && p.Status == api.PromotionPendingApproval
	out.OwnRequest = p.Requester == who.Name
	out.NotApprover = !rule.MayApprove(who)
	switch p.Status {
	case api.PromotionPendingApproval, api.PromotionWaitingWindow, api.PromotionQueued:
		out.MayCancel = l.User.CanWrite && (out.OwnRequest || l.User.Admin)
	}
	out.MayBreakGlass = l.User.Admin && !api.PromotionEnded(p.Status) && p.Status != api.PromotionDeploying
	return s.render(c, http.StatusOK, "promotion", out)
}

// projectStop is the project's stopped line; nil when it runs.
func (s *Server) projectStop(ctx context.Context, project string) (*api.Stop, error) {
	st, stopped, err := s.store.ProjectStop(ctx, project)
	if err != nil || !stopped {
		return nil, err
	}
	return &st, nil
}

// gateOf is what holds promotions and deploys into env at t, given its project's stopped line (nil: it runs):
// the approvals they wait for, the stopped line first, else the freeze window open at t.
func gateOf(env store.Environment, projectStop *api.Stop, t time.Time) console.Gate {
	var g console.Gate
	if rule := delivery.ApprovalOf(env); rule.Required {
		g.Approvals, g.Approvers = rule.MinApprovals, rule.Approvers
	}
	switch {
	case projectStop != nil:
		g.Stopped, g.ProjectStopped = projectStop, true
	case env.Rules.Stopped != nil:
		g.Stopped = env.Rules.Stopped
	default:
		if f, ok := delivery.FrozenAt(env, nil, t); ok && !f.Until.IsZero() {
			g.Frozen, g.FrozenUntil = f.Reason, &f.Until
		}
	}
	return g
}
