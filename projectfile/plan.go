package projectfile

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/slipway-dev/slipway/api"
	"github.com/slipway-dev/slipway/scan"
)

// Options tunes Diff. The zero Options never deletes anything.
type Options struct {
	// Prune deletes, inside the projects the file declares, the components and the non-secret configs it does
	// not declare. Secrets are never deleted, nor projects the file does not name; environments cannot be (the
	// API has no way to), and Diff warns about each it would have deleted. False deletes nothing.
	Prune bool
}

// Plan is what applying a file would change in an install: the changes in the order Apply makes them, and
// warnings about what it will not do.
type Plan struct {
	// Changes are the changes to make, in order: per project, project, environments created, their order, their
	// settings, components, configs, then deletions. Empty means the install is as the file says.
	Changes []Change
	// Warnings say what the file wants that applying it will not do (a secret to set by hand, an environment that
	// cannot be deleted), one line each, starting "! ".
	Warnings []string

	// file is the file the plan was made from, for the positions of errors.
	file *File
}

// Change is one change to the install, one API call or a few.
type Change struct {
	// text is the change as a line: "+ component shop/hello", "~ environment shop/production: production false → true".
	text string
	// stage orders the changes of a project for Apply.
	stage stage
	// path is the place in the file of the entity changed, for errors; "" when it is not in the file.
	path string
	// doing says what the change does, for errors: "creating component shop/hello".
	doing string
	// run makes the change; it returns the component's webhook when the change turned auto-build on, else nil.
	run func(ctx context.Context, c Client) (*Webhook, error)
}

// String is the change as one line: "+ …" creates, "~ …" changes, "- …" deletes.
func (c Change) String() string { return c.text }

// stage is when, among the changes of a project, a change is made: what it needs is made in an earlier one.
type stage int

// The stages, in order.
const (
	stageProject stage = iota
	stageEnvironmentCreate
	stageEnvironmentOrder
	stageEnvironmentUpdate
	stageComponent
	stageConfig
	stageConfigDelete
	stageComponentDelete
)

// Write writes the plan, one line per change then one per warning, or "no changes" (and the warnings) when
// there is none.
func (p *Plan) Write(w io.Writer) error {
	var b strings.Builder
	if len(p.Changes) == 0 {
		b.WriteString("no changes\n")
	}
	for _, c := range p.Changes {
		b.WriteString(c.text + "\n")
	}
	for _, warning := range p.Warnings {
		b.WriteString(warning + "\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// Diff reads, through c, the projects f declares (their environments, components, and each component's
// configs in each environment) and returns what applying f would change. It writes nothing.
func Diff(ctx context.Context, c Client, f *File, opts Options) (*Plan, error) {
	plan := &Plan{file: f}
	for _, p := range f.Projects {
		in, err := readProject(ctx, c, p.Name)
		if err != nil {
			return nil, err
		}
		d := &differ{opts: opts, plan: plan, project: p}
		d.diff(in)
		slices.SortStableFunc(d.changes, func(a, b Change) int { return cmp.Compare(a.stage, b.stage) })
		plan.Changes = append(plan.Changes, d.changes...)
	}
	return plan, nil
}

// differ works out the changes of one project.
type differ struct {
	opts    Options
	plan    *Plan
	project Project
	changes []Change
}

// add adds a change.
func (d *differ) add(c Change) { d.changes = append(d.changes, c) }

// warnf adds a warning.
func (d *differ) warnf(format string, args ...any) {
	d.plan.Warnings = append(d.plan.Warnings, "! "+fmt.Sprintf(format, args...))
}

// diff adds the changes that make in (nil: no such project yet) the declared project.
func (d *differ) diff(in *installed) {
	p := d.project
	if in == nil {
		text := "+ project " + p.Name
		if p.ScanPolicy != (scan.Policy{}) {
			text += " (" + strings.Join(policyChanges(scan.Policy{}, p.ScanPolicy), ", ") + ")"
		}
		d.add(Change{text: text, stage: stageProject, path: p.path, doing: "creating project " + p.Name,
			run: func(ctx context.Context, c Client) (*Webhook, error) {
				return nil, c.Do(ctx, http.MethodPost, apiPath("projects"), api.ProjectRequest{Name: p.Name, ScanPolicy: p.ScanPolicy}, nil)
			}})
		// A new project comes with the API's development and production environments, and nothing else.
		in = &installed{envs: []api.Environment{
			{Name: "development", DataPlane: DataPlaneDocker},
			{Name: "production", Production: true, DataPlane: DataPlaneDocker},
		}}
	} else if changes := policyChanges(in.project.ScanPolicy, p.ScanPolicy); len(changes) > 0 {
		policy := p.ScanPolicy
		d.add(Change{text: "~ project " + p.Name + ": " + strings.Join(changes, ", "), stage: stageProject,
			path: field(p.path, "scanPolicy"), doing: "changing project " + p.Name,
			run: func(ctx context.Context, c Client) (*Webhook, error) {
				return nil, c.Do(ctx, http.MethodPatch, apiPath("projects", p.Name), api.ProjectUpdate{ScanPolicy: &policy}, nil)
			}})
	}
	envs := d.environments(in.envs)
	d.components(in, envs)
}

// changes collects "field old → new" for the fields that differ.
type changes []string

// add notes field going from have to want, when they differ.
func add[T comparable](cs *changes, field string, have, want T) {
	if have != want {
		*cs = append(*cs, fmt.Sprintf("%s %s → %s", field, show(have), show(want)))
	}
}

// show is v as a change line shows it: strings quoted (and cut when long), lists in brackets.
func show(v any) string {
	switch v := v.(type) {
	case string:
		if len(v) > 60 {
			v = v[:57] + "..."
		}
		return fmt.Sprintf("%q", v)
	case []string:
		return "[" + strings.Join(v, ", ") + "]"
	}
	return fmt.Sprint(v)
}

// policyChanges are the fields of a scan policy that differ.
func policyChanges(have, want scan.Policy) []string {
	var cs changes
	add(&cs, "scanPolicy.failOn", have.FailOn, want.FailOn)
	add(&cs, "scanPolicy.allowSecrets", have.AllowSecrets, want.AllowSecrets)
	add(&cs, "scanPolicy.requireVulnDB", have.RequireVulnDB, want.RequireVulnDB)
	return cs
}
