package integration

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slipway-dev/slipway/stack"
)

// TestDevServesAPIOverTLS starts `slipway dev` with --tls-cert/--tls-key and checks the API answers
// over HTTPS with that certificate and refuses plaintext.
func TestDevServesAPIOverTLS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, pool := selfSigned(t, dir)
	cfg := devConfig(filepath.Join(dir, "data"))
	cfg.HTTP.TLSCert, cfg.HTTP.TLSKey = certFile, keyFile
	cfg.Temporal.UIAddress = ""
	dev := startDevWith(t, cfg)
	defer stopDev(t, dev)

	if !strings.HasPrefix(dev.Endpoints.HTTP, "https://") {
		t.Fatalf("endpoint %q, want https://", dev.Endpoints.HTTP)
	}
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := c.Get(dev.Endpoints.HTTP + "/healthz")
	if err != nil {
		t.Fatalf("GET over TLS: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/healthz over TLS = %d", resp.StatusCode)
	}
	plain := "http://" + strings.TrimPrefix(dev.Endpoints.HTTP, "https://") + "/healthz"
	if resp, err := http.Get(plain); err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Fatal("the API answered 200 in plaintext while serving TLS")
		}
	}
}

func selfSigned(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "slipway test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA:         true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

func TestDevRefusesUnreadableCertificate(t *testing.T) {
	cfg := devConfig(t.TempDir())
	cfg.HTTP.TLSCert, cfg.HTTP.TLSKey = "/nonexistent/cert.pem", "/nonexistent/key.pem"
	dev, err := stack.StartDev(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err == nil {
		_ = dev.Stop(context.Background())
		t.Fatal("slipway dev started with a certificate it cannot read")
	}
	if !strings.Contains(err.Error(), "loading TLS certificate") {
		t.Fatalf("error %v, want one about loading the TLS certificate", err)
	}
}
