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
	if err := os.WriteFile(notPEM, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}

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

func TestResolveDerivesPathsFromDataDir(t *testing.T) {
	c, err := Config{DataDir: "/var/lib/slipway"}.Resolve()
	if err != nil {
		t.Fatal(err)
	}
	if c.DB != "sqlite:///var/lib/slipway/slipway.db" || c.KEKFile != "/var/lib/slipway/kek.json" || c.Build.WorkDir != "/var/lib/slipway/work" {
		t.Fatalf("defaults = %+v", c)
	}
	if c.Edge.Address != "127.0.0.1:8000" || c.Edge.Domain != "" {
		t.Fatalf("edge defaults = %+v; want 127.0.0.1:8000 and the domain left to the edge (localhost)", c.Edge)
	}
	c, err = Config{DB: "postgres://db/slipway"}.Resolve()
	if err != nil {
		t.Fatal(err)
	}
	if wd, _ := os.Getwd(); c.DB != "postgres://db/slipway" || c.DataDir != filepath.Join(wd, ".slipway") {
		t.Fatalf("given DB replaced or data dir not defaulted: %+v", c)
	}
}

// A relative data dir (make run's default) and relative files given by flag become absolute against the
// working directory: a workspace path is never joined to a relative work dir twice.
func TestResolveMakesEveryPathAbsolute(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	c, err := Config{
		DataDir: ".slipway", DB: "sqlite://state/s.db", KEKFile: "keys/kek.json",
		Build:    Build{WorkDir: "w", BuildkitdBinary: "bin/buildkitd"},
		Scan:     Scan{TrivyBinary: "bin/trivy", DBDir: "db"},
		HTTP:     HTTP{TLSCert: "c.pem", TLSKey: "k.pem"},
		Edge:     Edge{TLSCert: "ec.pem", TLSKey: "ek.pem"},
		Temporal: Temporal{TLS: ClientTLS{CA: "ca.pem", Cert: "tc.pem", Key: "tk.pem"}},
	}.Resolve()
	if err != nil {
		t.Fatal(err)
	}
	for name, got := range map[string]string{
		"data dir": c.DataDir, "db": strings.TrimPrefix(c.DB, "sqlite://"), "kek file": c.KEKFile, "work dir": c.Build.WorkDir,
		"buildkitd": c.Build.BuildkitdBinary, "trivy": c.Scan.TrivyBinary, "trivy db dir": c.Scan.DBDir,
		"tls cert": c.HTTP.TLSCert, "tls key": c.HTTP.TLSKey, "edge tls cert": c.Edge.TLSCert, "edge tls key": c.Edge.TLSKey,
		"temporal ca": c.Temporal.TLS.CA, "temporal cert": c.Temporal.TLS.Cert, "temporal key": c.Temporal.TLS.Key,
	} {
		if !filepath.IsAbs(got) || !strings.HasPrefix(got, wd+string(filepath.Separator)) {
			t.Errorf("%s = %q, want absolute under %s", name, got, wd)
		}
	}
	c, err = Config{}.Resolve()
	if err != nil {
		t.Fatal(err)
	}
	if c.Build.WorkDir != filepath.Join(wd, ".slipway", "work") || c.Scan.DBDir != "" || c.HTTP.TLSCert != "" {
		t.Fatalf("zero config resolved to %+v: want the work dir under ./.slipway and unset paths left unset", c)
	}
}
