package localtemporal

import (
	"fmt"
	"net"
	"strconv"
	"time"
)

// resolvePort splits a host:port and, for port 0, picks a free port on that host. Temporal's
// services and its UI take a port number rather than a listener, so the port is chosen by binding
// and releasing it just before they bind it again.
func resolvePort(address string) (string, int, error) {
	host, portStr, err := net.SplitHostPort(address)
	if err != nil {
		return "", 0, err
	}
	if host == "" {
		host = "127.0.0.1"
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return "", 0, fmt.Errorf("port %q: %w", portStr, err)
	}
	if port == 0 {
		port, err = freePort(host)
	}
	return host, port, err
}

func freePort(host string) (int, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return 0, fmt.Errorf("finding a free port on %s: %w", host, err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
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
