package store

import (
	"strconv"
	"strings"
)

// dialect is what differs between SQLite and PostgreSQL for this package's SQL. Queries are written once, with
// `?` placeholders and portable types; everything else is here.
type dialect struct {
	// name is "sqlite" or "postgres".
	name string
	// numbered means placeholders are $1, $2, … instead of ?.
	numbered bool
	// blob is the type name of a byte-string column.
	blob string
	// text is the type of a text column compared byte by byte, whatever the database's locale.
	text string
	// shareClause and updateClause are appended to a SELECT of a parent row inside a write transaction:
	// shareClause keeps the row from being deleted until commit; updateClause also serialises writers that
	// renumber the row's children (environment positions). SQLite needs neither: its write transactions begin
	// IMMEDIATE and so run one at a time.
	shareClause, updateClause string
}

func sqliteDialect() dialect { return dialect{name: "sqlite", blob: "BLOB", text: "TEXT"} }

func postgresDialect() dialect {
	return dialect{
		name: "postgres", numbered: true, blob: "BYTEA", text: `TEXT COLLATE "C"`,
		shareClause: " FOR KEY SHARE", updateClause: " FOR NO KEY UPDATE",
	}
}

// lock says which row lock a SELECT of a parent row takes.
type lock int

const (
	lockNone lock = iota
	lockShare
	lockUpdate
)

// suffix returns the clause that takes l in d.
func (d dialect) suffix(l lock) string {
	switch l {
	case lockShare:
		return d.shareClause
	case lockUpdate:
		return d.updateClause
	}
	return ""
}

// rebind rewrites the ? placeholders of query for d. A ? inside a single-quoted string literal is left alone.
func (d dialect) rebind(query string) string {
	if !d.numbered || !strings.Contains(query, "?") {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 16)
	n, quoted := 0, false
	for _, r := range query {
		switch {
		case r == '\'':
			quoted = !quoted
		case r == '?' && !quoted:
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// schema fills the type placeholders of a migration: {{blob}} and {{text}}.
func (d dialect) schema(migration string) string {
	return strings.NewReplacer("{{blob}}", d.blob, "{{text}}", d.text).Replace(migration)
}
