package delivery

import (
	"regexp"
	"strings"
)

// hostDetail finds what a message must not tell a reader who is not an admin (a client of the API, or
// anyone reading a recorded deployment): an absolute path of two or more
// elements or a unix socket, an IP address, a host:port, and the words of network errors.
var hostDetail = regexp.MustCompile(`(?i)(?:^|[\s"'(=])/[\w.-]+/|unix:|\b\d{1,3}(?:\.\d{1,3}){3}\b|\[[0-9a-f]*:[0-9a-f:]*\]|` +
	`\b(?:localhost|[a-z0-9-]+(?:\.[a-z0-9-]+)+):\d{1,5}\b|` +
	`\b(?:dial|lookup|socket|connection refused|connection reset|no such host|i/o timeout|broken pipe|no route to host)\b`)

// WithoutHostDetail is msg cut before the first wrapped error (its first ": ") when a host detail follows; a
// generic sentence when the detail comes before any (it is part of the sentence itself).
func WithoutHostDetail(msg string) string {
	loc := hostDetail.FindStringIndex(msg)
	if loc == nil {
		return msg
	}
	kept := msg[:loc[0]]
	if i := strings.Index(kept, ": "); i >= 0 {
		kept = strings.TrimRight(kept[:i], " :;,(")
	} else if i := strings.LastIndex(kept, " ("); i >= 0 {
		kept = kept[:i] // a parenthesis holding it: "failed (connection reset by peer)"
	} else {
		kept = ""
	}
	if kept == "" {
		return "the server could not complete the request; the details are in the server log"
	}
	return kept + "; the details are in the server log"
}
