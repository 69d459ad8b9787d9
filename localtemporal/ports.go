package localtemporal

import (
	"fmt"
	"math/rand/v2"
	"net"
	"strconv"
	"time"
)

// portPicker chooses free ports for listeners that Temporal and its UI open themselves (they take
// a port number, not a listener). It holds every chosen port bound until release, so no two picks
// can return the same port; the window in which another process could take one is only the time
// between release and the services binding.
type portPicker struct {
	held []net.Listener
}

// resolve splits a host:port, turns a host name into its IPv4 address (Temporal binds IPs only),
// and for port 0 picks a free port on that host. A given port is bound and held too, so a port
// already in use is an error here rather than a crash of the service that binds it later.
func (p *portPicker) resolve(address string) (string, int, error) {
	host, portStr, err := net.SplitHostPort(address)
	if err != nil {
		return "", 0, err
	}
	if host == "" {
		host = "127.0.0.1"
	}
	if net.ParseIP(host) == nil {
		ip, err := net.ResolveIPAddr("ip4", host)
		if err != nil {
			return "", 0, fmt.Errorf("resolving %q: %w", host, err)
		}
		host = ip.IP.String()
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return "", 0, fmt.Errorf("port %q: %w", portStr, err)
	}
	if port == 0 {
		port, err = p.pick(host)
		return host, port, err
	}
	l, err := net.Listen("tcp", net.JoinHostPort(host, portStr))
	if err != nil {
		return "", 0, fmt.Errorf("cannot listen there: %w", err)
	}
	p.held = append(p.held, l)
	return host, port, nil
}

// Ports are picked below Linux's ephemeral range (32768–60999 by default), from which outgoing
// connections take their local ports: a port released there could be taken by any connection
// opened before the service binds it.
const (
	pickFrom  = 20000
	pickSpan  = 12000
	pickTries = 200
)

// pick binds a free port on host and keeps it bound until release.
func (p *portPicker) pick(host string) (int, error) {
	for range pickTries {
		port := pickFrom + rand.IntN(pickSpan)
		if l, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port))); err == nil {
			p.held = append(p.held, l)
			return port, nil
		}
	}
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return 0, fmt.Errorf("finding a free port on %s: %w", host, err)
	}
	p.held = append(p.held, l)
	return l.Addr().(*net.TCPAddr).Port, nil
}

// release unbinds every picked port so the services can bind them.
func (p *portPicker) release() {
	for _, l := range p.held {
		l.Close()
	}
	p.held = nil
}

// waitListening polls until something accepts TCP connections on address, or the deadline passes.
func waitListening(address string, within time.Duration) error {
	deadline := time.Now().Add(within)
	for {
		conn, err := net.DialTimeout("tcp", address, time.Second)
		if err == nil {
			return conn.Close()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("nothing listens on %s after %s: %w", address, within, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
