package entry

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// slowServer answers its name after a short pause, so requests are in flight when the entry switches.
func slowServer(t *testing.T, name string) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(20 * time.Millisecond)
		_, _ = io.WriteString(w, name)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func addr(s *httptest.Server) string { return strings.TrimPrefix(s.URL, "http://") }

// load sends requests to url from several clients until stop is closed, counting answers by body
// and failures.
type load struct {
	mu       sync.Mutex
	bodies   map[string]int
	failures []string
	total    atomic.Int64
}

func startLoad(t *testing.T, url string, clients int, stop <-chan struct{}) (*load, *sync.WaitGroup) {
	l := &load{bodies: map[string]int{}}
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			c := &http.Client{Timeout: 5 * time.Second, Transport: LocalhostTransport()}
			for {
				select {
				case <-stop:
					return
				default:
				}
				resp, err := c.Get(url)
				l.total.Add(1)
				l.mu.Lock()
				switch {
				case err != nil:
					l.failures = append(l.failures, err.Error())
				case resp.StatusCode != http.StatusOK:
					l.failures = append(l.failures, resp.Status)
				default:
					b, _ := io.ReadAll(resp.Body)
					l.bodies[string(b)]++
				}
				l.mu.Unlock()
				if resp != nil {
					resp.Body.Close()
				}
			}
		})
	}
	return l, &wg
}

// waitRequests waits until the load has sent n more requests.
func (l *load) waitRequests(t *testing.T, n int64) {
	t.Helper()
	want := l.total.Load() + n
	deadline := time.Now().Add(10 * time.Second)
	for l.total.Load() < want {
		if time.Now().After(deadline) {
			t.Fatalf("load stalled at %d requests", l.total.Load())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// newRouter is a Router on a free loopback port, closed when the test ends.
func newRouter(t *testing.T) *Router {
	r := &Router{}
	t.Cleanup(func() { r.Close(context.Background()) })
	return r
}

// client reaches entries under localhost.
var client = &http.Client{Timeout: 5 * time.Second, Transport: LocalhostTransport()}

// get returns the status and body of a GET of url with Host host ("": url's).
func get(t *testing.T, c *http.Client, url, host string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if host != "" {
		req.Host = host
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestSwitchLosesNoRequest(t *testing.T) {
	r := newRouter(t)
	k := Key{"shop", "web", "production"}
	old, next := slowServer(t, "old"), slowServer(t, "new")
	url, err := r.Switch(t.Context(), k, []string{addr(old)})
	if err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	l, wg := startLoad(t, url, 8, stop)
	l.waitRequests(t, 50)

	// A good rollout: switch, and once the old backend is drained, stop it as the driver would.
	start := time.Now()
	if again, err := r.Switch(t.Context(), k, []string{addr(next)}); err != nil || again != url {
		t.Fatalf("Switch = %q, %v; want %q", again, err, url)
	}
	drained := time.Since(start)
	old.Close() // closes listeners and waits for active requests: there must be none left
	l.waitRequests(t, 100)
	close(stop)
	wg.Wait()
	if len(l.failures) != 0 {
		t.Fatalf("%d of %d requests failed during the switch: %v", len(l.failures), l.total.Load(), l.failures[:min(5, len(l.failures))])
	}
	if l.bodies["old"] == 0 || l.bodies["new"] < 100 {
		t.Fatalf("answers %v", l.bodies)
	}
	t.Logf("%d requests, 0 failed; switch drained in %s", l.total.Load(), drained)
	if got := r.Backends(k); len(got) != 1 || got[0] != addr(next) {
		t.Fatalf("backends %v", got)
	}
}

// One listener serves every entry, each at its own host name: the port and the case do not matter, a
// name that is no entry's gets 404 naming it, and an entry with nothing behind it 502.
func TestEdgeRoutesByHost(t *testing.T) {
	r := newRouter(t)
	r.Domain = "Apps.Example.COM."
	bound, err := r.Listen()
	if err != nil {
		t.Fatal(err)
	}
	if again, err := r.Listen(); err != nil || again != bound {
		t.Fatalf("Listen again = %q, %v; want %q", again, err, bound)
	}
	_, port, _ := net.SplitHostPort(bound)
	web, api := echoServer(t, "web"), echoServer(t, "api")
	webURL, err := r.Switch(t.Context(), Key{"shop", "web", "production"}, []string{addr(web)})
	if err != nil || webURL != "http://web.production.shop.apps.example.com:"+port {
		t.Fatalf("Switch = %q, %v", webURL, err)
	}
	if _, err := r.Switch(t.Context(), Key{"shop", "api", "production"}, []string{addr(api)}); err != nil {
		t.Fatal(err)
	}
	empty, err := r.Switch(t.Context(), Key{"shop", "worker", "development"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + bound
	for _, tt := range []struct {
		host, want string
		status     int
	}{
		{"web.production.shop.apps.example.com:" + port, "web web.production.shop.apps.example.com:" + port, 200},
		{"WEB.Production.shop.apps.example.com", "web WEB.Production.shop.apps.example.com", 200},
		{"web.production.shop.apps.example.com.:" + port, "web web.production.shop.apps.example.com.:" + port, 200},
		{"api.production.shop.apps.example.com", "api api.production.shop.apps.example.com", 200},
		{"web.development.shop.apps.example.com", `slipway: no component is served at "web.development.shop.apps.example.com"` + "\n", 404},
		{bound, `slipway: no component is served at "127.0.0.1"` + "\n", 404},
		{strings.TrimPrefix(empty, "http://"), "no release is serving at shop/worker/development\n", 502},
	} {
		if status, body := get(t, client, base+"/", tt.host); status != tt.status || body != tt.want {
			t.Errorf("Host %s: %d %q, want %d %q", tt.host, status, body, tt.status, tt.want)
		}
	}

	// A closed entry is not routed any more; the others are.
	if err := r.Remove(t.Context(), Key{"shop", "web", "production"}); err != nil {
		t.Fatal(err)
	}
	if status, _ := get(t, client, base+"/", "web.production.shop.apps.example.com"); status != http.StatusNotFound {
		t.Fatalf("a removed entry answered %d", status)
	}
	if status, _ := get(t, client, base+"/", "api.production.shop.apps.example.com"); status != http.StatusOK {
		t.Fatalf("the entry beside a removed one answered %d", status)
	}
	if r.Backends(Key{"shop", "web", "production"}) != nil {
		t.Fatal("a removed entry still has backends")
	}
}

// Under the default domain the URL names a host under localhost, which a client with DialLocalhost
// reaches; a port of the scheme's own is left out of it.
func TestEdgeURLs(t *testing.T) {
	r := newRouter(t)
	web := echoServer(t, "web")
	url, err := r.Switch(t.Context(), Key{"shop", "web", "development"}, []string{addr(web)})
	if err != nil || !strings.HasPrefix(url, "http://web.development.shop.localhost:") {
		t.Fatalf("Switch = %q, %v", url, err)
	}
	if status, body := get(t, client, url+"/x", ""); status != 200 || !strings.HasPrefix(body, "web web.development.shop.localhost:") {
		t.Fatalf("GET %s: %d %q", url, status, body)
	}
	r.base.Host = "" // as if bound to port 80
	if u, _ := r.Switch(t.Context(), Key{"shop", "web", "development"}, []string{addr(web)}); u != "http://web.development.shop.localhost" {
		t.Fatalf("URL on port 80: %q", u)
	}
	if IsLocalhost("localhost.example.com") || !IsLocalhost("A.LOCALHOST.") || !IsLocalhost("localhost") {
		t.Fatal("IsLocalhost")
	}
}

// With a certificate and key the edge serves HTTPS, and entries' URLs are https.
func TestEdgeServesTLS(t *testing.T) {
	dir := t.TempDir()
	pool := selfSigned(t, dir, "*.development.shop.localhost")
	r := newRouter(t)
	r.TLSCert, r.TLSKey = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	web := echoServer(t, "web")
	url, err := r.Switch(t.Context(), Key{"shop", "web", "development"}, []string{addr(web)})
	if err != nil || !strings.HasPrefix(url, "https://web.development.shop.localhost:") {
		t.Fatalf("Switch = %q, %v", url, err)
	}
	tr := LocalhostTransport()
	tr.TLSClientConfig = &tls.Config{RootCAs: pool}
	tr.ForceAttemptHTTP2 = true
	c := &http.Client{Timeout: 5 * time.Second, Transport: tr}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, url+"/", nil)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(string(body), "web ") || resp.ProtoMajor != 2 {
		t.Fatalf("GET %s: %s %d %q", url, resp.Proto, resp.StatusCode, body)
	}
	if status, _ := get(t, client, strings.Replace(url, "https://", "http://", 1)+"/", ""); status != http.StatusBadRequest {
		t.Fatalf("plain HTTP to the HTTPS edge answered %d, want 400", status)
	}

	// A pair that does not load, or half a pair, fails the start.
	for _, bad := range []*Router{{TLSCert: r.TLSCert}, {TLSCert: r.TLSCert, TLSKey: r.TLSCert}} {
		if _, err := bad.Listen(); err == nil {
			bad.Close(t.Context())
			t.Fatalf("Listen with TLS %q, %q succeeded", bad.TLSCert, bad.TLSKey)
		}
	}
}

// A taken address fails the start, naming it.
func TestEdgeAddressTaken(t *testing.T) {
	r := newRouter(t)
	bound, err := r.Listen()
	if err != nil {
		t.Fatal(err)
	}
	other := &Router{Addr: bound}
	if _, err := other.Listen(); err == nil || !strings.Contains(err.Error(), bound) {
		other.Close(t.Context())
		t.Fatalf("Listen on a taken address: %v", err)
	}
}

// echoServer answers its name and the Host it was asked for.
func echoServer(t *testing.T, name string) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, name+" "+r.Host)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// selfSigned writes cert.pem and key.pem, a self-signed certificate for name, into dir, and returns a
// pool that trusts it.
func selfSigned(t *testing.T, dir, name string) *x509.CertPool {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name}, DNSNames: []string{name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	for file, block := range map[string]*pem.Block{"cert.pem": {Type: "CERTIFICATE", Bytes: der}, "key.pem": {Type: "PRIVATE KEY", Bytes: keyDER}} {
		if err := os.WriteFile(filepath.Join(dir, file), pem.EncodeToMemory(block), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return pool
}
