package baseimages

import (
	"archive/tar"
	"context"
	"errors"
	"io"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/slipway-dev/slipway/ociregistry"
)

// registry serves an embedded slipway registry for one test and returns its host:port.
func registry(t *testing.T) string {
	t.Helper()
	reg, err := ociregistry.Open(t.TempDir(), nil)
	if err != nil {
		t.Fatalf("opening registry: %v", err)
	}
	srv := httptest.NewServer(reg)
	t.Cleanup(func() { srv.Close(); reg.Close() })
	return strings.TrimPrefix(srv.URL, "http://")
}

func TestBusyboxPushesARunnableRootfs(t *testing.T) {
	if _, err := os.Stat(BusyboxBinary); err != nil {
		t.Skipf("%s missing (Debian package busybox-static): %v", BusyboxBinary, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ref := registry(t) + "/base/busybox:latest"

	digest, err := Busybox(ctx, ref)
	if err != nil {
		t.Fatalf("Busybox: %v", err)
	}
	again, err := Busybox(ctx, ref)
	if err != nil {
		t.Fatalf("Busybox again: %v", err)
	}
	if again != digest {
		t.Errorf("second push gave digest %s, first %s: the image is not reproducible", again, digest)
	}

	tag, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	img, err := remote.Image(tag, remote.WithContext(ctx))
	if err != nil {
		t.Fatalf("pulling %s: %v", ref, err)
	}
	if got, err := img.Digest(); err != nil || got != digest {
		t.Fatalf("pulled digest %s (%v), pushed %s", got, err, digest)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	if cfg.OS != "linux" || cfg.Architecture != "amd64" {
		t.Errorf("platform %s/%s, want linux/amd64", cfg.OS, cfg.Architecture)
	}
	if len(cfg.Config.Cmd) != 1 || cfg.Config.Cmd[0] != "/bin/sh" {
		t.Errorf("Cmd %q, want [/bin/sh]", cfg.Config.Cmd)
	}
	if len(cfg.Config.Env) == 0 || !strings.HasPrefix(cfg.Config.Env[0], "PATH=") {
		t.Errorf("Env %q, want a PATH", cfg.Config.Env)
	}

	layers, err := img.Layers()
	if err != nil || len(layers) != 1 {
		t.Fatalf("layers: %d, %v; want 1", len(layers), err)
	}
	rc, err := layers[0].Uncompressed()
	if err != nil {
		t.Fatalf("opening layer: %v", err)
	}
	defer rc.Close()
	want, err := os.Stat(BusyboxBinary)
	if err != nil {
		t.Fatal(err)
	}
	entries := map[string]*tar.Header{}
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("reading layer: %v", err)
		}
		entries[h.Name] = h
	}
	if h := entries["bin/busybox"]; h == nil || h.Typeflag != tar.TypeReg || h.Size != want.Size() || h.Mode&0o111 == 0 {
		t.Errorf("bin/busybox = %+v, want an executable regular file of %d bytes", h, want.Size())
	}
	for _, applet := range []string{"sh", "ls", "cat", "echo", "httpd", "wget", "mkdir", "env", "sleep", "true", "false", "id", "grep"} {
		if h := entries["bin/"+applet]; h == nil || h.Typeflag != tar.TypeSymlink || h.Linkname != "busybox" {
			t.Errorf("bin/%s = %+v, want a symlink to busybox", applet, h)
		}
	}
	for _, f := range []string{"etc/passwd", "etc/group", "tmp/"} {
		if entries[f] == nil {
			t.Errorf("%s missing from the layer", f)
		}
	}
	if h := entries["tmp/"]; h != nil && h.Mode&0o1777 != 0o1777 {
		t.Errorf("/tmp mode %o, want 1777", h.Mode)
	}
}

func TestBusyboxNamesThePackageWhenTheBinaryIsMissing(t *testing.T) {
	_, err := busyboxImage(t.TempDir() + "/busybox")
	if err == nil || !strings.Contains(err.Error(), "busybox-static") {
		t.Fatalf("err = %v, want one naming the busybox-static package", err)
	}
}

func TestBusyboxRejectsABadReference(t *testing.T) {
	if _, err := Busybox(context.Background(), "Not A Ref"); err == nil {
		t.Fatal("Busybox accepted an invalid reference")
	}
}
