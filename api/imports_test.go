package api

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// allowedImports are the only non-standard packages api may import: plain data, so that the store and the
// deterministic workflows may import api.
var allowedImports = map[string]bool{
	"github.com/slipway-dev/slipway/descriptor": true,
	"github.com/slipway-dev/slipway/scan":       true,
}

func TestImportsOnlyPlainData(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			path, err := strconv.Unquote(imp.Path.Value)
			if err != nil {
				t.Fatal(err)
			}
			first, _, _ := strings.Cut(path, "/")
			if strings.Contains(first, ".") && !allowedImports[path] {
				t.Errorf("%s imports %s: api may import only the standard library, descriptor and scan", name, path)
			}
		}
		checked++
	}
	if checked == 0 {
		t.Fatal("no source file of package api found")
	}
}
