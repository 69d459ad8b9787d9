package localtemporal

import (
	"net"
	"strconv"
	"testing"
)

func TestPortPickerNeverRepeatsAndReleases(t *testing.T) {
	p := &portPicker{}
	seen := map[int]bool{}
	for range 50 {
		port, err := p.pick("127.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		if seen[port] {
			t.Fatalf("port %d picked twice", port)
		}
		seen[port] = true
		if port >= 32768 {
			t.Fatalf("port %d is in the ephemeral range", port)
		}
	}
	p.release()
	for port := range seen {
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err != nil {
			t.Fatalf("port %d still held after release: %v", port, err)
		}
		l.Close()
	}
}

func TestResolveKeepsGivenPort(t *testing.T) {
	p := &portPicker{}
	defer p.release()
	host, port, err := p.resolve(":7233")
	if err != nil || host != "127.0.0.1" || port != 7233 {
		t.Fatalf("resolve(:7233) = %s, %d, %v", host, port, err)
	}
	if _, _, err := p.resolve("127.0.0.1:http"); err == nil {
		t.Fatal("a non-numeric port was accepted")
	}
}
