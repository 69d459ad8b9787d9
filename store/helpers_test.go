package store

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/slipway-dev/slipway/store/storetest"
)

// postgresEnv names the environment variable that holds a PostgreSQL DSN; when it is set every store test also
// runs against PostgreSQL, each in a fresh schema that is dropped afterwards. .ci/postgres.sh prints a suitable DSN.
const postgresEnv = storetest.PostgresEnv

// backend opens fresh, empty stores of one kind.
type backend struct {
	name string
	// dsn returns the DSN of a fresh, empty database that is removed when the test ends.
	dsn func(t *testing.T) string
}

func backends() []backend {
	bs := []backend{{name: "sqlite", dsn: func(t *testing.T) string { return storetest.SQLiteDSN(t) }}}
	if os.Getenv(postgresEnv) != "" {
		bs = append(bs, backend{name: "postgres", dsn: func(t *testing.T) string { return storetest.PostgresDSN(t) }})
	}
	return bs
}

// forEachBackend runs fn as a subtest against a fresh store of every backend.
func forEachBackend(t *testing.T, fn func(t *testing.T, s *Store)) {
	t.Helper()
	forEachDSN(t, func(t *testing.T, dsn string) { fn(t, openStore(t, dsn)) })
}

// forEachDSN runs fn as a subtest with the DSN of a fresh database of every backend.
func forEachDSN(t *testing.T, fn func(t *testing.T, dsn string)) {
	t.Helper()
	if os.Getenv(postgresEnv) == "" {
		t.Logf("%s not set: PostgreSQL not tested", postgresEnv)
	}
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) { fn(t, b.dsn(t)) })
	}
}

// openStore opens dsn and closes the store when the test ends.
func openStore(t *testing.T, dsn string) *Store {
	t.Helper()
	s, err := Open(t.Context(), dsn)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// wantErr fails the test unless err wraps target and, when msg is not empty, reads exactly msg.
func wantErr(t *testing.T, err, target error, msg string) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("error = %v, want one wrapping %q", err, target)
	}
	if msg != "" && err.Error() != msg {
		t.Fatalf("error message = %q, want %q", err.Error(), msg)
	}
}

// must fails the test on err.
func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// mustCreateProject creates a project with environments development and production.
func mustCreateProject(t *testing.T, s *Store, name string) Project {
	t.Helper()
	p, err := s.CreateProject(t.Context(), Project{Name: name}, []Environment{
		{Name: "development"}, {Name: "production", Production: true},
	})
	if err != nil {
		t.Fatalf("CreateProject(%q): %v", name, err)
	}
	return p
}

// mustCreateComponent creates a component in project.
func mustCreateComponent(t *testing.T, s *Store, project, name string) Component {
	t.Helper()
	c, err := s.CreateComponent(t.Context(), Component{
		Project: project, Name: name, Repo: "https://git.example/" + name + ".git", Branch: "main",
	})
	if err != nil {
		t.Fatalf("CreateComponent(%q, %q): %v", project, name, err)
	}
	return c
}

// count returns the number of rows query (with ? placeholders) selects.
func count(t *testing.T, s *Store, query string, args ...any) int {
	t.Helper()
	var n int
	if err := s.db().queryRow(t.Context(), "SELECT COUNT(*) FROM ("+query+") AS q", args...).Scan(&n); err != nil {
		t.Fatalf("counting %q: %v", query, err)
	}
	return n
}

// readDBFiles returns the bytes of the SQLite database at path and its -wal and -shm files. It fails
// unless they hold marker (a value stored in the clear), so a scan of them for secrets can see data.
func readDBFiles(t *testing.T, path, marker, when string) []byte {
	t.Helper()
	files, err := filepath.Glob(path + "*")
	must(t, err)
	var all []byte
	for _, f := range files {
		b, err := os.ReadFile(f)
		must(t, err)
		all = append(all, b...)
	}
	if !bytes.Contains(all, []byte(marker)) {
		t.Fatalf("%s: %q not found in %v: the scan cannot see stored data", when, marker, files)
	}
	return all
}
