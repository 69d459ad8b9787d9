package projectfile

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"gopkg.in/yaml.v3"
)

// decoder walks a YAML document, collecting every error (not only the first) with its line and field path, and
// recording the line of every field it sees.
type decoder struct {
	// name is the file's name, put in front of each error.
	name string
	// errs are the problems found so far, in the order found.
	errs []lineError
	// lines maps each field path seen to its line.
	lines map[string]int
	// failed holds the paths a problem was reported for.
	failed map[string]bool
}

// lineError is one problem at a line of the file.
type lineError struct {
	line int
	text string
}

// failf records a problem with the field at path, on line.
func (d *decoder) failf(line int, path, format string, args ...any) {
	text := fmt.Sprintf("%s:%d: %s: %s", d.name, line, path, fmt.Sprintf(format, args...))
	if path == "" {
		text = fmt.Sprintf("%s:%d: %s", d.name, line, fmt.Sprintf(format, args...))
	}
	d.errs = append(d.errs, lineError{line: line, text: text})
	d.failed[path] = true
}

// err is every problem found, one per line in the order of the file; nil when there is none.
func (d *decoder) err() error {
	slices.SortStableFunc(d.errs, func(a, b lineError) int { return cmp.Compare(a.line, b.line) })
	errs := make([]error, len(d.errs))
	for i, e := range d.errs {
		errs[i] = errors.New(e.text)
	}
	return errors.Join(errs...)
}

// field is the path of key under path.
func field(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// item is the path of the i-th element of the list at path.
func item(path string, i int) string { return fmt.Sprintf("%s[%d]", path, i) }

// deref follows an alias to the node it names.
func deref(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

// isNull says n is YAML's null (an empty value, "~" or "null"): a key given no value counts as absent.
func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.Tag == "!!null" }

// describe names what n is, for "must be …, got …".
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return strconv.Quote(n.Value)
	}
	return "something else"
}

// mapping calls each(key, value) for the pairs of the mapping n at path, in order, recording each key's line and
// reporting a key given twice; it reports n not being a mapping (null is an empty one).
func (d *decoder) mapping(n *yaml.Node, path string, each func(key string, line int, v *yaml.Node)) {
	n = deref(n)
	if isNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		d.failf(n.Line, path, "must be a mapping, got %s", describe(n))
		return
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := deref(n.Content[i]), deref(n.Content[i+1])
		if k.Kind != yaml.ScalarNode {
			d.failf(k.Line, path, "a key must be a string, got %s", describe(k))
			continue
		}
		if first, ok := seen[k.Value]; ok {
			d.failf(k.Line, field(path, k.Value), "given twice (first at line %d)", first)
			continue
		}
		seen[k.Value] = k.Line
		d.lines[field(path, k.Value)] = k.Line
		each(k.Value, k.Line, v)
	}
}

// fields is mapping for a struct-like mapping: each key must be one of handlers; an unknown one is reported.
func (d *decoder) fields(n *yaml.Node, path string, handlers map[string]func(v *yaml.Node, path string)) {
	d.mapping(n, path, func(key string, line int, v *yaml.Node) {
		h, ok := handlers[key]
		if !ok {
			d.failf(line, field(path, key), "unknown field")
			return
		}
		if !isNull(v) {
			h(v, field(path, key))
		}
	})
}

// list calls each(i, item) for the items of the list n at path, recording each item's line; it reports n not
// being a list (null is an empty one).
func (d *decoder) list(n *yaml.Node, path string, each func(i int, v *yaml.Node, path string)) {
	n = deref(n)
	if isNull(n) {
		return
	}
	if n.Kind != yaml.SequenceNode {
		d.failf(n.Line, path, "must be a list, got %s", describe(n))
		return
	}
	for i, v := range n.Content {
		v = deref(v)
		d.lines[item(path, i)] = v.Line
		each(i, v, item(path, i))
	}
}

// str is the string n; any scalar counts (8080 is "8080").
func (d *decoder) str(n *yaml.Node, path string) string {
	if n.Kind != yaml.ScalarNode {
		d.failf(n.Line, path, "must be a string, got %s", describe(n))
		return ""
	}
	if isNull(n) {
		return ""
	}
	return n.Value
}

// boolean is the boolean n.
func (d *decoder) boolean(n *yaml.Node, path string) bool {
	var b bool
	if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" || n.Decode(&b) != nil {
		d.failf(n.Line, path, "must be true or false, got %s", describe(n))
	}
	return b
}

// integer is the whole number n.
func (d *decoder) integer(n *yaml.Node, path string) int64 {
	var v int64
	if n.Kind != yaml.ScalarNode || n.Tag != "!!int" || n.Decode(&v) != nil {
		d.failf(n.Line, path, "must be a whole number, got %s", describe(n))
	}
	return v
}

// intIn is the whole number n, reported unless it is in [lo, hi]; what says what lo means.
func (d *decoder) intIn(n *yaml.Node, path string, lo, hi int64, what string) int {
	v := d.integer(n, path)
	if v < lo || v > hi {
		d.failf(n.Line, path, "must be between %d (%s) and %d, got %d", lo, what, hi, v)
	}
	return int(v)
}

// number is the number n.
func (d *decoder) number(n *yaml.Node, path string) float64 {
	var v float64
	if n.Kind != yaml.ScalarNode || (n.Tag != "!!int" && n.Tag != "!!float") || n.Decode(&v) != nil {
		d.failf(n.Line, path, "must be a number, got %s", describe(n))
	}
	return v
}

// check reports msg, when not "", at n's line for path, unless a problem with path was reported already (a
// value of the wrong type is not checked further).
func (d *decoder) check(n *yaml.Node, path, msg string) {
	if msg != "" && !d.failed[path] {
		d.failf(n.Line, path, "%s", msg)
	}
}
