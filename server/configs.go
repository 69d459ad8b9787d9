package server

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/slipway-dev/slipway/api"
	"github.com/slipway-dev/slipway/store"
)

// listConfigs answers GET .../configs, by key. Secret values are never returned.
func (s *Server) listConfigs(c echo.Context) error {
	items, err := s.configsOf(c.Request().Context(), c.Param("project"), c.Param("component"), c.Param("environment"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, api.Page[api.Config]{Items: items})
}

// configsOf is the configs of component comp of project p in environment env, by key, with the values of plain
// configs opened; a secret's value is never in it.
func (s *Server) configsOf(ctx context.Context, p, comp, env string) ([]api.Config, error) {
	vals, err := s.store.ListConfigs(ctx, p, comp, env)
	if err != nil {
		return nil, err
	}
	items := make([]api.Config, 0, len(vals))
	for _, v := range vals {
		item := api.Config{Key: v.Key, Secret: v.Secret, UpdatedAt: v.UpdatedAt}
		if !v.Secret {
			plain, err := s.keys.Open(v.AAD(), v.Sealed)
			if err != nil {
				return nil, fmt.Errorf("opening config %s/%s/%s/%s: %w", p, comp, env, v.Key, err)
			}
			value := string(plain)
			item.Value = &value
		}
		items = append(items, item)
	}
	return items, nil
}

// putConfig answers PUT .../configs/{key}: 201 for a new key, 200 for a replaced one.
func (s *Server) putConfig(c echo.Context) error {
	p, comp, env, key := c.Param("project"), c.Param("component"), c.Param("environment"), c.Param("key")
	if err := checkKey("key", key); err != nil {
		return err
	}
	var req api.ConfigRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	switch {
	case req.Value == nil:
		return invalid("value", "value is required (it may be the empty string)")
	case len(*req.Value) > api.MaxValueBytes:
		return invalid("value", "value must be at most %d bytes", api.MaxValueBytes)
	case strings.ContainsRune(*req.Value, 0):
		return invalid("value", "value must not contain NUL characters")
	}

	// The AAD does not depend on the kind, so the value is sealed before the store decides the kind.
	sealed, err := s.keys.Seal(store.ConfigAAD(p, comp, env, key), []byte(*req.Value))
	if err != nil {
		return fmt.Errorf("sealing config %s/%s/%s/%s: %w", p, comp, env, key, err)
	}
	v := store.ConfigValue{Project: p, Component: comp, Environment: env, Key: key, Sealed: sealed}
	if req.Secret != nil {
		v.Secret = *req.Secret
	}
	saved, created, err := s.store.PutConfig(c.Request().Context(), v, req.Secret == nil)
	if err != nil {
		return err
	}

	s.audit(c, store.AuditEntry{Action: api.AuditConfigSet, Project: p, Component: comp, Environment: env, Target: key})
	item := api.Config{Key: saved.Key, Secret: saved.Secret, UpdatedAt: saved.UpdatedAt}
	if !saved.Secret {
		item.Value = req.Value
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	return c.JSON(status, item)
}

// deleteConfig answers DELETE .../configs/{key}.
func (s *Server) deleteConfig(c echo.Context) error {
	key := c.Param("key")
	if err := checkKey("key", key); err != nil {
		return err
	}
	err := s.store.DeleteConfig(c.Request().Context(), c.Param("project"), c.Param("component"), c.Param("environment"), key)
	if err != nil {
		return err
	}
	s.audit(c, store.AuditEntry{Action: api.AuditConfigDelete, Project: c.Param("project"), Component: c.Param("component"),
		Environment: c.Param("environment"), Target: key})
	return c.NoContent(http.StatusNoContent)
}
