package store

import (
	"encoding/json"
	"testing"

	"github.com/slipway-dev/slipway/api"
	"github.com/slipway-dev/slipway/descriptor"
)

func TestBuildSpecKeptWithBuild(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		mustCreateProject(t, s, "shop")
		mustCreateComponent(t, s, "shop", "api")
		if _, err := s.CreateBuild(ctx, newBuild("b1")); err != nil {
			t.Fatal(err)
		}
		d := descriptor.Descriptor{
			Endpoints: []descriptor.Endpoint{{Name: "web", Port: 8080, Type: descriptor.REST, BasePath: "/", SchemaFilePath: "openapi.yaml"},
				{Name: "graph", Port: 9090, Type: descriptor.GraphQL, BasePath: "/", SchemaFilePath: "schema.graphql"}},
			Required: descriptor.Required{Secrets: []descriptor.Requirement{{Name: "API_TOKEN", Env: "API_TOKEN"}}},
		}
		openapi := json.RawMessage(`{"openapi":"3.0.3","info":{"title":"hello","version":"1"},"paths":{}}`)
		specs := []descriptor.Spec{
			{Endpoint: "web", Path: "openapi.yaml", Format: descriptor.OpenAPI3, JSON: openapi},
			{Endpoint: "graph", Path: "schema.graphql", Format: descriptor.GraphQLSchema, Raw: []byte("type Query { hello: String }")},
		}
		must(t, s.PutBuildSpec(ctx, "b1", descriptor.Descriptor{Default: true}, nil))
		must(t, s.PutBuildSpec(ctx, "b1", d, specs)) // a retry replaces the first attempt
		if b, err := s.GetBuild(ctx, "b1"); err != nil || b.Source != nil {
			t.Fatalf("a build not built from source has source %+v (%v)", b.Source, err)
		}
		src := api.SourceBuild{Language: "go", Reason: "go.mod at the context's root", Dockerfile: "FROM golang:1.26 AS build\n"}
		must(t, s.PutBuildSource(ctx, "b1", api.SourceBuild{Language: "static"}))
		must(t, s.PutBuildSource(ctx, "b1", src)) // a retry replaces the first attempt

		b, err := s.GetBuild(ctx, "b1")
		must(t, err)
		if b.Descriptor == nil || b.Descriptor.Default || len(b.Descriptor.Endpoints) != 2 || b.Descriptor.Required.Secrets[0].Name != "API_TOKEN" {
			t.Fatalf("build's descriptor = %+v", b.Descriptor)
		}
		if b.Source == nil || *b.Source != src {
			t.Fatalf("build's source = %+v, want %+v", b.Source, src)
		}
		web, err := s.GetBuildSpec(ctx, "b1", "web")
		must(t, err)
		if web.Format != descriptor.OpenAPI3 || string(web.JSON) != string(openapi) || web.Raw != nil || web.Path != "openapi.yaml" {
			t.Fatalf("web spec = %+v", web)
		}
		graph, err := s.GetBuildSpec(ctx, "b1", "graph")
		must(t, err)
		if string(graph.Raw) != "type Query { hello: String }" || graph.JSON != nil {
			t.Fatalf("graph spec = %+v", graph)
		}
		_, err = s.GetBuildSpec(ctx, "b1", "nope")
		wantErr(t, err, ErrNotFound, `spec of endpoint "nope" of build "b1": not found`)
		_, err = s.GetBuildSpec(ctx, "b9", "web")
		wantErr(t, err, ErrNotFound, `build "b9": not found`)

		_, err = s.UpdateBuild(ctx, "b1", func(b *Build) error { b.Status = api.BuildSucceeded; return nil })
		must(t, err)
		wantErr(t, s.PutBuildSpec(ctx, "b1", d, nil), ErrInvalid, `build "b1" is succeeded and can no longer change: invalid`)
		wantErr(t, s.PutBuildSource(ctx, "b1", src), ErrInvalid, `build "b1" is succeeded and can no longer change: invalid`)
		must(t, s.DeleteComponent(ctx, "shop", "api"))
		if n := count(t, s, "SELECT build_id FROM build_specs"); n != 0 {
			t.Fatalf("%d spec rows left after the component was deleted", n)
		}
	})
}
