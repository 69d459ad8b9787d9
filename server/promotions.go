package server

import (
	"bufio"
	"encoding/json"
	"errors"
	"net/http"
	"path"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/slipway-dev/slipway/api"
	"github.com/slipway-dev/slipway/delivery"
	"github.com/slipway-dev/slipway/store"
)

// actor is the calling token as the use cases know it.
func actor(c echo.Context) delivery.Actor {
	t, _ := c.Get(tokenKey).(store.Token)
	return delivery.Actor{Name: t.Name, Role: t.Role}
}

// audit writes an audit entry for what the calling token did; a failure is logged, never answered.
func (s *Server) audit(c echo.Context, e store.AuditEntry) {
	if e.Actor == "" {
		e.Actor = tokenName(c)
	}
	if _, err := s.store.AppendAudit(c.Request().Context(), e); err != nil {
		s.log.ErrorContext(c.Request().Context(), "writing the audit log", "action", e.Action, "target", e.Target, "error", err)
	}
}

// promotionOf is p as the API shows it, with its deployment when it queued one.
func (s *Server) promotionOf(c echo.Context, p store.Promotion, withDiff bool) (api.Promotion, error) {
	v := api.Promotion{ID: p.ID, Status: p.Status, Project: p.Project, Component: p.Component, Environment: p.Environment,
		From: p.From, Build: p.BuildID, Digest: p.Digest, Requester: p.Requester, MinApprovals: p.MinApprovals,
		Decisions: p.Votes, BreakGlass: p.BreakGlass, WaitingUntil: p.WaitingUntil, Message: p.Message, Rescan: p.Rescan,
		CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt, ExpiresAt: p.ExpiresAt}
	if v.Decisions == nil {
		v.Decisions = []api.PromotionVote{}
	}
	if withDiff {
		v.Diff = p.Diff
	}
	if p.DeploymentID != "" {
		d, err := s.store.GetDeployment(c.Request().Context(), p.DeploymentID)
		if err == nil {
			dv := deploymentOf(d)
			v.Deployment = &dv
		} else if !errors.Is(err, store.ErrNotFound) {
			return api.Promotion{}, err
		}
	}
	return v, nil
}

// answerPromotion answers with the request (status 200 or 202).
func (s *Server) answerPromotion(c echo.Context, status int, p store.Promotion) error {
	v, err := s.promotionOf(c, p, true)
	if err != nil {
		return err
	}
	return c.JSON(status, v)
}

// listPromotions answers GET /api/v1/projects/{p}/promotions?status=&component=: newest first.
func (s *Server) listPromotions(c echo.Context) error {
	status := c.QueryParam("status")
	switch status {
	case "", api.PromotionPendingApproval, api.PromotionWaitingWindow, api.PromotionQueued, api.PromotionDeploying,
		api.PromotionSucceeded, api.PromotionRejected, api.PromotionExpired, api.PromotionCancelled, api.PromotionFailed:
	default:
		return invalid("status", "status %q is not a promotion status (pending_approval, waiting_window, queued, deploying, "+
			"succeeded, rejected, expired, cancelled, failed)", status)
	}
	ps, err := s.store.ListPromotions(c.Request().Context(), c.Param("project"), c.QueryParam("component"), status, 100)
	if err != nil {
		return err
	}
	items := make([]api.Promotion, 0, len(ps))
	for _, p := range ps {
		v, err := s.promotionOf(c, p, false)
		if err != nil {
			return err
		}
		items = append(items, v)
	}
	return c.JSON(http.StatusOK, api.Page[api.Promotion]{Items: items})
}

// getPromotion answers GET /api/v1/promotions/{id}, with its diff.
func (s *Server) getPromotion(c echo.Context) error {
	p, err := s.store.GetPromotion(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return s.answerPromotion(c, http.StatusOK, p)
}

// getPromotionScan answers GET /api/v1/promotions/{id}/scan: the re-scan report, 404 until re-scanned.
func (s *Server) getPromotionScan(c echo.Context) error {
	r, err := s.store.GetPromotionScan(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, r)
}

// decidePromotion answers POST /api/v1/promotions/{id}/approve|reject|cancel|break-glass {"comment"}.
func (s *Server) decidePromotion(c echo.Context) error {
	var req api.PromotionDecision
	if err := bind(c, &req); err != nil {
		return err
	}
	ctx, id, who := c.Request().Context(), c.Param("id"), actor(c)
	var p store.Promotion
	var err error
	switch path.Base(c.Path()) {
	case "approve":
		p, err = s.promotions.Decide(ctx, id, who, api.DecisionApprove, req.Comment)
	case "reject":
		p, err = s.promotions.Decide(ctx, id, who, api.DecisionReject, req.Comment)
	case "cancel":
		p, err = s.promotions.Cancel(ctx, id, who, req.Comment)
	case "break-glass":
		p, err = s.promotions.BreakGlass(ctx, id, who, req.Comment)
	default:
		return &APIError{Status: http.StatusNotFound, Code: "not_found",
			Message: "no such decision: approve, reject, cancel or break-glass"}
	}
	if err != nil {
		return err
	}
	return s.answerPromotion(c, http.StatusOK, p)
}

// quarantineBuild answers POST /api/v1/builds/{id}/quarantine {"reason"}: the build is never deployed or
// promoted again.
func (s *Server) quarantineBuild(c echo.Context) error {
	var req api.QuarantineRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	if req.Reason == "" {
		return invalid("reason", "reason is required: say why the build must not be deployed")
	}
	ctx := c.Request().Context()
	b, err := s.store.GetBuild(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	q, err := s.store.QuarantineBuild(ctx, b.ID, req.Reason, tokenName(c))
	if err != nil {
		return err
	}
	s.audit(c, store.AuditEntry{Action: api.AuditQuarantine, Project: b.Project, Component: b.Component, Target: b.ID, Reason: req.Reason})
	return c.JSON(http.StatusOK, q)
}

// unquarantineBuild answers DELETE /api/v1/builds/{id}/quarantine (admin only).
func (s *Server) unquarantineBuild(c echo.Context) error {
	ctx := c.Request().Context()
	b, err := s.store.GetBuild(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	if err := s.store.UnquarantineBuild(ctx, b.ID); err != nil {
		return err
	}
	s.audit(c, store.AuditEntry{Action: api.AuditUnquarantine, Project: b.Project, Component: b.Component, Target: b.ID})
	return c.NoContent(http.StatusNoContent)
}

// stopProject answers PUT /api/v1/projects/{p}/stop {"reason"}: nothing is promoted or deployed into any of
// the project's environments until it is started (DELETE, admin only).
func (s *Server) stopProject(c echo.Context) error {
	var req api.StopRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	if req.Reason == "" {
		return invalid("reason", "reason is required: say why the line stops")
	}
	st, err := s.store.StopLine(c.Request().Context(), c.Param("project"), store.ProjectLine, req.Reason, tokenName(c))
	if err != nil {
		return err
	}
	s.audit(c, store.AuditEntry{Action: api.AuditStop, Project: c.Param("project"), Reason: req.Reason})
	return c.JSON(http.StatusOK, st)
}

// startProject answers DELETE /api/v1/projects/{p}/stop (admin only), and wakes the requests waiting for it.
func (s *Server) startProject(c echo.Context) error {
	ctx, p := c.Request().Context(), c.Param("project")
	if err := s.store.StartLine(ctx, p, store.ProjectLine); err != nil {
		return err
	}
	s.audit(c, store.AuditEntry{Action: api.AuditStart, Project: p})
	s.recheck(c, p)
	return c.NoContent(http.StatusNoContent)
}

// recheck wakes the project's requests that wait for a window or a stopped line.
func (s *Server) recheck(c echo.Context, project string) {
	waiting, err := s.store.ListPromotions(c.Request().Context(), project, "", api.PromotionWaitingWindow, 100)
	if err != nil {
		s.log.WarnContext(c.Request().Context(), "listing waiting promotions", "project", project, "error", err)
		return
	}
	s.promotions.Recheck(c.Request().Context(), waiting)
}

// auditLog answers GET /api/v1/audit?project=&component=&environment=&actor=&action=&target=&since=&until=
// &cursor=&limit=: newest first, a page at a time; with ?format=jsonl (or Accept: application/x-ndjson) every
// matching entry as JSON lines, oldest page last, for export.
func (s *Server) auditLog(c echo.Context) error {
	f := store.AuditFilter{Project: c.QueryParam("project"), Component: c.QueryParam("component"),
		Environment: c.QueryParam("environment"), Actor: c.QueryParam("actor"), Action: c.QueryParam("action"),
		Target: c.QueryParam("target"), Before: c.QueryParam("cursor")}
	for name, t := range map[string]*time.Time{"since": &f.Since, "until": &f.Until} {
		if v := c.QueryParam(name); v != "" {
			parsed, err := time.Parse(time.RFC3339, v)
			if err != nil {
				return invalid(name, "%s must be an RFC 3339 time such as 2026-12-01T00:00:00Z", name)
			}
			*t = parsed
		}
	}
	if v := c.QueryParam("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return invalid("limit", "limit must be a whole number from 1 to 1000")
		}
		f.Limit = n
	}
	ctx := c.Request().Context()
	if c.QueryParam("format") == "jsonl" || c.Request().Header.Get(echo.HeaderAccept) == "application/x-ndjson" {
		c.Response().Header().Set(echo.HeaderContentType, "application/x-ndjson")
		c.Response().WriteHeader(http.StatusOK)
		w := bufio.NewWriter(c.Response())
		enc := json.NewEncoder(w)
		f.Limit = 1000
		for {
			entries, next, err := s.store.AuditLog(ctx, f)
			if err != nil {
				s.log.ErrorContext(ctx, "exporting the audit log", "error", err)
				break
			}
			for _, e := range entries {
				if err := enc.Encode(e); err != nil {
					return nil // the client went
				}
			}
			if next == "" {
				break
			}
			f.Before = next
		}
		return w.Flush()
	}
	entries, next, err := s.store.AuditLog(ctx, f)
	if err != nil {
		return withField(err, "cursor")
	}
	return c.JSON(http.StatusOK, api.AuditPage{Entries: entries, Next: next})
}
