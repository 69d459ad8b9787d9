package console

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"net/url"
	"strings"
	"time"

	"github.com/slipway-dev/slipway/api"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static
var staticFiles embed.FS

// Static holds the assets the pages load, served under AssetsPrefix.
func Static() fs.FS {
	sub, err := fs.Sub(staticFiles, "static")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	return sub
}

// AssetsPrefix is the path the assets are served under; AssetVersion is appended to their links as ?v=, so a
// new binary's assets are never taken from a browser's cache of the old ones.
const AssetsPrefix = "/assets/"

// AssetVersion is a hash of the embedded assets.
var AssetVersion = func() string {
	h := sha256.New()
	_ = fs.WalkDir(staticFiles, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := staticFiles.ReadFile(p)
		h.Write([]byte(p))
		h.Write(b)
		return err
	})
	return hex.EncodeToString(h.Sum(nil))[:12]
}()

// Pages renders the console's pages. Build it with New; it is safe for concurrent use.
type Pages struct {
	pages map[string]*template.Template
}

// New parses every page of the console. It panics on a template error, which is a programming error caught by
// any test that builds a Server.
func New() *Pages {
	base := template.Must(template.New("layout.html").Funcs(funcs).ParseFS(templateFiles, "templates/layout.html"))
	names, err := fs.Glob(templateFiles, "templates/*.html")
	if err != nil {
		panic(err)
	}
	p := &Pages{pages: map[string]*template.Template{}}
	for _, n := range names {
		name := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if name == "layout" {
			continue
		}
		p.pages[name] = template.Must(template.Must(base.Clone()).ParseFS(templateFiles, n))
	}
	return p
}

// Render writes page (a template file's name without .html) with data to w. The page is rendered into a buffer
// first, so a template error leaves w untouched for an error page.
func (p *Pages) Render(w io.Writer, page string, data any) error {
	t, ok := p.pages[page]
	if !ok {
		return fmt.Errorf("console: no page %q", page)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", data); err != nil {
		return fmt.Errorf("console: rendering %s: %w", page, err)
	}
	_, err := buf.WriteTo(w)
	return err
}

// Fragment writes the template named name of page (a {{define}} in the page's file) with data to w: the part of
// a page that console.js loads on its own, such as the Build Area's commits.
func (p *Pages) Fragment(w io.Writer, page, name string, data any) error {
	t, ok := p.pages[page]
	if !ok {
		return fmt.Errorf("console: no page %q", page)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, name, data); err != nil {
		return fmt.Errorf("console: rendering %s of %s: %w", name, page, err)
	}
	_, err := buf.WriteTo(w)
	return err
}

var funcs = template.FuncMap{
	"short":       short,
	"shortID":     shortID,
	"shortDigest": shortDigest,
	"ago":         ago,
	"when":        when,
	"duration":    duration,
	"buildTime":   buildTime,
	"bytes":       humanBytes,
	"title":       firstLine,
	"lower":       strings.ToLower,
	"asset":       func(name string) string { return AssetsPrefix + name + "?v=" + AssetVersion },
	"add":         func(a, b int) int { return a + b },
	"pathEscape":  pathEscape,
}

// short is a commit's first 7 hex digits.
func short(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}

// shortID is an ID made of a prefix and hex digits ("b-0123456789abcdef") cut to the prefix and its first 8
// digits; any other ID as it is.
func shortID(id string) string {
	prefix, digits, ok := strings.Cut(id, "-")
	if !ok || len(digits) <= 8 {
		return id
	}
	return prefix + "-" + digits[:8]
}

// shortDigest is "sha256:" and a digest's first 12 hex digits.
func shortDigest(d string) string {
	algo, hexPart, ok := strings.Cut(d, ":")
	if !ok || len(hexPart) <= 12 {
		return d
	}
	return algo + ":" + hexPart[:12]
}

// now is the clock ago reads; tests set it.
var now = time.Now

// ago says how long before now t was, in the largest whole unit ("5s ago", "3m ago", "2h ago", "4d ago").
func ago(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	d := now().Sub(t)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds ago", max(0, int(d/time.Second)))
	case d < time.Hour:
		return fmt.Sprintf("%dm ago", int(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh ago", int(d/time.Hour))
	}
	return fmt.Sprintf("%dd ago", int(d/(24*time.Hour)))
}

// when is t as an RFC 3339 UTC time, for a <time datetime> and its title.
func when(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// duration is how long from start to end, rounded ("850ms", "12.3s", "2m05s"); end nil means until now, start
// nil means "".
func duration(start, end *time.Time) string {
	if start == nil {
		return ""
	}
	stop := now()
	if end != nil {
		stop = *end
	}
	d := stop.Sub(*start)
	switch {
	case d < time.Second:
		return fmt.Sprintf("%dms", d.Milliseconds())
	case d < time.Minute:
		return fmt.Sprintf("%.1fs", d.Seconds())
	}
	return fmt.Sprintf("%dm%02ds", int(d/time.Minute), int(d%time.Minute/time.Second))
}

// buildTime is how long a build took (or has taken so far).
func buildTime(b api.Build) string { return duration(b.StartedAt, b.EndedAt) }

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// pathEscape escapes one path segment (names are DNS labels, but a key of a config may hold anything).
func pathEscape(s string) string { return url.PathEscape(s) }
