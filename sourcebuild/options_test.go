package sourcebuild_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"

	"github.com/slipway-dev/slipway/sourcebuild"
)

var (
	nodeApp   = map[string]string{"package.json": `{"scripts":{"start":"node server.js"}}`}
	pythonApp = map[string]string{"requirements.txt": "", "app.py": ""}
	staticApp = map[string]string{"index.html": ""}
)

func TestGenerateVersion(t *testing.T) {
	for _, tc := range []struct {
		name    string
		files   map[string]string
		version string
		images  sourcebuild.Images
		from    string
	}{
		{"go", goModule, "1.25", sourcebuild.Images{}, "FROM golang:1.25 AS build"},
		{"go patch", goModule, "1.26.8", sourcebuild.Images{}, "FROM golang:1.26.8 AS build"},
		{"node", nodeApp, "20", sourcebuild.Images{}, "FROM node:20-slim"},
		{"python", pythonApp, "3.13", sourcebuild.Images{}, "FROM python:3.13-slim"},
		{"a version with a dash is the whole tag", pythonApp, "3.13-alpine", sourcebuild.Images{}, "FROM python:3.13-alpine"},
		{"image without a tag", nodeApp, "24", sourcebuild.Images{Node: "node"}, "FROM node:24"},
		{"registry with a port", goModule, "1.24", sourcebuild.Images{Go: "localhost:5000/golang"}, "FROM localhost:5000/golang:1.24 AS build"},
		{"registry with a port and a tag", pythonApp, "3.11", sourcebuild.Images{Python: "localhost:5000/python:3.12-slim-bookworm"}, "FROM localhost:5000/python:3.11-slim-bookworm"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			df := generate(t, tc.files, sourcebuild.Options{Version: tc.version, Images: tc.images}).Dockerfile
			inOrder(t, df, tc.from)
		})
	}
}

func TestGenerateImages(t *testing.T) {
	images := sourcebuild.Images{
		Go: "mirror.local/golang:1.26", GoRuntime: "mirror.local/busybox:1.37",
		Node: "mirror.local/node:22-slim", Python: "mirror.local/python:3.12-slim", Static: "mirror.local/busybox:stable",
	}
	for _, tc := range []struct {
		name  string
		files map[string]string
		from  []string
	}{
		{"go", goModule, []string{"FROM mirror.local/golang:1.26 AS build", "FROM mirror.local/busybox:1.37"}},
		{"node", nodeApp, []string{"FROM mirror.local/node:22-slim"}},
		{"python", pythonApp, []string{"FROM mirror.local/python:3.12-slim"}},
		{"static", staticApp, []string{"FROM mirror.local/busybox:stable"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			df := generate(t, tc.files, sourcebuild.Options{Images: images}).Dockerfile
			inOrder(t, df, tc.from...)
			for _, l := range strings.Split(df, "\n") {
				if strings.HasPrefix(l, "FROM ") && !strings.HasPrefix(l, "FROM mirror.local/") {
					t.Errorf("%q is not from the images given", l)
				}
			}
		})
	}
}

// The user's commands are quoted so that no character of them can break the Dockerfile: BuildKit
// reads back exactly the command given.
func TestGenerateQuoting(t *testing.T) {
	for _, command := range []string{
		`node "dist/it's here.js" --name="a b"`,
		`echo \`,
		`echo \\"\\`,
		`cat <<EOF`,
		`echo $PORT ${HOME} # not a comment`,
		`printf '%s\t' ["a", "b"]`,
		"echo é ✓ \u2028 <b>&amp;</b>",
		`]`,
	} {
		t.Run(command, func(t *testing.T) {
			for _, files := range []map[string]string{goModule, nodeApp, pythonApp, staticApp} {
				plan := generate(t, files, sourcebuild.Options{Build: command, Start: command})
				stages := parse(t, plan.Dockerfile, map[string]int{sourcebuild.Go: 2, sourcebuild.Node: 2, sourcebuild.Python: 1, sourcebuild.Static: 1}[plan.Language])
				want := []string{"/bin/sh", "-c", command}
				cmd := findCommand[*instructions.CmdCommand](t, lastStage(stages))
				if cmd.PrependShell || !slices.Equal(cmd.CmdLine, want) {
					t.Errorf("%s: CMD %q (shell %v), want %q\n%s", plan.Language, cmd.CmdLine, cmd.PrependShell, want, plan.Dockerfile)
				}
				var runs []*instructions.RunCommand
				for _, s := range stages {
					for _, c := range s.Commands {
						if r, ok := c.(*instructions.RunCommand); ok && !r.PrependShell && slices.Equal(r.CmdLine, want) {
							runs = append(runs, r)
						}
					}
				}
				if len(runs) != 1 {
					t.Errorf("%s: %d RUN of the build command in exec form, want 1\n%s", plan.Language, len(runs), plan.Dockerfile)
				}
			}
		})
	}
}

func TestGenerateBadOptions(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
		opts  sourcebuild.Options
		field string
		words []string
	}{
		{"unknown language", goModule, sourcebuild.Options{Language: "rust"}, "language", []string{`"rust"`, "go", "node", "python", "static"}},
		{"language in capitals", goModule, sourcebuild.Options{Language: "Go"}, "language", nil},
		{"version with a space", goModule, sourcebuild.Options{Version: "1.26 AS x"}, "version", []string{`"1.26 AS x"`}},
		{"version with a slash", nodeApp, sourcebuild.Options{Version: "22/../x"}, "version", nil},
		{"version with a variable", nodeApp, sourcebuild.Options{Version: "$V"}, "version", nil},
		{"version starting with a dot", nodeApp, sourcebuild.Options{Version: ".22"}, "version", nil},
		{"version starting with a dash", nodeApp, sourcebuild.Options{Version: "-22"}, "version", nil},
		{"version too long", nodeApp, sourcebuild.Options{Version: strings.Repeat("1", 65)}, "version", nil},
		{"version of a static site", staticApp, sourcebuild.Options{Version: "1"}, "version", []string{"static"}},
		{"version of an image pinned by digest", pythonApp, sourcebuild.Options{Version: "3.13", Images: sourcebuild.Images{Python: "python@sha256:" + strings.Repeat("a", 64)}}, "version", []string{"digest"}},
		{"start on two lines", goModule, sourcebuild.Options{Start: "/app\nRUN rm -rf /"}, "start", []string{"more than one line"}},
		{"start with a carriage return", goModule, sourcebuild.Options{Start: "/app\r"}, "start", nil},
		{"build on two lines", nodeApp, sourcebuild.Options{Build: "npm run build\n"}, "build", nil},
		{"image with a space", nodeApp, sourcebuild.Options{Images: sourcebuild.Images{Node: "node:22 AS x"}}, "images.node", nil},
		{"image that is a flag", goModule, sourcebuild.Options{Images: sourcebuild.Images{GoRuntime: "--platform=linux/arm64"}}, "images.goRuntime", nil},
		{"image with a variable", staticApp, sourcebuild.Options{Images: sourcebuild.Images{Static: "${IMAGE}"}}, "images.static", nil},
		{"image of another language still checked", staticApp, sourcebuild.Options{Images: sourcebuild.Images{Python: "py thon"}}, "images.python", nil},
		{"go image", goModule, sourcebuild.Options{Images: sourcebuild.Images{Go: "golang:1.26\nRUN x"}}, "images.go", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := sourcebuild.Generate(tree(t, tc.files), tc.opts)
			wantError(t, err, tc.field, tc.words...)
		})
	}
}

func TestErrorString(t *testing.T) {
	err := &sourcebuild.Error{Field: "start", Msg: "nothing to start"}
	if got := err.Error(); got != "start: nothing to start" {
		t.Errorf("Error() = %q", got)
	}
}
