package server

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/slipway-dev/slipway/api"
	"github.com/slipway-dev/slipway/store"
)

// notificationHookOf is h as the API shows it: never its secret.
func notificationHookOf(h store.NotificationHook) api.NotificationHook {
	events := h.Events
	if events == nil {
		events = []string{}
	}
	return api.NotificationHook{ID: h.ID, Project: h.Project, URL: h.URL, Format: h.Format, Events: events, Actor: h.Actor, CreatedAt: h.CreatedAt}
}

func notificationDeliveryOf(d store.NotificationDelivery) api.NotificationDelivery {
	return api.NotificationDelivery{ID: d.ID, Event: d.Event, Subject: d.Subject, Status: d.Status, Attempts: d.Attempts,
		LastStatus: d.LastStatus, LastError: d.LastError, CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt}
}

// listNotificationHooks answers GET /api/v1/projects/{p}/notifications: the project's hooks, oldest first.
func (s *Server) listNotificationHooks(c echo.Context) error {
	ctx := c.Request().Context()
	if _, err := s.store.GetProject(ctx, c.Param("project")); err != nil {
		return err
	}
	hooks, err := s.store.NotificationHooks(ctx, c.Param("project"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, api.Page[api.NotificationHook]{Items: mapSlice(hooks, notificationHookOf)})
}

// createNotificationHook answers POST /api/v1/projects/{p}/notifications (admin): the hook (201), with the secret
// slipway made for it when none was given, this once.
func (s *Server) createNotificationHook(c echo.Context) error {
	var req api.NotificationHookRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	h, secret, err := s.notifications.CreateHook(c.Request().Context(), c.Param("project"), req, tokenName(c))
	if err != nil {
		return err
	}
	s.audit(c, store.AuditEntry{Action: api.AuditNotificationSet, Project: h.Project, Target: h.ID, Result: "ok"})
	out := notificationHookOf(h)
	out.Secret = secret
	return c.JSON(http.StatusCreated, out)
}

// projectHook reads the route's hook, 404 unless it is the route's project's.
func (s *Server) projectHook(c echo.Context) (store.NotificationHook, error) {
	h, err := s.store.GetNotificationHook(c.Request().Context(), c.Param("id"))
	if err == nil && h.Project != c.Param("project") {
		return store.NotificationHook{}, &APIError{Status: http.StatusNotFound, Code: "not_found", Message: "notification hook " + c.Param("id") + ": not found"}
	}
	return h, err
}

// deleteNotificationHook answers DELETE /api/v1/projects/{p}/notifications/{id} (admin): 204.
func (s *Server) deleteNotificationHook(c echo.Context) error {
	if err := s.store.DeleteNotificationHook(c.Request().Context(), c.Param("project"), c.Param("id")); err != nil {
		return err
	}
	s.audit(c, store.AuditEntry{Action: api.AuditNotificationDelete, Project: c.Param("project"), Target: c.Param("id"), Result: "ok"})
	return c.NoContent(http.StatusNoContent)
}

// listNotificationDeliveries answers GET …/notifications/{id}/deliveries: the hook's latest deliveries, newest first.
func (s *Server) listNotificationDeliveries(c echo.Context) error {
	h, err := s.projectHook(c)
	if err != nil {
		return err
	}
	ds, err := s.store.NotificationDeliveries(c.Request().Context(), h.ID, 100)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, api.Page[api.NotificationDelivery]{Items: mapSlice(ds, notificationDeliveryOf)})
}

// testNotificationHook answers POST …/notifications/{id}/test (admin): a ping is delivered (202, the delivery).
func (s *Server) testNotificationHook(c echo.Context) error {
	h, err := s.projectHook(c)
	if err != nil {
		return err
	}
	d, err := s.notifications.Test(c.Request().Context(), h)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusAccepted, notificationDeliveryOf(d))
}
