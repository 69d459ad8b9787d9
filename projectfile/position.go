package projectfile

import (
	"fmt"
	"strings"
)

// entityError is the error of an API call made for the entity at path (e.g. "projects[0].components[1]"): it says
// what was being done and, when f was parsed, where in the file — the line of the field the API names, else of
// the entity. It wraps err, so that errors.As still finds the API's status.
func (f *File) entityError(path, doing string, err error) error {
	if f == nil || f.lines == nil || path == "" {
		return fmt.Errorf("%s: %w", doing, err)
	}
	at := path
	if field := fieldOf(err); field != "" {
		at = path + "." + field
	}
	return fmt.Errorf("%s:%d: %s: %s: %w", f.name, f.lineOf(at), at, doing, err)
}

// lineOf is the line of the field at path or, when the file does not give that field, of the nearest enclosing
// one it gives; 1 when none.
func (f *File) lineOf(path string) int {
	for path != "" {
		if line, ok := f.lines[path]; ok {
			return line
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			break
		}
		path = path[:i]
	}
	return 1
}
