package entry

import (
	"context"
	"net"
	"net/http"
	"strings"
)

// DialLocalhost wraps dial (nil: a net.Dialer's) so that it dials an address whose host is "localhost" or
// a name under it at 127.0.0.1, as browsers and curl do (RFC 6761) and Go's resolver does not: what a
// client of entries' URLs (<component>.<environment>.<project>.localhost) needs. Other addresses are
// dialled as given.
func DialLocalhost(dial func(ctx context.Context, network, addr string) (net.Conn, error)) func(ctx context.Context, network, addr string) (net.Conn, error) {
	if dial == nil {
		dial = (&net.Dialer{}).DialContext
	}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		if host, port, err := net.SplitHostPort(addr); err == nil && IsLocalhost(host) {
			addr = net.JoinHostPort("127.0.0.1", port)
		}
		return dial(ctx, network, addr)
	}
}

// IsLocalhost says whether host is "localhost" or a name under it, in any case.
func IsLocalhost(host string) bool {
	h := strings.TrimSuffix(strings.ToLower(host), ".")
	return h == "localhost" || strings.HasSuffix(h, ".localhost")
}

// LocalhostTransport is a clone of http.DefaultTransport that dials names under localhost at 127.0.0.1
// (DialLocalhost).
func LocalhostTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DialContext = DialLocalhost(t.DialContext)
	return t
}
