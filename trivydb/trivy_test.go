package trivydb

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/slipway-dev/slipway/trivyscan"
	"github.com/slipway-dev/slipway/trivyscan/trivytest"
)

// TestTrivyUsesPushedDB pushes the fixture DB, then has the worker's scanner pull it through the real
// Trivy's --db-repository and scan the vulnerable fixture image with it.
func TestTrivyUsesPushedDB(t *testing.T) {
	src := trivytest.DB(t)
	ref, err := DefaultReference(serveRegistry(t), name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Push(t.Context(), src, ref); err != nil {
		t.Fatalf("Push: %v", err)
	}

	cache := t.TempDir()
	s := &trivyscan.Scanner{Binary: trivytest.Binary(t), CacheDir: cache, DBRepositories: []string{ref.String()},
		InsecureRegistries: []string{ref.RegistryStr()}}
	dir, digest := trivytest.Layout(t, trivytest.Image(t, trivytest.VulnerableFiles))
	r, err := s.Scan(t.Context(), trivyscan.Request{Layout: dir, Digest: digest})
	if err != nil {
		t.Fatal(err)
	}
	if r.VulnDB == nil || r.VulnDB.Source != ref.String() || len(r.NotScanned) != 0 {
		t.Fatalf("scanned with database %+v, not scanned %+v", r.VulnDB, r.NotScanned)
	}
	var ids []string
	for _, v := range r.Vulnerabilities {
		ids = append(ids, v.ID)
	}
	if !slices.Equal(ids, []string{trivytest.CriticalCVE, trivytest.HighCVE}) {
		t.Fatalf("found %v", ids)
	}

	// What Trivy unpacked is what was pushed.
	got, err := os.ReadFile(filepath.Join(cache, "repo", "db", DBFile))
	if err != nil {
		t.Fatalf("Trivy did not unpack the DB: %v", err)
	}
	want, err := os.ReadFile(filepath.Join(src, DBFile))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("downloaded %s differs from the pushed one", DBFile)
	}
}
