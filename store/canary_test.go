package store

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/slipway-dev/slipway/secretbox"
)

// TestSecretsAreNotInTheSQLiteFiles writes secret and config values through secretbox and the store, then reads
// every file of the database (main file, -wal, -shm) as raw bytes: the plaintexts must not be there, while the
// project name (stored in the clear) must be, which shows the scan can find what is there.
func TestSecretsAreNotInTheSQLiteFiles(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "slipway.db")
	keys, err := secretbox.LoadOrCreateKeyring(filepath.Join(dir, "keyring.json"))
	must(t, err)
	s, err := Open(t.Context(), "sqlite://"+path)
	must(t, err)

	const project = "canary-project-7d1e"
	canaries := map[string]string{
		"DB_PASSWORD": "CANARY-secret-4f7c9a1e-do-not-store",
		"LOG_LEVEL":   "CANARY-config-b2e8d05c-not-a-secret",
	}
	mustCreateProject(t, s, project)
	mustCreateComponent(t, s, project, "api")
	for key, value := range canaries {
		v := ConfigValue{Project: project, Component: "api", Environment: "production", Key: key, Secret: key == "DB_PASSWORD"}
		v.Sealed, err = keys.Seal(configAAD(v), []byte(value))
		must(t, err)
		_, _, err = s.PutConfig(t.Context(), v, false)
		must(t, err)
	}

	check := func(when string) {
		t.Helper()
		all := readDBFiles(t, path, project, when)
		for key, value := range canaries {
			if bytes.Contains(all, []byte(value)) {
				t.Errorf("%s: the plaintext of %s is in the database files", when, key)
			}
		}
	}
	if _, err := os.Stat(path + "-wal"); err != nil {
		t.Fatalf("no -wal file while the store is open: %v", err)
	}
	check("while open (data in the WAL)")
	must(t, s.Close())
	check("after close (WAL checkpointed into the main file)")
}
