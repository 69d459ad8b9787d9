package buildkit

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLinkBlobsSharesCompleteBlobsOnly(t *testing.T) {
	dir := t.TempDir()
	from, to := filepath.Join(dir, "shared"), filepath.Join(dir, "layout", "blobs", "sha256")
	if err := os.MkdirAll(from, 0o755); err != nil {
		t.Fatal(err)
	}
	blob := strings.Repeat("a", 64)
	if err := os.WriteFile(filepath.Join(from, blob), []byte("layer"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(from, "ingest-partial"), []byte("half"), 0o644); err != nil {
		t.Fatal(err)
	}

	n, err := linkBlobs(from, to)
	if err != nil || n != 1 {
		t.Fatalf("linkBlobs = %d, %v; want 1 blob linked", n, err)
	}
	a, _ := os.Stat(filepath.Join(from, blob))
	b, err := os.Stat(filepath.Join(to, blob))
	if err != nil || !os.SameFile(a, b) {
		t.Fatalf("blob not hard-linked into the layout: %v", err)
	}
	if _, err := os.Stat(filepath.Join(to, "ingest-partial")); err == nil {
		t.Fatal("a partial file was shared")
	}
	if n, err := linkBlobs(from, to); err != nil || n != 0 {
		t.Fatalf("second linkBlobs = %d, %v; want nothing new", n, err)
	}
	if n, err := linkBlobs(filepath.Join(dir, "missing"), to); err != nil || n != 0 {
		t.Fatalf("linkBlobs from a missing dir = %d, %v", n, err)
	}
}

// TestBuildWithBlobCacheLinksBlobs builds twice with one blob cache: the second layout holds the
// same image, its blobs hard links of the first build's.
func TestBuildWithBlobCacheLinksBlobs(t *testing.T) {
	e := sharedEnv(t)
	cache := filepath.Join(t.TempDir(), "blobs")
	files := map[string]string{"Dockerfile": "FROM " + e.base + "\nRUN echo " + nonce() + " > /id\n"}
	req := Request{ContextDir: writeContext(t, files), OutputDir: filepath.Join(t.TempDir(), "one"), BlobCache: cache}
	first, lines, err := build(t, testContext(t), req)
	if err != nil {
		t.Fatalf("first build: %v\n%s", err, strings.Join(lines, "\n"))
	}
	req.OutputDir = filepath.Join(t.TempDir(), "two")
	second, lines, err := build(t, testContext(t), req)
	if err != nil {
		t.Fatalf("second build: %v\n%s", err, strings.Join(lines, "\n"))
	}
	if first.Digest != second.Digest {
		t.Fatalf("digests %s and %s differ", first.Digest, second.Digest)
	}
	hex := strings.TrimPrefix(second.Digest, "sha256:")
	a, err := os.Stat(filepath.Join(cache, hex))
	if err != nil {
		t.Fatalf("manifest not kept in the blob cache: %v", err)
	}
	b, err := os.Stat(filepath.Join(blobDir(req.OutputDir), hex))
	if err != nil || !os.SameFile(a, b) {
		t.Fatalf("second layout's manifest is not the cached blob: %v", err)
	}
}
