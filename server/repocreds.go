package server

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"golang.org/x/crypto/ssh"

	"github.com/slipway-dev/slipway/api"
	"github.com/slipway-dev/slipway/gitcred"
)

// repoCredentialOf is c, last put at updated, as the API shows it: which parts are set.
func repoCredentialOf(c gitcred.Credential, updated time.Time) api.RepoCredential {
	return api.RepoCredential{Token: c.Token != "", SSHKey: c.SSHKey != "", KnownHosts: c.KnownHosts != "", UpdatedAt: updated}
}

// putRepoCredential answers PUT .../repo-credentials: the component's Git credential is sealed and replaces the one
// it had; the answer says which parts are set.
func (s *Server) putRepoCredential(c echo.Context) error {
	p, comp := c.Param("project"), c.Param("component")
	var req api.RepoCredentialRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	cred := gitcred.Credential(req)
	if err := checkRepoCredential(cred); err != nil {
		return err
	}
	sealed, err := gitcred.Seal(s.keys, p, comp, cred)
	if err != nil {
		return err
	}
	updated, err := s.store.PutRepoCredential(c.Request().Context(), p, comp, sealed)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, repoCredentialOf(cred, updated))
}

// getRepoCredential answers GET .../repo-credentials: which parts of the component's Git credential are set.
func (s *Server) getRepoCredential(c echo.Context) error {
	p, comp := c.Param("project"), c.Param("component")
	sealed, updated, err := s.store.GetRepoCredential(c.Request().Context(), p, comp)
	if err != nil {
		return err
	}
	cred, err := gitcred.Open(s.keys, p, comp, sealed)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, repoCredentialOf(cred, updated))
}

// deleteRepoCredential answers DELETE .../repo-credentials: the component's repository is read anonymously again.
func (s *Server) deleteRepoCredential(c echo.Context) error {
	if err := s.store.DeleteRepoCredential(c.Request().Context(), c.Param("project"), c.Param("component")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// checkRepoCredential validates a credential to store. Its messages name the field, never quote its value or the
// parser's error (which may).
func checkRepoCredential(c gitcred.Credential) *APIError {
	fields := []struct{ name, value string }{
		{"token", c.Token}, {"username", c.Username}, {"sshKey", c.SSHKey},
		{"sshKeyPassphrase", c.SSHKeyPassphrase}, {"knownHosts", c.KnownHosts},
	}
	for _, f := range fields {
		if len(f.value) > api.MaxValueBytes {
			return invalid(f.name, "%s must be at most %d bytes", f.name, api.MaxValueBytes)
		}
		if strings.ContainsRune(f.value, 0) {
			return invalid(f.name, "%s must not contain NUL characters", f.name)
		}
	}
	if c.Token == "" && c.SSHKey == "" {
		return invalid("token", "give a token (for https repositories) or an sshKey (for ssh repositories)")
	}
	if c.Token == "" && c.Username != "" {
		return invalid("username", "username goes with a token")
	}
	if c.SSHKey == "" {
		if c.SSHKeyPassphrase != "" {
			return invalid("sshKeyPassphrase", "sshKeyPassphrase goes with an sshKey")
		}
		if c.KnownHosts != "" {
			return invalid("knownHosts", "knownHosts goes with an sshKey")
		}
		return nil
	}
	// As go-git reads it: a passphrase is only used when the key is encrypted.
	_, err := ssh.ParsePrivateKey([]byte(c.SSHKey))
	var missing *ssh.PassphraseMissingError
	if errors.As(err, &missing) {
		if c.SSHKeyPassphrase == "" {
			return invalid("sshKeyPassphrase", "the sshKey is encrypted: give its sshKeyPassphrase")
		}
		if _, err := ssh.ParsePrivateKeyWithPassphrase([]byte(c.SSHKey), []byte(c.SSHKeyPassphrase)); err != nil {
			return invalid("sshKeyPassphrase", "the sshKeyPassphrase does not decrypt the sshKey")
		}
	} else if err != nil {
		return invalid("sshKey", "sshKey is not a PEM-encoded private key (OpenSSH, PKCS#1 or PKCS#8)")
	}
	if c.KnownHosts == "" {
		// slipway never skips the host-key check, so an ssh credential without it could never work.
		return invalid("knownHosts", "an sshKey needs knownHosts: the server's host keys, as in ~/.ssh/known_hosts")
	}
	return checkKnownHosts(c.KnownHosts)
}

// checkKnownHosts reports a knownHosts value that is not in known_hosts format or lists no host key.
func checkKnownHosts(content string) *APIError {
	rest, entries := []byte(content), 0
	for {
		_, _, _, _, next, err := ssh.ParseKnownHosts(rest)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return invalid("knownHosts", "knownHosts is not in known_hosts format")
		}
		entries, rest = entries+1, next
	}
	if entries == 0 {
		return invalid("knownHosts", "knownHosts lists no host key")
	}
	return nil
}
