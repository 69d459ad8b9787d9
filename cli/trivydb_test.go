package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/slipway-dev/slipway/ociregistry"
	"github.com/slipway-dev/slipway/stack"
)

func TestTrivyDBPushUsesDevRegistry(t *testing.T) {
	// The dev registry takes pushes only with the push credentials kept in the data dir.
	dataDir := t.TempDir()
	cred, err := ociregistry.LoadOrCreateCredentials(filepath.Join(dataDir, stack.RegistryCredentialsFile))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(ociregistry.Guard(cred, false, registry.New(registry.Logger(log.New(io.Discard, "", 0)))))
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	b, err := json.Marshal(stack.Endpoints{Registry: host})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dataDir, stack.EndpointsFile), b, 0o644); err != nil {
		t.Fatal(err)
	}
	db := t.TempDir()
	for f, body := range map[string]string{"trivy.db": "bolt", "metadata.json": `{"Version":2}`} {
		if err := os.WriteFile(filepath.Join(db, f), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	var stdout, stderr bytes.Buffer
	if code := Main(context.Background(), []string{"trivy-db", "push", db, "--data-dir", dataDir}, envOf(nil), IO{Out: &stdout, Err: &stderr}); code != 0 {
		t.Fatalf("trivy-db push: exit %d: %s", code, stderr.String())
	}
	ref, err := name.NewTag(host + "/trivy/db:2")
	if err != nil {
		t.Fatal(err)
	}
	desc, err := remote.Get(ref, remote.WithAuthFromKeychain(cred.Keychain(host)))
	if err != nil {
		t.Fatalf("the DB is not at %s: %v", ref, err)
	}
	if want := ref.String() + "@" + desc.Digest.String() + "\n"; stdout.String() != want {
		t.Errorf("stdout %q, want %q", stdout.String(), want)
	}
	if !strings.Contains(stderr.String(), "--db-repository "+ref.String()+" --insecure") {
		t.Errorf("stderr %q should say how to scan with the DB", stderr.String())
	}
}

func TestTrivyDBPushRefusals(t *testing.T) {
	empty := t.TempDir()
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"trivy-db", "pull"}, 2, `unknown command "pull" for "slipway trivy-db"`},
		{[]string{"trivy-db", "push", "--registry", "127.0.0.1:1"}, 2, "missing <dir>"},
		{[]string{"trivy-db", "push", empty, "--data-dir", "/nonexistent"}, 1, "no --registry given and no running slipway dev found"},
		{[]string{"trivy-db", "push", empty, "--registry", "127.0.0.1:1"}, 1, filepath.Join(empty, "trivy.db")},
	}
	for _, c := range cases {
		var stdout, stderr bytes.Buffer
		code := Main(context.Background(), c.args, envOf(nil), IO{Out: &stdout, Err: &stderr})
		if code != c.code || !strings.Contains(stderr.String(), c.want) || stdout.Len() != 0 {
			t.Errorf("slipway %v: exit %d, stdout %q, stderr %q; want exit %d and %q", c.args, code, stdout.String(), stderr.String(), c.code, c.want)
		}
	}
}
