package ociregistry

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// TestGuardNeedsTheCredentials pushes, overwrites and deletes without credentials and with wrong ones and is
// refused each time with nothing changed; with the credentials every write works. Reads need them too, unless
// anonymous reads are allowed, which still leaves listings to the credentials.
func TestGuardNeedsTheCredentials(t *testing.T) {
	dir := t.TempDir()
	reg, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Close()
	cred, err := LoadOrCreateCredentials(filepath.Join(dir, "push.json"))
	if err != nil {
		t.Fatal(err)
	}
	if again, err := LoadOrCreateCredentials(filepath.Join(dir, "push.json")); err != nil || again != cred || len(cred.Password) < 32 {
		t.Fatalf("credentials made %+v, read again %+v, %v", cred, again, err)
	}
	if fi, _ := os.Stat(filepath.Join(dir, "push.json")); fi.Mode().Perm() != 0o600 {
		t.Errorf("credentials file mode %v, want 0600", fi.Mode().Perm())
	}
	srv := httptest.NewServer(Guard(cred, false, reg))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	open := httptest.NewServer(Guard(cred, true, reg))
	defer open.Close()
	tag, _ := name.NewTag(host + "/library/busybox:latest")
	img, _ := random.Image(512, 1)
	evil, _ := random.Image(512, 1)

	if err := remote.Write(tag, img, remote.WithAuthFromKeychain(cred.Keychain(host))); err != nil {
		t.Fatalf("push with the credentials: %v", err)
	}
	want, _ := img.Digest()
	for name, opt := range map[string]remote.Option{
		"anonymous":       remote.WithAuth(authn.Anonymous),
		"wrong password":  remote.WithAuth(&authn.Basic{Username: cred.Username, Password: "guess"}),
		"other host only": remote.WithAuthFromKeychain(cred.Keychain("elsewhere:5000")),
	} {
		if err := remote.Write(tag, evil, opt); err == nil {
			t.Errorf("%s: overwriting the tag succeeded", name)
		}
		if err := remote.Delete(tag, opt); err == nil {
			t.Errorf("%s: deleting the tag succeeded", name)
		}
	}
	for _, method := range []string{"POST", "PUT", "PATCH", "DELETE"} {
		req, _ := http.NewRequest(method, srv.URL+"/v2/library/busybox/blobs/uploads/", nil)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(res.Header.Get("WWW-Authenticate"), "Basic ") {
			t.Errorf("anonymous %s: %d %q, want 401 with a Basic challenge", method, res.StatusCode, res.Header.Get("WWW-Authenticate"))
		}
	}
	for _, path := range []string{"/v2/", "/v2/_catalog", "/v2/library/busybox/tags/list"} {
		res, err := http.Get(open.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusUnauthorized {
			t.Errorf("anonymous GET %s: %d, want 401", path, res.StatusCode)
		}
	}
	if tags, err := remote.List(tag.Repository, remote.WithAuthFromKeychain(cred.Keychain(host))); err != nil || len(tags) != 1 {
		t.Errorf("tags listed with the credentials: %v, %v", tags, err)
	}
	if _, err := remote.Image(tag); err == nil {
		t.Error("an anonymous pull succeeded without anonymous reads")
	}
	got, err := remote.Image(tag, remote.WithAuthFromKeychain(cred.Keychain(host)))
	if err != nil {
		t.Fatalf("pull with the credentials: %v", err)
	}
	openTag, _ := name.NewTag(strings.TrimPrefix(open.URL, "http://") + "/library/busybox:latest")
	if _, err := remote.Image(openTag); err != nil {
		t.Errorf("anonymous pull with anonymous reads: %v", err)
	}
	if d, _ := got.Digest(); d != want {
		t.Errorf("the tag holds %s after the refused writes, want %s", d, want)
	}
}
