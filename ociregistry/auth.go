package ociregistry

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
)

// pushUser is the user name of the credentials LoadOrCreateCredentials makes.
const pushUser = "slipway-push"

// Credentials are an HTTP Basic user name and password.
type Credentials struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// LoadCredentials reads the credentials kept at path; a missing file is an error wrapping
// os.ErrNotExist.
func LoadCredentials(path string) (Credentials, error) {
	var c Credentials
	data, err := os.ReadFile(path)
	if err != nil {
		return Credentials{}, fmt.Errorf("reading registry credentials: %w", err)
	}
	if err := json.Unmarshal(data, &c); err != nil || c.Username == "" || c.Password == "" {
		return Credentials{}, fmt.Errorf("registry credentials %s: not {\"username\", \"password\"} (remove it to make new ones): %v", path, err)
	}
	return c, nil
}

// LoadOrCreateCredentials reads the credentials kept at path, making new ones (a random 256-bit
// password) and writing them 0600 when the file is missing.
func LoadOrCreateCredentials(path string) (Credentials, error) {
	c, err := LoadCredentials(path)
	if !errors.Is(err, os.ErrNotExist) {
		return c, err
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return Credentials{}, err
	}
	c = Credentials{Username: pushUser, Password: hex.EncodeToString(b)}
	data, _ := json.Marshal(c)
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return Credentials{}, fmt.Errorf("writing registry credentials: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return Credentials{}, fmt.Errorf("writing registry credentials: %w", err)
	}
	return c, nil
}

// WriteDockerConfig writes dir/config.json (0600), a Docker config giving c to the registry at host
// only, for tools that read credentials from DOCKER_CONFIG (Trivy, crane, the docker CLI).
func (c Credentials) WriteDockerConfig(dir, host string) error {
	auth := base64.StdEncoding.EncodeToString([]byte(c.Username + ":" + c.Password))
	data, err := json.Marshal(map[string]any{"auths": map[string]any{host: map[string]string{"auth": auth}}})
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("writing a Docker config: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), data, 0o600); err != nil {
		return fmt.Errorf("writing a Docker config: %w", err)
	}
	return nil
}

// Keychain gives c to the registry at host ("host:port", as in image references) and nothing to
// any other registry, so the credentials never leave for another host.
func (c Credentials) Keychain(host string) authn.Keychain { return keychain{host: host, cred: c} }

type keychain struct {
	host string
	cred Credentials
}

func (k keychain) Resolve(r authn.Resource) (authn.Authenticator, error) {
	if r.RegistryStr() != k.host {
		return authn.Anonymous, nil
	}
	return &authn.Basic{Username: k.cred.Username, Password: k.cred.Password}, nil
}

// Guard serves h only to requests carrying cred as HTTP Basic credentials; others get the
// distribution spec's 401 UNAUTHORIZED with a Basic challenge. anonymousRead lets anyone pull a
// manifest or blob they can name; writes (a blob upload, a manifest PUT, any DELETE: every method
// but GET and HEAD) and listings (the catalog of repositories, a repository's tags) need cred all
// the same. The API version check (GET /v2/) answers 401 without cred either way, as registries
// that want auth do: clients such as go-containerregistry only send credentials after that
// challenge.
func Guard(cred Credentials, anonymousRead bool, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		read := r.Method == http.MethodGet || r.Method == http.MethodHead
		p := r.URL.Path
		listing := p == "/v2/" || p == "/v2" || p == "/v2/_catalog" || strings.HasSuffix(p, "/tags/list")
		if (!read || listing || !anonymousRead) && !cred.match(r) {
			w.Header().Set("WWW-Authenticate", `Basic realm="slipway registry"`)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"errors":[{"code":"UNAUTHORIZED","message":"this registry needs its credentials"}]}` + "\n"))
			return
		}
		h.ServeHTTP(w, r)
	})
}

// match reports whether r carries c as its Basic credentials.
func (c Credentials) match(r *http.Request) bool {
	user, pass, ok := r.BasicAuth()
	if !ok {
		return false
	}
	u := subtle.ConstantTimeCompare([]byte(user), []byte(c.Username))
	p := subtle.ConstantTimeCompare([]byte(pass), []byte(c.Password))
	return u&p == 1
}
