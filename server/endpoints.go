package server

import (
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"github.com/slipway-dev/slipway/descriptor"
)

// endpointView is an endpoint of a build as GET /api/v1/builds/{id}/endpoints shows it.
type endpointView struct {
	descriptor.Endpoint
	// SpecURL is where the endpoint's API spec is served; "" when it has none.
	SpecURL string `json:"specUrl,omitempty"`
}

// endpointsResponse lists a build's endpoints; Default says they were made from the image for want of a
// descriptor in the repository.
type endpointsResponse struct {
	Items   []endpointView `json:"items"`
	Default bool           `json:"default"`
}

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
	out := endpointsResponse{Items: []endpointView{}, Default: b.Descriptor.Default}
	for _, e := range b.Descriptor.Endpoints {
		v := endpointView{Endpoint: e}
		if e.SchemaFilePath != "" {
			v.SpecURL = "/api/v1/builds/" + url.PathEscape(b.ID) + "/endpoints/" + url.PathEscape(e.Name) + "/spec"
		}
		out.Items = append(out.Items, v)
	}
	return c.JSON(http.StatusOK, out)
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
