package gitsource

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"time"

	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	gitssh "github.com/go-git/go-git/v5/plumbing/transport/ssh"
	"github.com/skeema/knownhosts"
	"golang.org/x/crypto/ssh"
)

// DefaultTokenUser is the user name sent with Auth.Token when Auth.Username is empty. GitHub
// wants it for installation and fine-grained tokens; GitLab and Gitea accept any user name with a
// personal access token.
const DefaultTokenUser = "x-access-token"

// DefaultSSHUser is the SSH user when the URL names none.
const DefaultSSHUser = "git"

// Auth holds the credentials for one repository. The zero value is anonymous access. Only the
// fields that fit the URL's scheme are used: Token (and Username) for https:// and http://,
// the SSH fields for ssh:// and user@host:path; file:// URLs and paths need none.
//
// Auth holds secrets: the activity that uses it reads them itself, so an Auth must never be part
// of a workflow or activity input or result. It refuses to be marshalled to JSON and prints and
// logs with its secrets masked.
type Auth struct {
	// Token is sent as the password of HTTP basic auth. Empty means anonymous over HTTP.
	Token string
	// Username goes with Token; empty means DefaultTokenUser.
	Username string

	// SSHKey is a PEM-encoded private key (OpenSSH, PKCS#1, PKCS#8). Required for ssh URLs.
	SSHKey []byte
	// SSHKeyPassphrase decrypts SSHKey when it is encrypted.
	SSHKeyPassphrase string
	// SSHKnownHosts is the content of a known_hosts file the server's host key must be listed
	// in. Required for ssh URLs unless InsecureIgnoreHostKey is set.
	SSHKnownHosts []byte
	// InsecureIgnoreHostKey accepts any SSH host key when SSHKnownHosts is empty. It makes the
	// connection open to a man in the middle: only for tests and trusted networks.
	InsecureIgnoreHostKey bool
}

// TransportAuth returns the go-git auth method for fetching from repo with a: nil (anonymous)
// for file URLs, paths and git:// URLs, and for http(s) without a token; HTTP basic auth with the
// token; SSH public-key auth checked against SSHKnownHosts. Errors wrap ErrAuth (credentials
// missing or unusable) or ErrRepoNotFound (repo is not a URL gitsource can use), and carry no
// credentials.
func (a Auth) TransportAuth(repo string) (transport.AuthMethod, error) {
	ep, err := endpoint(repo)
	if err != nil {
		return nil, newScrubber(repo, a).fail(context.Background(), "preparing credentials", err)
	}
	m, err := a.method(ep)
	if err != nil {
		return nil, newScrubber(repo, a).fail(context.Background(), "preparing credentials", err)
	}
	return m, nil
}

// method is TransportAuth for a parsed endpoint; its errors are not scrubbed yet.
func (a Auth) method(ep *transport.Endpoint) (transport.AuthMethod, error) {
	switch ep.Protocol {
	case "http", "https":
		if a.Token == "" {
			return nil, nil
		}
		user := a.Username
		if user == "" {
			user = DefaultTokenUser
		}
		return &githttp.BasicAuth{Username: user, Password: a.Token}, nil
	case "ssh":
		return a.sshMethod(ep)
	default: // file, git
		return nil, nil
	}
}

func (a Auth) sshMethod(ep *transport.Endpoint) (transport.AuthMethod, error) {
	if len(a.SSHKey) == 0 {
		return nil, fmt.Errorf("%w: an ssh URL needs an SSH private key", ErrAuth)
	}
	user := ep.User
	if user == "" {
		user = DefaultSSHUser
	}
	keys, err := gitssh.NewPublicKeys(user, a.SSHKey, a.SSHKeyPassphrase)
	if err != nil {
		return nil, fmt.Errorf("%w: reading the SSH private key: %v", ErrAuth, err)
	}
	switch {
	case len(a.SSHKnownHosts) > 0:
		db, err := knownHostsDB(a.SSHKnownHosts)
		if err != nil {
			return nil, fmt.Errorf("%w: reading known_hosts: %v", ErrAuth, err)
		}
		port := ep.Port
		if port == 0 {
			port = 22
		}
		hostPort := net.JoinHostPort(ep.Host, strconv.Itoa(port))
		keys.HostKeyCallback = db.HostKeyCallback()
		// Offer only the key types known_hosts lists for this host, or the server may pick
		// another type of its keys and fail the check.
		keys.HostKeyAlgorithms = db.HostKeyAlgorithms(hostPort)
	case a.InsecureIgnoreHostKey:
		keys.HostKeyCallback = ssh.InsecureIgnoreHostKey()
	default:
		return nil, fmt.Errorf("%w: no known_hosts given for SSH host %s (set SSHKnownHosts, or InsecureIgnoreHostKey to skip the check)", ErrAuth, ep.Host)
	}
	return sshKeys{keys}, nil
}

// SSHDialTimeout bounds connecting to an SSH server: go-git's SSH dial does not watch the context.
const SSHDialTimeout = 30 * time.Second

// sshKeys is public-key auth with a bounded dial.
type sshKeys struct{ *gitssh.PublicKeys }

func (k sshKeys) ClientConfig() (*ssh.ClientConfig, error) {
	cfg, err := k.PublicKeys.ClientConfig()
	if cfg != nil {
		cfg.Timeout = SSHDialTimeout
	}
	return cfg, err
}

// knownHostsDB parses known_hosts content. The parsers read files only, so the content goes
// through a temporary file that is removed before returning.
func knownHostsDB(content []byte) (*knownhosts.HostKeyDB, error) {
	f, err := os.CreateTemp("", "slipway-known-hosts-*")
	if err != nil {
		return nil, err
	}
	defer os.Remove(f.Name())
	_, werr := f.Write(content)
	if err := errors.Join(werr, f.Close()); err != nil {
		return nil, err
	}
	return knownhosts.NewDB(f.Name())
}

// String describes a with its secrets masked.
func (a Auth) String() string {
	switch {
	case a.Token != "":
		user := a.Username
		if user == "" {
			user = DefaultTokenUser
		}
		return "token auth (user " + user + ", token ***)"
	case len(a.SSHKey) > 0:
		hk := "known_hosts"
		if len(a.SSHKnownHosts) == 0 {
			hk = "no known_hosts"
			if a.InsecureIgnoreHostKey {
				hk = "host key not checked"
			}
		}
		return "ssh key auth (key ***, " + hk + ")"
	}
	return "anonymous"
}

// GoString is String, so that %#v does not print secrets either.
func (a Auth) GoString() string { return "gitsource.Auth{" + a.String() + "}" }

// LogValue logs a as String does.
func (a Auth) LogValue() slog.Value { return slog.StringValue(a.String()) }

// MarshalJSON refuses: credentials must not travel in workflow or activity payloads.
func (a Auth) MarshalJSON() ([]byte, error) {
	return nil, errors.New("gitsource.Auth holds credentials and must not be serialised")
}
