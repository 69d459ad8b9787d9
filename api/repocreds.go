package api

import "time"

// RepoCredentialRequest is the body of PUT …/components/{c}/repo-credentials. It replaces the whole credential: a
// field left out ("") is not kept from the previous one. A token (https repositories) or an sshKey (ssh
// repositories) is required.
type RepoCredentialRequest struct {
	// Token is an access token for an https repository; "" means none.
	Token string `json:"token"`
	// Username goes with Token; "" means "x-access-token".
	Username string `json:"username"`
	// SSHKey is a PEM-encoded private key for an ssh repository; "" means none.
	SSHKey string `json:"sshKey"`
	// SSHKeyPassphrase decrypts an encrypted SSHKey; "" means the key is not encrypted.
	SSHKeyPassphrase string `json:"sshKeyPassphrase"`
	// KnownHosts are the ssh server's host keys, as in ~/.ssh/known_hosts; required with SSHKey.
	KnownHosts string `json:"knownHosts"`
}

// RepoCredential is a component's repository credential as the API shows it: which parts are set, never their
// values.
type RepoCredential struct {
	// Token says a token is set.
	Token bool `json:"token"`
	// SSHKey says an ssh key is set.
	SSHKey bool `json:"sshKey"`
	// KnownHosts says known hosts are set.
	KnownHosts bool `json:"knownHosts"`
	// UpdatedAt is when the credential was last put (UTC).
	UpdatedAt time.Time `json:"updatedAt"`
}
