package sourcebuild_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/moby/buildkit/client/llb/sourceresolver"
	"github.com/moby/buildkit/frontend/dockerfile/dockerfile2llb"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	digest "github.com/opencontainers/go-digest"

	"github.com/slipway-dev/slipway/sourcebuild"
)

// tree writes files (path → content; a path ending in / is a directory) into a new directory and
// returns it.
func tree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if strings.HasSuffix(name, "/") {
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// generate runs Generate over files and fails the test on an error.
func generate(t *testing.T, files map[string]string, opts sourcebuild.Options) sourcebuild.Plan {
	t.Helper()
	plan, err := sourcebuild.Generate(tree(t, files), opts)
	if err != nil {
		t.Fatalf("Generate: %v", err)
	}
	return plan
}

// parse checks that BuildKit's Dockerfile frontend accepts df as it is, without a warning, and that
// it has stages stages, which it returns.
func parse(t *testing.T, df string, stages int) []instructions.Stage {
	t.Helper()
	got, problems, err := frontend(df)
	if err != nil {
		t.Fatalf("%v\n%s", err, df)
	}
	for _, p := range problems {
		t.Errorf("%s", p)
	}
	if len(problems) > 0 {
		t.Logf("in\n%s", df)
	}
	if len(got) != stages {
		t.Errorf("%d stages, want %d\n%s", len(got), stages, df)
	}
	return got
}

// frontend runs df through BuildKit's Dockerfile frontend: its parser, its instructions and its
// conversion to LLB with the build checks on, base images resolved by a fake resolver. It returns
// the stages, the parser's warnings and the checks' findings, and the first error.
func frontend(df string) ([]instructions.Stage, []string, error) {
	res, err := parser.Parse(strings.NewReader(df))
	if err != nil {
		return nil, nil, fmt.Errorf("parser.Parse: %w", err)
	}
	var problems []string
	for _, w := range res.Warnings {
		problems = append(problems, fmt.Sprintf("parser: %s (line %d)", w.Short, w.Location.Start.Line))
	}
	stages, _, err := instructions.Parse(res.AST, nil)
	if err != nil {
		return nil, problems, fmt.Errorf("instructions.Parse: %w", err)
	}
	warn := func(rule, description, url, msg string, location []parser.Range) {
		line := 0
		if len(location) > 0 {
			line = location[0].Start.Line
		}
		problems = append(problems, fmt.Sprintf("build check %s: %s (line %d)", rule, msg, line))
	}
	opt := dockerfile2llb.ConvertOpt{Warn: warn, MetaResolver: imageResolver{}}
	if _, err := dockerfile2llb.Dockerfile2LLB(context.Background(), []byte(df), opt); err != nil {
		return stages, problems, fmt.Errorf("Dockerfile2LLB: %w", err)
	}
	return stages, problems, nil
}

// inOrder checks that each of lines is a whole line of df, each after the one before.
func inOrder(t *testing.T, df string, lines ...string) {
	t.Helper()
	all := strings.Split(df, "\n")
	i := 0
	for _, want := range lines {
		for i < len(all) && all[i] != want {
			i++
		}
		if i == len(all) {
			t.Errorf("no line %q (after the lines before it in the list) in\n%s", want, df)
			return
		}
		i++
	}
}

// noLine checks that none of lines is a line of df.
func noLine(t *testing.T, df string, lines ...string) {
	t.Helper()
	for _, l := range strings.Split(df, "\n") {
		for _, bad := range lines {
			if l == bad {
				t.Errorf("unexpected line %q in\n%s", l, df)
			}
		}
	}
}

// lastLines checks that df ends with lines, then a newline.
func lastLines(t *testing.T, df string, lines ...string) {
	t.Helper()
	want := strings.Join(lines, "\n") + "\n"
	if !strings.HasSuffix(df, "\n"+want) {
		t.Errorf("does not end with\n%s\nbut is\n%s", want, df)
	}
}

// wantError checks that err is an *sourcebuild.Error with field and a message holding each of
// words.
func wantError(t *testing.T, err error, field string, words ...string) {
	t.Helper()
	var e *sourcebuild.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T), want a *sourcebuild.Error", err, err)
	}
	if e.Field != field {
		t.Errorf("field %q, want %q (%v)", e.Field, field, err)
	}
	for _, w := range words {
		if !strings.Contains(e.Msg, w) {
			t.Errorf("message %q does not say %q", e.Msg, w)
		}
	}
}

// runtimeStage returns the commands of the last stage.
func lastStage(stages []instructions.Stage) []instructions.Command {
	return stages[len(stages)-1].Commands
}

// imageResolver answers for every image with the config of a one-layer image, without a network.
type imageResolver struct{}

func (imageResolver) ResolveImageConfig(ctx context.Context, ref string, opt sourceresolver.Opt) (string, digest.Digest, []byte, error) {
	config := `{"architecture":"amd64","os":"linux","config":{"Env":["PATH=/usr/local/bin:/usr/bin:/bin"]},` +
		`"rootfs":{"type":"layers","diff_ids":["sha256:0000000000000000000000000000000000000000000000000000000000000000"]}}`
	return ref, "", []byte(config), nil
}
