package sourcebuild

import (
	"fmt"
	"os"
)

// markers are the files Detect looks for at the context's root, in order, and the language each
// names.
var markers = []struct{ file, language string }{
	{"go.mod", Go},
	{"package.json", Node},
	{"requirements.txt", Python},
	{"pyproject.toml", Python},
	{"setup.py", Python},
	{"index.html", Static},
}

// Detect names the language of the source in dir, the build context, and why, from the first of
// these files at its root: go.mod (Go), package.json (Node), requirements.txt, pyproject.toml or
// setup.py (Python), index.html (Static). When there is none it returns an *Error (Field
// "language") naming the files looked for; a dir that cannot be read is another error.
func Detect(dir string) (language, reason string, err error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return "", "", fmt.Errorf("opening the build context: %w", err)
	}
	defer root.Close()
	return detect(root)
}

func detect(root *os.Root) (language, reason string, err error) {
	for _, m := range markers {
		if exists(root, m.file, false) {
			return m.language, m.file + " at the context's root", nil
		}
	}
	return "", "", invalid("language", "no go.mod, package.json, requirements.txt, pyproject.toml, setup.py or index.html at the context's root: add a Dockerfile, or set the language (go, node, python or static)")
}
