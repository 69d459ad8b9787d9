package descriptor

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// MaxSize is the largest descriptor Parse accepts, in bytes.
const MaxSize = 1 << 20

const (
	// maxProblems bounds the problems one Error lists; the rest are counted.
	maxProblems = 100
	// maxRecorded bounds the problems Parse records before it sorts them by line; the rest are counted.
	maxRecorded = 10 * maxProblems
	// maxSeconds bounds a probe's durations: a day.
	maxSeconds = 86400
)

var (
	dnsLabel      = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
	envName       = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	yamlLine      = regexp.MustCompile(`(?s)^yaml: line (\d+): (.*)$`)
	unknownAnchor = regexp.MustCompile(`^unknown anchor '(.*)' referenced$`)
)

// types maps an endpoint type in lower case to its canonical spelling.
var types = map[string]string{
	"rest": REST, "graphql": GraphQL, "grpc": GRPC, "tcp": TCP, "udp": UDP, "ws": WS,
}

// Parse decodes and validates the descriptor in data, read from file (used in error messages only). Empty
// data, or a document that is null, is a valid descriptor that declares nothing.
//
// Unknown fields are errors. A field that is null, or an optional string that is empty, counts as not
// given. Parse fills in the defaults the types' doc comments state: an endpoint's BasePath, a probe's
// durations and port, a requirement's Env; it canonicalises an endpoint's Type.
//
// Any problem, including a YAML syntax error or data larger than MaxSize, makes Parse return an *Error
// that matches ErrInvalid and lists every problem found with its line and field (the first 100 of them in
// line order, and a count of the rest). For a syntax error the line is yaml.v3's, which may be the first
// line of the block the error is in.
func Parse(file string, data []byte) (Descriptor, error) {
	if len(data) > MaxSize {
		return Descriptor{}, invalid(file, 0, "", fmt.Sprintf("is %d bytes, more than the limit of %d", len(data), MaxSize))
	}
	doc, err := decodeYAML(file, data)
	if err != nil {
		return Descriptor{}, err
	}
	var p parser
	d := p.descriptor(doc)
	if len(p.problems) > 0 {
		return Descriptor{}, p.err(file)
	}
	return d, nil
}

// decodeYAML returns the root node of the single YAML document in data, or nil when data holds none.
func decodeYAML(file string, data []byte) (root *yaml.Node, err error) {
	defer func() {
		// yaml.v3 turns its own failures into errors; this catches anything else it might throw.
		if r := recover(); r != nil {
			root, err = nil, invalid(file, 0, "", fmt.Sprintf("cannot be read as YAML: %v", r))
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	switch err := dec.Decode(&doc); {
	case errors.Is(err, io.EOF):
		return nil, nil
	case err != nil:
		return nil, syntaxError(file, data, err)
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case errors.Is(err, io.EOF):
	case err != nil:
		return nil, syntaxError(file, data, err)
	default:
		return nil, invalid(file, next.Line, "", "holds a second YAML document; a descriptor is one document")
	}
	if doc.Kind == yaml.DocumentNode {
		if len(doc.Content) == 0 {
			return nil, nil
		}
		return doc.Content[0], nil
	}
	return &doc, nil
}

// syntaxError turns yaml.v3's "yaml: line N: message" into an *Error on that line. yaml.v3 leaves the line
// out for an error on the first line, for an unknown anchor and for bytes YAML does not allow; those are
// located in data.
func syntaxError(file string, data []byte, err error) *Error {
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		if line, err := strconv.Atoi(m[1]); err == nil {
			return invalid(file, line, "", "invalid YAML: "+m[2])
		}
	}
	msg = strings.TrimPrefix(msg, "yaml: ")
	offset := 0 // the first line, unless something below says otherwise
	if m := unknownAnchor.FindStringSubmatch(msg); m != nil {
		offset = max(0, bytes.Index(data, []byte("*"+m[1])))
	} else if i := disallowed(data); i >= 0 {
		offset = i
	}
	return invalid(file, 1+bytes.Count(data[:offset], []byte("\n")), "", "invalid YAML: "+msg)
}

// disallowed returns the offset of the first byte in data that starts invalid UTF-8 or a character YAML
// does not allow in a document, or -1.
func disallowed(data []byte) int {
	for i, r := range string(data) {
		switch {
		case r == utf8.RuneError:
			if _, size := utf8.DecodeRune(data[i:]); size <= 1 {
				return i
			}
		case r == '\t' || r == '\n' || r == '\r' || r == 0x85:
		case r < 0x20 || (r >= 0x7f && r < 0xa0) || (r >= 0xd800 && r < 0xe000) || r == 0xfffe || r == 0xffff:
			return i
		}
	}
	return -1
}

// parser walks a descriptor's YAML nodes, building the Descriptor and collecting its problems.
type parser struct {
	problems []Problem
	// unrecorded counts the problems found past maxRecorded.
	unrecorded int
}

// report records a problem with field at n's line (or line 0 for a nil n).
func (p *parser) report(n *yaml.Node, field, format string, args ...any) {
	if len(p.problems) == maxRecorded {
		p.unrecorded++
		return
	}
	line := 0
	if n != nil {
		line = n.Line
	}
	p.problems = append(p.problems, Problem{Line: line, Field: field, Message: fmt.Sprintf(format, args...)})
}

// err returns the problems found as an *Error: the first maxProblems of those recorded, in line order, and
// a count of the others.
func (p *parser) err(file string) *Error {
	problems := slices.Clone(p.problems)
	slices.SortStableFunc(problems, func(a, b Problem) int { return cmp.Compare(a.Line, b.Line) })
	if n := len(problems) + p.unrecorded; n > maxProblems {
		problems = append(problems[:maxProblems], Problem{Message: fmt.Sprintf("and %d more problems", n-maxProblems)})
	}
	return &Error{File: file, Problems: problems}
}

func (p *parser) descriptor(root *yaml.Node) Descriptor {
	var d Descriptor
	if isNull(root) {
		return d
	}
	f := p.fields(root, "", "endpoints", "health", "required", "build")
	d.Endpoints = p.endpoints(f["endpoints"])
	d.Health = p.health(f["health"], d.Endpoints)
	d.Required = p.required(f["required"])
	d.Build = p.build(f["build"])
	return d
}

// build reads `build: source` (or dockerfile) or a mapping of Build's fields.
func (p *parser) build(n *yaml.Node) Build {
	var b Build
	n = deref(n)
	if isNull(n) {
		return b
	}
	buildType := func(v *yaml.Node, field string) string {
		t, _ := p.str(v, field)
		switch strings.ToLower(t) {
		case "", BuildDockerfile, BuildSource:
			return strings.ToLower(t)
		}
		p.report(v, field, "must be %s or %s, got %s", BuildDockerfile, BuildSource, quote(t))
		return ""
	}
	if n.Kind == yaml.ScalarNode {
		b.Type = buildType(n, "build")
		return b
	}
	f := p.fields(n, "build", "type", "language", "version", "command", "start")
	if f == nil {
		return b
	}
	b.Type = buildType(f["type"], "build.type")
	for _, kv := range []struct {
		key string
		dst *string
	}{{"language", &b.Language}, {"version", &b.Version}, {"command", &b.Command}, {"start", &b.Start}} {
		v, ok := p.str(f[kv.key], "build."+kv.key)
		switch {
		case !ok:
		case hasControl(v):
			p.report(f[kv.key], "build."+kv.key, "must be one line without control characters, got %s", quote(v))
		default:
			*kv.dst = v
		}
	}
	if b.Type == BuildDockerfile && (b.Language != "" || b.Version != "" || b.Command != "" || b.Start != "") {
		p.report(n, "build", "language, version, command and start are for a source build, not type %s", BuildDockerfile)
	}
	return b
}

func (p *parser) endpoints(n *yaml.Node) []Endpoint {
	var out []Endpoint
	names := make(map[string]string) // endpoint name → field of the endpoint that has it
	items, _ := p.list(n, "endpoints")
	for i, item := range items {
		field := fmt.Sprintf("endpoints[%d]", i)
		e := p.endpoint(item, field)
		if e.Name != "" {
			if first, ok := names[e.Name]; ok {
				p.report(deref(item), field+".name", "%q is already the name of %s", e.Name, first)
			} else {
				names[e.Name] = field
			}
		}
		out = append(out, e)
	}
	return out
}

func (p *parser) endpoint(n *yaml.Node, field string) Endpoint {
	var e Endpoint
	f := p.fields(n, field, "name", "port", "type", "basePath", "schemaFilePath", "visibility")
	if f == nil {
		return e
	}
	n = deref(n)

	if name, ok := p.requiredString(n, f["name"], field+".name"); ok {
		if len(name) > 63 || !dnsLabel.MatchString(name) {
			p.report(f["name"], field+".name", "must be a DNS-1123 label (lowercase letters, digits and '-', "+
				"starting and ending with a letter or digit, at most 63 characters), got %s", quote(name))
		} else {
			e.Name = name
		}
	}
	if f["port"] == nil || isNull(deref(f["port"])) {
		p.report(n, field+".port", "is required")
	} else {
		e.Port, _ = p.integer(f["port"], field+".port", 1, 65535)
	}
	if typ, ok := p.requiredString(n, f["type"], field+".type"); ok {
		if canonical, ok := types[strings.ToLower(typ)]; ok {
			e.Type = canonical
		} else {
			p.report(f["type"], field+".type", "must be one of REST, GraphQL, gRPC, TCP, UDP and WS, got %s", quote(typ))
		}
	}

	basePath, _ := p.str(f["basePath"], field+".basePath")
	switch {
	case basePath == "":
		if e.Type == REST || e.Type == GraphQL || e.Type == WS {
			e.BasePath = "/"
		}
	case e.Type == TCP || e.Type == UDP:
		p.report(f["basePath"], field+".basePath", "a %s endpoint has no base path", e.Type)
	case !strings.HasPrefix(basePath, "/") || hasControl(basePath):
		p.report(f["basePath"], field+".basePath", "must start with '/' and hold no control characters, got %s", quote(basePath))
	default:
		e.BasePath = basePath
	}

	schema, _ := p.str(f["schemaFilePath"], field+".schemaFilePath")
	switch {
	case schema == "":
	case !isLocal(schema):
		p.report(f["schemaFilePath"], field+".schemaFilePath",
			"must be a relative path that stays inside the repository, with no control characters, got %s", quote(schema))
	case e.Type == TCP || e.Type == UDP || e.Type == WS:
		p.report(f["schemaFilePath"], field+".schemaFilePath",
			"a %s endpoint has no schema file; only REST, GraphQL and gRPC endpoints have one", e.Type)
	default:
		e.SchemaFilePath = schema
	}

	switch vis, _ := p.str(f["visibility"], field+".visibility"); strings.ToLower(vis) {
	case "", Public:
		e.Visibility = Public
	case Project:
		e.Visibility = Project
	default:
		p.report(f["visibility"], field+".visibility", "must be public (reached through the entry) or project (only inside the environment), got %s", quote(vis))
	}
	return e
}

func (p *parser) health(n *yaml.Node, endpoints []Endpoint) Health {
	if isNull(deref(n)) {
		return Health{}
	}
	f := p.fields(n, "health", "readiness", "liveness")
	return Health{
		Readiness: p.probe(f["readiness"], "health.readiness", endpoints),
		Liveness:  p.probe(f["liveness"], "health.liveness", endpoints),
	}
}

func (p *parser) probe(n *yaml.Node, field string, endpoints []Endpoint) *Probe {
	if isNull(deref(n)) {
		return nil
	}
	f := p.fields(n, field, "http", "tcp", "exec",
		"initialDelaySeconds", "periodSeconds", "timeoutSeconds", "failureThreshold")
	if f == nil {
		return nil
	}
	n = deref(n)
	pr := Probe{PeriodSeconds: 10, TimeoutSeconds: 1, FailureThreshold: 3}

	var kinds []string
	for _, k := range []string{"http", "tcp", "exec"} {
		if !isNull(deref(f[k])) {
			kinds = append(kinds, k)
		}
	}
	switch len(kinds) {
	case 0:
		p.report(n, field, "must have one of http, tcp and exec")
	case 1:
	default:
		p.report(n, field, "must have only one of http, tcp and exec, has %s", strings.Join(kinds, " and "))
	}
	if len(kinds) > 0 {
		switch kinds[0] {
		case "http":
			pr.HTTP = p.httpProbe(f["http"], field+".http", endpoints)
		case "tcp":
			pr.TCP = p.tcpProbe(f["tcp"], field+".tcp", endpoints)
		case "exec":
			pr.Exec = p.execProbe(f["exec"], field+".exec")
		}
	}

	seconds := func(key string, lo int64, value *int) {
		if !isNull(deref(f[key])) {
			*value, _ = p.integer(f[key], field+"."+key, lo, maxSeconds)
		}
	}
	seconds("initialDelaySeconds", 0, &pr.InitialDelaySeconds)
	seconds("periodSeconds", 1, &pr.PeriodSeconds)
	seconds("timeoutSeconds", 1, &pr.TimeoutSeconds)
	seconds("failureThreshold", 1, &pr.FailureThreshold)
	return &pr
}

func (p *parser) httpProbe(n *yaml.Node, field string, endpoints []Endpoint) *HTTPProbe {
	f := p.fields(n, field, "path", "port")
	if f == nil {
		return nil
	}
	var h HTTPProbe
	if path, ok := p.requiredString(deref(n), f["path"], field+".path"); ok {
		if strings.HasPrefix(path, "/") && !hasControl(path) {
			h.Path = path
		} else {
			p.report(f["path"], field+".path", "must start with '/' and hold no control characters, got %s", quote(path))
		}
	}
	h.Port = p.probePort(n, f["port"], field+".port", endpoints)
	return &h
}

func (p *parser) tcpProbe(n *yaml.Node, field string, endpoints []Endpoint) *TCPProbe {
	f := p.fields(n, field, "port")
	if f == nil {
		return nil
	}
	return &TCPProbe{Port: p.probePort(n, f["port"], field+".port", endpoints)}
}

// probePort returns the port at n, or the first endpoint's port when n is not given.
func (p *parser) probePort(parent, n *yaml.Node, field string, endpoints []Endpoint) int {
	if !isNull(deref(n)) {
		port, _ := p.integer(n, field, 1, 65535)
		return port
	}
	if len(endpoints) == 0 {
		p.report(deref(parent), field, "is required when there are no endpoints")
		return 0
	}
	return endpoints[0].Port
}

func (p *parser) execProbe(n *yaml.Node, field string) *ExecProbe {
	f := p.fields(n, field, "command")
	if f == nil {
		return nil
	}
	var e ExecProbe
	items, ok := p.list(f["command"], field+".command")
	if !ok {
		return &e
	}
	if len(items) == 0 {
		p.report(deref(n), field+".command", "must be a non-empty list of strings")
		return &e
	}
	for i, item := range items {
		arg, _ := p.str(item, fmt.Sprintf("%s.command[%d]", field, i))
		e.Command = append(e.Command, arg)
	}
	if e.Command[0] == "" {
		p.report(deref(items[0]), field+".command[0]", "must name the program to run")
	}
	return &e
}

func (p *parser) required(n *yaml.Node) Required {
	if isNull(deref(n)) {
		return Required{}
	}
	f := p.fields(n, "required", "configs", "secrets")
	seen := requirementsSeen{names: map[string]string{}, envs: map[string]string{}, files: map[string]string{}}
	return Required{
		Configs: p.requirements(f["configs"], "required.configs", seen),
		Secrets: p.requirements(f["secrets"], "required.secrets", seen),
	}
}

// requirementsSeen maps the names, envs and files taken so far to the field of the requirement that has
// each.
type requirementsSeen struct {
	names, envs, files map[string]string
}

func (p *parser) requirements(n *yaml.Node, field string, seen requirementsSeen) []Requirement {
	var out []Requirement
	items, _ := p.list(n, field)
	for i, item := range items {
		out = append(out, p.requirement(item, fmt.Sprintf("%s[%d]", field, i), seen))
	}
	return out
}

func (p *parser) requirement(n *yaml.Node, field string, seen requirementsSeen) Requirement {
	var r Requirement
	f := p.fields(n, field, "name", "env", "file", "description")
	if f == nil {
		return r
	}
	n = deref(n)
	// taken reports whether another requirement already has value, reporting it at key if so.
	taken := func(what, value string, key string, in map[string]string) bool {
		if first, ok := in[value]; ok {
			p.report(f[key], field+"."+key, "%s %q is already used by %s", what, value, first)
			return true
		}
		in[value] = field
		return false
	}

	if name, ok := p.requiredString(n, f["name"], field+".name"); ok {
		if envName.MatchString(name) && !taken("name", name, "name", seen.names) {
			r.Name = name
		} else if !envName.MatchString(name) {
			p.report(f["name"], field+".name", "must be a letter or '_' followed by letters, digits and '_', got %s", quote(name))
		}
	}
	env, _ := p.str(f["env"], field+".env")
	file, _ := p.str(f["file"], field+".file")
	r.Description, _ = p.str(f["description"], field+".description")

	if env != "" && file != "" {
		p.report(f["file"], field, "env and file are mutually exclusive")
	}
	if env != "" {
		if envName.MatchString(env) {
			r.Env = env
		} else {
			p.report(f["env"], field+".env", "must be a letter or '_' followed by letters, digits and '_', got %s", quote(env))
		}
	}
	if file != "" {
		if path.IsAbs(file) && path.Clean(file) == file && file != "/" && !hasControl(file) {
			r.File = file
			taken("file", file, "file", seen.files)
		} else {
			p.report(f["file"], field+".file", "must be a clean absolute path to a file with no control characters, got %s", quote(file))
		}
	}
	if env == "" && file == "" {
		r.Env = r.Name
	}
	if r.Env != "" {
		key := "env"
		if env == "" {
			key = "name"
		}
		taken("env", r.Env, key, seen.envs)
	}
	return r
}

// fields returns the values of mapping n by key, reporting a node that is not a mapping (null included)
// and keys that are not among known or appear twice.
func (p *parser) fields(n *yaml.Node, field string, known ...string) map[string]*yaml.Node {
	n = deref(n)
	if !isMapping(n) {
		p.report(n, field, "must be a mapping, got %s", describe(n))
		return nil
	}
	m := make(map[string]*yaml.Node, len(known))
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := deref(n.Content[i]), n.Content[i+1]
		switch {
		case k.Kind != yaml.ScalarNode:
			p.report(k, field, "keys must be strings, got %s", describe(k))
		case k.ShortTag() == "!!merge":
			p.report(k, field, "merge keys (<<) are not supported")
		case !slices.Contains(known, k.Value):
			p.report(k, field, "unknown field %s (known: %s)", quote(k.Value), strings.Join(known, ", "))
		case m[k.Value] != nil:
			p.report(k, join(field, k.Value), "appears more than once")
		default:
			m[k.Value] = v
		}
	}
	return m
}

// list returns the items of sequence n, none for a null n; ok is false, and a problem reported, when n is
// anything else.
func (p *parser) list(n *yaml.Node, field string) (items []*yaml.Node, ok bool) {
	n = deref(n)
	if isNull(n) {
		return nil, true
	}
	if n.Kind != yaml.SequenceNode {
		p.report(n, field, "must be a list, got %s", describe(n))
		return nil, false
	}
	return n.Content, true
}

// str returns the string at n, or "" when n is missing or null; it reports any other kind of node.
func (p *parser) str(n *yaml.Node, field string) (string, bool) {
	n = deref(n)
	if isNull(n) {
		return "", true
	}
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!str" {
		p.report(n, field, "must be a string, got %s", describe(n))
		return "", false
	}
	return n.Value, true
}

// requiredString returns the string at n, reporting, at parent's line, that it is required when it is missing,
// null or empty.
func (p *parser) requiredString(parent, n *yaml.Node, field string) (string, bool) {
	s, ok := p.str(n, field)
	if ok && s == "" {
		p.report(parent, field, "is required")
		return "", false
	}
	return s, ok
}

// integer returns the integer at n, reporting anything but an integer between lo and hi.
func (p *parser) integer(n *yaml.Node, field string, lo, hi int64) (int, bool) {
	n = deref(n)
	if n == nil || n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" {
		p.report(n, field, "must be an integer, got %s", describe(n))
		return 0, false
	}
	var v int64
	if err := n.Decode(&v); err != nil || v < lo || v > hi {
		p.report(n, field, "must be between %d and %d, got %s", lo, hi, short(n.Value))
		return 0, false
	}
	return int(v), true
}

// deref returns the node an alias stands for, or n itself.
func deref(n *yaml.Node) *yaml.Node {
	if n != nil && n.Kind == yaml.AliasNode {
		return n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n == nil || n.Kind == 0 || (n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null")
}

func isMapping(n *yaml.Node) bool {
	n = deref(n)
	return n != nil && n.Kind == yaml.MappingNode
}

// isLocal reports whether the slash-separated path s names a file inside the directory it is relative to.
func isLocal(s string) bool {
	return !hasControl(s) && filepath.IsLocal(filepath.FromSlash(s))
}

// hasControl reports whether s holds a control character, such as NUL or a line break.
func hasControl(s string) bool {
	return strings.ContainsFunc(s, unicode.IsControl)
}

// describe names what n holds, for messages.
func describe(n *yaml.Node) string {
	switch {
	case isNull(n):
		return "null"
	case n.Kind == yaml.MappingNode:
		return "a mapping"
	case n.Kind == yaml.SequenceNode:
		return "a list"
	case n.Kind != yaml.ScalarNode:
		return "an alias"
	}
	switch tag := n.ShortTag(); tag {
	case "!!str":
		return "the string " + quote(n.Value)
	case "!!int", "!!float":
		return "the number " + short(n.Value)
	case "!!bool":
		return short(n.Value)
	default:
		return tag + " " + quote(n.Value)
	}
}

// quote quotes s for a message, cutting it short when it is long.
func quote(s string) string { return strconv.Quote(short(s)) }

func short(s string) string {
	if r := []rune(s); len(r) > 64 {
		return string(r[:61]) + "..."
	}
	return s
}

// join appends key to the field path field.
func join(field, key string) string {
	if field == "" {
		return key
	}
	return field + "." + key
}
