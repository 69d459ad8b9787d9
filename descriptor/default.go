package descriptor

import (
	"strconv"
	"strings"
)

// Default returns the descriptor of a repository that has none, made from the keys of its image config's
// ExposedPorts, like "8080/tcp", "53/udp" or "8080" (TCP): one endpoint named "default" on the lowest
// port, of type TCP or UDP after its protocol (TCP when a port is exposed as both), public, with no base path and
// no health checks. Keys that are not a port 1 to 65535 over TCP or UDP are ignored; with none left, the
// descriptor has no endpoint. Either way Default is true.
func Default(exposed []string) Descriptor {
	d := Descriptor{Default: true}
	var best Endpoint
	for _, key := range exposed {
		port, proto, _ := strings.Cut(key, "/")
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 {
			continue
		}
		var typ string
		switch strings.ToLower(proto) {
		case "", "tcp":
			typ = TCP
		case "udp":
			typ = UDP
		default:
			continue
		}
		if best.Port == 0 || n < best.Port || (n == best.Port && typ == TCP) {
			best = Endpoint{Name: "default", Port: n, Type: typ, Visibility: Public}
		}
	}
	if best.Port != 0 {
		d.Endpoints = []Endpoint{best}
	}
	return d
}
