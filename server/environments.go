package server

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/slipway-dev/slipway/store"
)

// environmentRequest is the body of POST /api/v1/projects/{p}/environments.
type environmentRequest struct {
	Name       string `json:"name"`
	Production bool   `json:"production"`
}

// orderRequest is the body of PUT /api/v1/projects/{p}/environments/order: every environment exactly once.
type orderRequest struct {
	Order []string `json:"order"`
}

// listEnvironments answers GET /api/v1/projects/{p}/environments in promotion order.
func (s *Server) listEnvironments(c echo.Context) error {
	envs, err := s.store.ListEnvironments(c.Request().Context(), c.Param("project"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, page[store.Environment]{Items: nonNil(envs)})
}

// createEnvironment answers POST /api/v1/projects/{p}/environments; the new environment goes last.
func (s *Server) createEnvironment(c echo.Context) error {
	var req environmentRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	if err := checkName("name", req.Name); err != nil {
		return err
	}
	env, err := s.store.CreateEnvironment(c.Request().Context(), store.Environment{
		Project:    c.Param("project"),
		Name:       req.Name,
		Production: req.Production,
	})
	if err != nil {
		return withField(err, "name")
	}
	return c.JSON(http.StatusCreated, env)
}

// reorderEnvironments answers PUT /api/v1/projects/{p}/environments/order with the new order.
func (s *Server) reorderEnvironments(c echo.Context) error {
	var req orderRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	if len(req.Order) == 0 {
		return invalid("order", "order is required: list every environment of the project once")
	}
	envs, err := s.store.ReorderEnvironments(c.Request().Context(), c.Param("project"), req.Order)
	if err != nil {
		return withField(err, "order")
	}
	return c.JSON(http.StatusOK, page[store.Environment]{Items: nonNil(envs)})
}
