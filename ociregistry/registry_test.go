package ociregistry

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

func serve(t *testing.T, dir string) (*Registry, string) {
	t.Helper()
	reg, err := Open(dir, nil)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	srv := httptest.NewServer(reg)
	t.Cleanup(func() { srv.Close(); reg.Close() })
	return reg, strings.TrimPrefix(srv.URL, "http://")
}

func TestImagesSurviveReopen(t *testing.T) {
	dir := t.TempDir()
	img, err := random.Image(1024, 2)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := img.Digest()

	reg, host := serve(t, dir)
	tag, _ := name.NewTag(host + "/shop/api:abc123")
	gone, _ := name.NewTag(host + "/shop/api:gone")
	if err := remote.Write(tag, img); err != nil {
		t.Fatalf("push: %v", err)
	}
	if err := remote.Write(gone, img); err != nil {
		t.Fatalf("push second tag: %v", err)
	}
	if err := remote.Delete(gone); err != nil {
		t.Fatalf("delete tag: %v", err)
	}
	reg.Close()

	_, host2 := serve(t, dir)
	for _, ref := range []string{host2 + "/shop/api:abc123", host2 + "/shop/api@" + want.String()} {
		r, _ := name.ParseReference(ref)
		got, err := remote.Image(r)
		if err != nil {
			t.Fatalf("pull %s after reopen: %v", ref, err)
		}
		d, _ := got.Digest()
		if d != want {
			t.Fatalf("digest after reopen = %s, want %s", d, want)
		}
		layers, _ := got.Layers()
		for _, l := range layers {
			rc, err := l.Compressed()
			if err != nil {
				t.Fatalf("layer blob after reopen: %v", err)
			}
			rc.Close()
		}
	}
	goneAgain, _ := name.NewTag(host2 + "/shop/api:gone")
	if _, err := remote.Head(goneAgain); err == nil {
		t.Fatal("deleted tag came back after reopen")
	}
}

func TestTornJournalLineIsCut(t *testing.T) {
	dir := t.TempDir()
	reg, host := serve(t, dir)
	img, _ := random.Image(256, 1)
	tag, _ := name.NewTag(host + "/p/c:one")
	if err := remote.Write(tag, img); err != nil {
		t.Fatal(err)
	}
	reg.Close()
	journal := filepath.Join(dir, "manifests.jsonl")
	f, err := os.OpenFile(journal, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(`{"method":"PUT","path":"/v2/p/c/manif`); err != nil {
		t.Fatal(err)
	}
	f.Close()

	reg2, host2 := serve(t, dir)
	tag2, _ := name.NewTag(host2 + "/p/c:two")
	if err := remote.Write(tag2, img); err != nil {
		t.Fatalf("push after torn line: %v", err)
	}
	reg2.Close()
	_, host3 := serve(t, dir)
	for _, tg := range []string{"one", "two"} {
		ref, _ := name.NewTag(host3 + "/p/c:" + tg)
		if _, err := remote.Head(ref); err != nil {
			t.Fatalf("tag %s lost: %v", tg, err)
		}
	}
}

func TestCorruptJournalLineFailsOpen(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "manifests.jsonl"), []byte("not json\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir, nil); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Fatalf("Open with corrupt journal: err = %v, want one naming line 1", err)
	}
}

// TestRepositoryNamedManifests pushes to a repository with a "manifests" path segment: its blob
// uploads must not be journaled as manifest writes, or the next open fails replaying them.
func TestRepositoryNamedManifests(t *testing.T) {
	dir := t.TempDir()
	reg, host := serve(t, dir)
	img, _ := random.Image(1024, 2)
	tag, _ := name.NewTag(host + "/team/manifests/api:v1")
	blobsRepo, _ := name.NewTag(host + "/team/blobs:v1")
	if err := remote.Write(blobsRepo, img); err != nil {
		t.Fatalf("push to team/blobs: %v", err)
	}
	if err := remote.Write(tag, img); err != nil {
		t.Fatalf("push: %v", err)
	}
	reg.Close()
	_, host2 := serve(t, dir)
	again, _ := name.NewTag(host2 + "/team/manifests/api:v1")
	if _, err := remote.Head(again); err != nil {
		t.Fatalf("image lost after reopen: %v", err)
	}
	blobsAgain, _ := name.NewTag(host2 + "/team/blobs:v1")
	if _, err := remote.Head(blobsAgain); err != nil {
		t.Fatalf("image in team/blobs lost after reopen: %v", err)
	}
}
