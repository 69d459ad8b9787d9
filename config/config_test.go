package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestClientTLS(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "ca.txt")
	os.WriteFile(notPEM, []byte("not a certificate"), 0o600)

	if cfg, err := (ClientTLS{}).Config(); err != nil || cfg != nil {
		t.Fatalf("zero ClientTLS = %v, %v; want plaintext (nil, nil)", cfg, err)
	}
	if cfg, err := (ClientTLS{Enabled: true, ServerName: "temporal.internal"}).Config(); err != nil || cfg == nil || cfg.ServerName != "temporal.internal" || cfg.RootCAs != nil {
		t.Fatalf("Enabled = %+v, %v; want TLS with system roots and the server name", cfg, err)
	}
	for _, c := range []struct {
		tls  ClientTLS
		want string
	}{
		{ClientTLS{CA: filepath.Join(dir, "missing.pem")}, "reading Temporal CA"},
		{ClientTLS{CA: notPEM}, "holds no PEM certificate"},
		{ClientTLS{Cert: "c.pem"}, "must be given together"},
		{ClientTLS{Cert: filepath.Join(dir, "c.pem"), Key: filepath.Join(dir, "k.pem")}, "loading Temporal client certificate"},
	} {
		if _, err := c.tls.Config(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: error %v, want %q", c.tls, err, c.want)
		}
	}
}

func TestWithDefaultsDerivesPathsFromDataDir(t *testing.T) {
	c := Config{DataDir: "/var/lib/slipway"}.WithDefaults()
	if c.DB != "sqlite:///var/lib/slipway/slipway.db" || c.KEKFile != "/var/lib/slipway/kek.json" {
		t.Fatalf("defaults = %+v", c)
	}
	if c := (Config{DB: "postgres://db/slipway"}).WithDefaults(); c.DB != "postgres://db/slipway" || c.DataDir != ".slipway" {
		t.Fatalf("given DB replaced or data dir not defaulted: %+v", c)
	}
}
