package localtemporal

import (
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
	held := p.held
	p.release()
	if p.held != nil {
		t.Fatal("release kept listeners")
	}
	for _, l := range held {
		if _, err := l.Accept(); err == nil {
			t.Fatalf("listener on %s still open after release", l.Addr())
		}
	}
}

func TestResolveGivenPortAndHostName(t *testing.T) {
	p := &portPicker{}
	defer p.release()
	free, err := p.pick("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	p.release()
	host, port, err := p.resolve("localhost:" + strconv.Itoa(free))
	if err != nil || host != "127.0.0.1" || port != free {
		t.Fatalf("resolve(localhost:%d) = %s, %d, %v", free, host, port, err)
	}
	// The given port is now held: asking for it again must fail cleanly.
	if _, _, err := p.resolve("127.0.0.1:" + strconv.Itoa(free)); err == nil {
		t.Fatal("a port in use was accepted")
	}
	if _, _, err := p.resolve("127.0.0.1:http"); err == nil {
		t.Fatal("a non-numeric port was accepted")
	}
}
