package delivery

import (
	"github.com/slipway-dev/slipway/api"
	"github.com/slipway-dev/slipway/descriptor"
	"github.com/slipway-dev/slipway/store"
)

// BuildOf is b as the API and the console show it, without what needs more than the row: SupersededBy is
// "" and the steps are the stored ones (the server adds both where it shows them).
func BuildOf(b store.Build) api.Build {
	steps := b.Steps
	if steps == nil {
		steps = []api.Step{}
	}
	v := api.Build{
		ID: b.ID, Project: b.Project, Component: b.Component, Status: b.Status, Commit: b.Commit, CommittedAt: b.CommittedAt,
		Trigger: api.Trigger(b.Trigger), Digest: b.Digest, ImageSize: b.ImageSize, Steps: steps, Scan: b.Scan, Source: b.Source,
		Required: []api.RequiredConfig{}, Error: b.Error, WorkflowID: b.WorkflowID, RunID: b.RunID,
		CreatedAt: b.CreatedAt, StartedAt: b.StartedAt, EndedAt: b.EndedAt,
	}
	if d := b.Descriptor; d != nil {
		v.Descriptor = &api.DescriptorSource{Source: api.DescriptorRepository, Endpoints: len(d.Endpoints)}
		if d.Default {
			v.Descriptor.Source = api.DescriptorDefault
			v.Descriptor.Note = "no " + descriptor.Path + " at this commit: endpoints come from the image's EXPOSE; " +
				"no health check beyond the process running; nothing required"
		}
		for _, r := range d.Required.Configs {
			v.Required = append(v.Required, api.RequiredConfig{Name: r.Name})
		}
		for _, r := range d.Required.Secrets {
			v.Required = append(v.Required, api.RequiredConfig{Name: r.Name, Secret: true})
		}
	}
	return v
}
