package stack

import (
	"bytes"
	"context"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/slipway-dev/slipway/baseimages"
	"github.com/slipway-dev/slipway/ociregistry"
)

// testRegistry serves an embedded registry for one test and returns its host:port.
func testRegistry(t *testing.T) string {
	t.Helper()
	reg, err := ociregistry.Open(t.TempDir(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(reg)
	t.Cleanup(func() { srv.Close(); reg.Close() })
	return strings.TrimPrefix(srv.URL, "http://")
}

// bufferLog returns a logger writing every level into the returned buffer.
func bufferLog() (*slog.Logger, *bytes.Buffer) {
	var buf bytes.Buffer
	return slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})), &buf
}

func TestSeedBusyboxPushesItOnceWhereTheDockerIOMirrorLooks(t *testing.T) {
	if _, err := os.Stat(baseimages.BusyboxBinary); err != nil {
		t.Skipf("%s missing (Debian package busybox-static): %v", baseimages.BusyboxBinary, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	reg := testRegistry(t)
	log, out := bufferLog()

	seedBusybox(ctx, log, reg, baseimages.BusyboxBinary, nil)
	if !strings.Contains(out.String(), "level=INFO msg=\"seeded the registry") {
		t.Fatalf("no info record of the seed:\n%s", out)
	}
	ref, err := name.ParseReference(reg + "/library/busybox:latest")
	if err != nil {
		t.Fatal(err)
	}
	first, err := remote.Head(ref, remote.WithContext(ctx))
	if err != nil {
		t.Fatalf("after seeding, %s: %v", ref, err)
	}
	if !strings.Contains(out.String(), first.Digest.String()) {
		t.Errorf("the seed's log does not name the digest %s:\n%s", first.Digest, out)
	}

	out.Reset()
	seedBusybox(ctx, log, reg, baseimages.BusyboxBinary, nil)
	if s := out.String(); strings.Contains(s, "seeded") || !strings.Contains(s, "already in the registry") {
		t.Fatalf("second start seeded again or said nothing:\n%s", s)
	}
	if again, err := remote.Head(ref, remote.WithContext(ctx)); err != nil || again.Digest != first.Digest {
		t.Fatalf("after the second start %s = %v, %v; want %s", ref, again, err, first.Digest)
	}
}

func TestSeedBusyboxWithoutTheBinaryWarnsAndGoesOn(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	reg := testRegistry(t)
	log, out := bufferLog()

	seedBusybox(ctx, log, reg, filepath.Join(t.TempDir(), "busybox"), nil)
	if s := out.String(); !strings.Contains(s, "level=WARN") || !strings.Contains(s, "busybox-static") {
		t.Fatalf("want a warning naming busybox-static, got:\n%s", s)
	}
	ref, _ := name.ParseReference(reg + "/library/busybox:latest")
	if _, err := remote.Head(ref, remote.WithContext(ctx)); err == nil {
		t.Fatalf("%s exists although nothing could be seeded", ref)
	}
}

func TestSeedBusyboxWarnsWhenTheRegistryIsUnreachable(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	log, out := bufferLog()
	// A closed listener: the HEAD fails with no status to go by, so nothing is pushed and the
	// start goes on.
	srv := httptest.NewServer(nil)
	dead := strings.TrimPrefix(srv.URL, "http://")
	srv.Close()

	seedBusybox(ctx, log, dead, baseimages.BusyboxBinary, nil)
	if s := out.String(); !strings.Contains(s, "level=WARN") || !strings.Contains(s, "asking the registry") {
		t.Fatalf("want a warning that the registry could not be asked, got:\n%s", s)
	}
}
