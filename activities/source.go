package activities

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"go.temporal.io/sdk/temporal"

	"github.com/slipway-dev/slipway/api"
	"github.com/slipway-dev/slipway/descriptor"
	"github.com/slipway-dev/slipway/sourcebuild"
)

// ErrTypeSourceBuild means a component without a Dockerfile cannot be built from source: no language is
// recognised, or the descriptor's build section asks for something that cannot be (its message names the field).
const ErrTypeSourceBuild = "SourceBuild"

// generatedDockerfile is where a source build's Dockerfile is written, in the workspace (outside the checkout).
const generatedDockerfile = "Dockerfile.source"

// sourceDockerfile decides whether the build is a source build: the descriptor says `build: source`, or says
// nothing, the component names no Dockerfile of its own (named says it does) and there is none at the default
// path, dockerfile. A Dockerfile the component names that is missing stays BuildKit's "not found": building
// something else than what was asked for would hide the mistake. Then it writes the Dockerfile that builds contextDir into the
// workspace, logs it, and returns its path and plan; otherwise it returns dockerfile and a nil plan.
func (b *Builds) sourceDockerfile(ctx context.Context, buildID, workspace, src, contextDir, dockerfile string, named bool) (string, *sourcebuild.Plan, error) {
	d, _, err := descriptor.Load(src)
	if err != nil {
		return "", nil, specError(err)
	}
	switch d.Build.Type {
	case descriptor.BuildDockerfile:
		return dockerfile, nil, nil
	case "":
		if _, err := os.Stat(dockerfile); named || !errors.Is(err, fs.ErrNotExist) {
			return dockerfile, nil, nil // there, unreadable or named: BuildKit says which
		}
	}
	plan, err := sourcebuild.Generate(contextDir, sourcebuild.Options{
		Language: d.Build.Language, Version: d.Build.Version, Build: d.Build.Command, Start: d.Build.Start, Images: b.SourceImages,
	})
	var serr *sourcebuild.Error
	if errors.As(err, &serr) {
		msg := fmt.Sprintf("no Dockerfile at %s, and the source cannot be built: build.%s: %s", rel(src, dockerfile), serr.Field, serr.Msg)
		return "", nil, temporal.NewNonRetryableApplicationError(msg, ErrTypeSourceBuild, err)
	}
	if err != nil {
		return "", nil, fmt.Errorf("generating the Dockerfile of a source build: %w", err)
	}
	path := filepath.Join(workspace, generatedDockerfile)
	if err := os.WriteFile(path, []byte(plan.Dockerfile), 0o644); err != nil {
		return "", nil, fmt.Errorf("writing the generated Dockerfile: %w", err)
	}
	why := "the descriptor says build: source"
	if d.Build.Type == "" {
		why = "no Dockerfile at " + rel(src, dockerfile)
	}
	lines := []string{fmt.Sprintf("building from source (%s): %s, %s; the generated Dockerfile:", why, plan.Language, plan.Reason)}
	for _, l := range strings.Split(strings.TrimRight(plan.Dockerfile, "\n"), "\n") {
		lines = append(lines, "  | "+l)
	}
	b.appendLog(ctx, buildID, lines...)
	if err := b.Store.PutBuildSource(ctx, buildID, api.SourceBuild{Language: plan.Language, Reason: plan.Reason, Dockerfile: plan.Dockerfile}); err != nil {
		return "", nil, fmt.Errorf("storing the source build: %w", err)
	}
	return path, &plan, nil
}

// rel is path relative to the checkout src, for messages.
func rel(src, path string) string {
	if r, err := filepath.Rel(src, path); err == nil {
		return r
	}
	return path
}
