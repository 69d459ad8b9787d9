package buildkit

import (
	"io"
	"log"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

func TestCacheExistsAsksTheRegistry(t *testing.T) {
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	ref := strings.TrimPrefix(srv.URL, "http://") + "/shop/hello:buildcache"
	if cacheExists(t.Context(), ref, true) {
		t.Fatalf("%s exists before anything was pushed", ref)
	}
	img, err := random.Image(64, 1)
	if err != nil {
		t.Fatal(err)
	}
	tag, err := name.NewTag(ref, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(tag, img, remote.WithContext(t.Context())); err != nil {
		t.Fatal(err)
	}
	if !cacheExists(t.Context(), ref, true) {
		t.Fatalf("%s missing after the push", ref)
	}
	// A registry that cannot tell leaves the import to buildkitd, which says what is wrong.
	if !cacheExists(t.Context(), "127.0.0.1:1/shop/hello:buildcache", true) {
		t.Fatal("an unreachable registry's cache was taken as missing")
	}
}

func TestSolveOptImportsTheCacheOnlyWhenItExists(t *testing.T) {
	req := Request{ContextDir: writeContext(t, map[string]string{"Dockerfile": "FROM scratch\n"}), OutputDir: t.TempDir(),
		CacheRef: "127.0.0.1:5000/shop/hello:buildcache", CacheInsecure: true}
	for _, exists := range []bool{false, true} {
		opt, err := (&Builder{}).solveOpt(req, exists)
		if err != nil {
			t.Fatal(err)
		}
		if imported := len(opt.CacheImports) == 1; imported != exists || len(opt.CacheExports) != 1 {
			t.Errorf("cache exists %v: imports %+v, exports %+v", exists, opt.CacheImports, opt.CacheExports)
		}
	}
}
