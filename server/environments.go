package server

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/slipway-dev/slipway/store"
)

// environmentRequest is the body of POST /api/v1/projects/{p}/environments.
type environmentRequest struct {
	Name       string `json:"name"`
	Production bool   `json:"production"`
	// Replicas, CPUs and MemoryBytes are optional: zero means one instance, no limits.
	Replicas    int     `json:"replicas"`
	CPUs        float64 `json:"cpus"`
	MemoryBytes int64   `json:"memoryBytes"`
}

// environmentUpdate is the body of PATCH /api/v1/projects/{p}/environments/{e}: absent fields stay.
type environmentUpdate struct {
	Production  *bool    `json:"production"`
	Replicas    *int     `json:"replicas"`
	CPUs        *float64 `json:"cpus"`
	MemoryBytes *int64   `json:"memoryBytes"`
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
		Replicas:   req.Replicas, CPUs: req.CPUs, MemoryBytes: req.MemoryBytes,
	})
	if err != nil {
		return withField(err, resourceField(err, "name"))
	}
	return c.JSON(http.StatusCreated, env)
}

// updateEnvironment answers PATCH /api/v1/projects/{p}/environments/{e}; running releases take new replicas
// and limits at their next deployment.
func (s *Server) updateEnvironment(c echo.Context) error {
	var req environmentUpdate
	if err := bind(c, &req); err != nil {
		return err
	}
	if req.Production != nil && !s.isAdmin(c) {
		return &APIError{Status: http.StatusForbidden, Code: "forbidden", Field: "production",
			Message: "changing whether an environment is production needs an admin token"}
	}
	env, err := s.store.UpdateEnvironment(c.Request().Context(), c.Param("project"), c.Param("environment"), func(e *store.Environment) error {
		if req.Production != nil {
			e.Production = *req.Production
		}
		if req.Replicas != nil {
			e.Replicas = *req.Replicas
		}
		if req.CPUs != nil {
			e.CPUs = *req.CPUs
		}
		if req.MemoryBytes != nil {
			e.MemoryBytes = *req.MemoryBytes
		}
		return nil
	})
	if err != nil {
		return withField(err, resourceField(err, ""))
	}
	return c.JSON(http.StatusOK, env)
}

// resourceField names the field an invalid environment setting error is about (its message starts with it),
// else def.
func resourceField(err error, def string) string {
	for _, f := range []string{"replicas", "cpus", "memoryBytes"} {
		if strings.HasPrefix(err.Error(), f+" of ") {
			return f
		}
	}
	return def
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
