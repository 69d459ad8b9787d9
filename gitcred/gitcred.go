package gitcred

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"

	"github.com/slipway-dev/slipway/gitsource"
	"github.com/slipway-dev/slipway/secretbox"
	"github.com/slipway-dev/slipway/store"
)

// Credential is what slipway reads a component's repository with: a token for https URLs, an SSH key (with
// known_hosts) for ssh URLs. Empty fields are not set.
type Credential struct {
	// Token is sent as the password of HTTP basic auth.
	Token string
	// Username goes with Token; empty means gitsource.DefaultTokenUser.
	Username string
	// SSHKey is a PEM-encoded private key.
	SSHKey string
	// SSHKeyPassphrase decrypts SSHKey when it is encrypted.
	SSHKeyPassphrase string
	// KnownHosts is the content of a known_hosts file listing the SSH server's host key. Empty means the host key
	// cannot be checked, so ssh URLs fail (slipway never skips the check for a stored credential).
	KnownHosts string
}

// sealedForm is the JSON that is sealed: {"token","username","sshKey","sshKeyPassphrase","knownHosts"}.
type sealedForm struct {
	Token            string `json:"token,omitempty"`
	Username         string `json:"username,omitempty"`
	SSHKey           string `json:"sshKey,omitempty"`
	SSHKeyPassphrase string `json:"sshKeyPassphrase,omitempty"`
	KnownHosts       string `json:"knownHosts,omitempty"`
}

// Sealer is the part of a secretbox.Keyring that Seal needs.
type Sealer interface {
	Seal(aad, plaintext []byte) (secretbox.Sealed, error)
}

// Opener is the part of a secretbox.Keyring that Open needs.
type Opener interface {
	Open(aad []byte, s secretbox.Sealed) ([]byte, error)
}

// Seal encrypts c as the credential of the component, for store.PutRepoCredential.
func Seal(keys Sealer, project, component string, c Credential) (secretbox.Sealed, error) {
	plain, err := json.Marshal(sealedForm(c))
	if err != nil {
		return secretbox.Sealed{}, fmt.Errorf("encoding the repo credential of %s/%s: %w", project, component, err)
	}
	sealed, err := keys.Seal(store.RepoCredentialAAD(project, component), plain)
	if err != nil {
		return secretbox.Sealed{}, fmt.Errorf("sealing the repo credential of %s/%s: %w", project, component, err)
	}
	return sealed, nil
}

// Open decrypts the component's sealed credential, as store.GetRepoCredential returns it. Errors name the
// component, never the content.
func Open(keys Opener, project, component string, sealed secretbox.Sealed) (Credential, error) {
	plain, err := keys.Open(store.RepoCredentialAAD(project, component), sealed)
	if err != nil {
		return Credential{}, fmt.Errorf("opening the repo credential of %s/%s: %w", project, component, err)
	}
	var f sealedForm
	if err := json.Unmarshal(plain, &f); err != nil {
		// Not %w: a JSON syntax error may quote the plaintext.
		return Credential{}, fmt.Errorf("decoding the repo credential of %s/%s: not the JSON of a credential", project, component)
	}
	return Credential(f), nil
}

// Auth returns the gitsource.Auth that reads a repository with c.
func (c Credential) Auth() gitsource.Auth {
	a := gitsource.Auth{Token: c.Token, Username: c.Username, SSHKeyPassphrase: c.SSHKeyPassphrase}
	if c.SSHKey != "" {
		a.SSHKey = []byte(c.SSHKey)
	}
	if c.KnownHosts != "" {
		a.SSHKnownHosts = []byte(c.KnownHosts)
	}
	return a
}

// String describes c with its secrets masked.
func (c Credential) String() string { return c.Auth().String() }

// GoString is String, so that %#v does not print secrets either.
func (c Credential) GoString() string { return "gitcred.Credential{" + c.String() + "}" }

// LogValue logs c as String does.
func (c Credential) LogValue() slog.Value { return slog.StringValue(c.String()) }

// MarshalJSON refuses: a credential must not travel in API answers or workflow payloads. Seal encodes it for
// sealing.
func (c Credential) MarshalJSON() ([]byte, error) {
	return nil, errors.New("gitcred.Credential holds credentials and must not be serialised")
}
