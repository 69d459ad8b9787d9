package server

import (
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"github.com/slipway-dev/slipway/api"
	"github.com/slipway-dev/slipway/store"
)

// getBuildEndpoints answers GET /api/v1/builds/{id}/endpoints: 404 until the build's spec step ran.
func (s *Server) getBuildEndpoints(c echo.Context) error {
	b, err := s.store.GetBuild(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	if b.Descriptor == nil {
		return &APIError{Status: http.StatusNotFound, Code: "not_found",
			Message: "build " + b.ID + " has no endpoints yet: its spec step has not run (status " + b.Status + ")"}
	}
	return c.JSON(http.StatusOK, endpointsOf(b))
}

// endpointsOf is the endpoints of b's descriptor, which must not be nil, each with its spec's path when it has one.
func endpointsOf(b store.Build) api.Endpoints {
	out := api.Endpoints{Items: []api.Endpoint{}, Default: b.Descriptor.Default}
	for _, e := range b.Descriptor.Endpoints {
		v := api.Endpoint{Endpoint: e}
		if e.SchemaFilePath != "" {
			v.SpecURL = "/api/v1/builds/" + url.PathEscape(b.ID) + "/endpoints/" + url.PathEscape(e.Name) + "/spec"
		}
		out.Items = append(out.Items, v)
	}
	return out
}

// getEndpointSpec answers GET /api/v1/builds/{id}/endpoints/{endpoint}/spec: an OpenAPI or Swagger document
// as JSON, a GraphQL schema or .proto file as text.
func (s *Server) getEndpointSpec(c echo.Context) error {
	sp, err := s.store.GetBuildSpec(c.Request().Context(), c.Param("id"), c.Param("endpoint"))
	if err != nil {
		return err
	}
	if sp.JSON != nil {
		return c.JSONBlob(http.StatusOK, sp.JSON)
	}
	return c.Blob(http.StatusOK, echo.MIMETextPlainCharsetUTF8, sp.Raw)
}
