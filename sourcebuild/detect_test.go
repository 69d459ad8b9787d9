package sourcebuild_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/slipway-dev/slipway/sourcebuild"
)

func TestDetect(t *testing.T) {
	for _, tc := range []struct {
		name         string
		files        map[string]string
		lang, reason string
	}{
		{"go", map[string]string{"go.mod": "module m\n", "main.go": ""}, sourcebuild.Go, "go.mod at the context's root"},
		{"node", map[string]string{"package.json": "{}"}, sourcebuild.Node, "package.json at the context's root"},
		{"python requirements", map[string]string{"requirements.txt": ""}, sourcebuild.Python, "requirements.txt at the context's root"},
		{"python pyproject", map[string]string{"pyproject.toml": ""}, sourcebuild.Python, "pyproject.toml at the context's root"},
		{"python setup.py", map[string]string{"setup.py": ""}, sourcebuild.Python, "setup.py at the context's root"},
		{"static", map[string]string{"index.html": ""}, sourcebuild.Static, "index.html at the context's root"},
		// Precedence: go.mod, package.json, the Python files, index.html.
		{"go before node", map[string]string{"go.mod": "", "package.json": "{}", "index.html": ""}, sourcebuild.Go, "go.mod at the context's root"},
		{"node before python", map[string]string{"package.json": "{}", "requirements.txt": "", "index.html": ""}, sourcebuild.Node, "package.json at the context's root"},
		{"python before static", map[string]string{"pyproject.toml": "", "index.html": ""}, sourcebuild.Python, "pyproject.toml at the context's root"},
		{"requirements before pyproject", map[string]string{"pyproject.toml": "", "requirements.txt": ""}, sourcebuild.Python, "requirements.txt at the context's root"},
		// Only the root counts, and only files.
		{"go.mod in a subdirectory", map[string]string{"svc/go.mod": "", "index.html": ""}, sourcebuild.Static, "index.html at the context's root"},
		{"go.mod a directory", map[string]string{"go.mod/": "", "package.json": "{}"}, sourcebuild.Node, "package.json at the context's root"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lang, reason, err := sourcebuild.Detect(tree(t, tc.files))
			if err != nil {
				t.Fatal(err)
			}
			if lang != tc.lang || reason != tc.reason {
				t.Errorf("Detect = %q, %q; want %q, %q", lang, reason, tc.lang, tc.reason)
			}
		})
	}
}

func TestDetectNothing(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
	}{
		{"empty", nil},
		{"other files", map[string]string{"README.md": "", "src/main.go": "", "public/index.html": ""}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := sourcebuild.Detect(tree(t, tc.files))
			wantError(t, err, "language", "go.mod", "package.json", "requirements.txt", "pyproject.toml", "setup.py", "index.html", "Dockerfile")
		})
	}
}

// A marker that is a symbolic link out of the context is not followed: the context is all
// Generate reads.
func TestDetectLinkOut(t *testing.T) {
	outside := tree(t, map[string]string{"go.mod": "module m\n"})
	dir := tree(t, map[string]string{"index.html": ""})
	if err := os.Symlink(filepath.Join(outside, "go.mod"), filepath.Join(dir, "go.mod")); err != nil {
		t.Fatal(err)
	}
	lang, _, err := sourcebuild.Detect(dir)
	if err != nil || lang != sourcebuild.Static {
		t.Errorf("Detect = %q, %v; want static", lang, err)
	}
}

func TestDetectMissingDir(t *testing.T) {
	_, _, err := sourcebuild.Detect(filepath.Join(t.TempDir(), "nope"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Detect = %v, want a not-exist error", err)
	}
	if _, err := sourcebuild.Generate(filepath.Join(t.TempDir(), "nope"), sourcebuild.Options{}); err == nil {
		t.Error("Generate of a missing directory succeeded")
	}
}
