package server

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/slipway-dev/slipway/api"
	"github.com/slipway-dev/slipway/gitcred"
	"github.com/slipway-dev/slipway/gitsource"
)

const (
	credPath    = "/api/v1/projects/shop/components/api/repo-credentials"
	tokenCanary = "CANARY-git-token-7a41c9e0"
)

// testSSHKey returns a fresh ed25519 private key in OpenSSH PEM form, encrypted when passphrase is not empty, and
// a known_hosts line for host with its public key.
func testSSHKey(t *testing.T, passphrase, host string) (key, knownHosts string) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	var block *pem.Block
	if passphrase == "" {
		block, err = ssh.MarshalPrivateKey(priv, "")
	} else {
		block, err = ssh.MarshalPrivateKeyWithPassphrase(priv, "", []byte(passphrase))
	}
	if err != nil {
		t.Fatal(err)
	}
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(block)), host + " " + string(ssh.MarshalAuthorizedKey(sshPub))
}

func TestRepoCredentialLifecycle(t *testing.T) {
	e, _ := newBuildEnv(t)
	sshKey, knownHosts := testSSHKey(t, "pass-CANARY-31f", "git.example.com")
	secrets := []string{tokenCanary, sshKey, "pass-CANARY-31f", strings.Fields(knownHosts)[2]}

	wantError(t, e.do(http.MethodGet, credPath, e.developer, nil), http.StatusNotFound, "not_found", "")

	var got api.RepoCredential
	before := time.Now().Add(-time.Second)
	rec := e.must(http.StatusOK, http.MethodPut, credPath, e.developer, map[string]any{"token": tokenCanary, "username": "bot"}, &got)
	bodies := []string{rec.Body.String()}
	if !got.Token || got.SSHKey || got.KnownHosts || got.UpdatedAt.Before(before) {
		t.Errorf("PUT token = %+v", got)
	}
	rec = e.must(http.StatusOK, http.MethodGet, credPath, e.developer, nil, &got)
	bodies = append(bodies, rec.Body.String())
	if !got.Token || got.SSHKey || got.KnownHosts {
		t.Errorf("GET after PUT token = %+v", got)
	}

	// A PUT replaces the whole credential.
	rec = e.must(http.StatusOK, http.MethodPut, credPath, e.developer, map[string]any{
		"sshKey": sshKey, "sshKeyPassphrase": "pass-CANARY-31f", "knownHosts": knownHosts}, &got)
	bodies = append(bodies, rec.Body.String())
	if got.Token || !got.SSHKey || !got.KnownHosts {
		t.Errorf("PUT ssh = %+v", got)
	}
	sealed, _, err := e.st.GetRepoCredential(context.Background(), "shop", "api")
	if err != nil {
		t.Fatal(err)
	}
	cred, err := gitcred.Open(e.keys, "shop", "api", sealed)
	if err != nil || cred.SSHKey != sshKey || cred.Token != "" || cred.KnownHosts != knownHosts {
		t.Errorf("stored credential does not hold what was put (err %v)", err)
	}

	rec = e.must(http.StatusOK, http.MethodGet, "/api/v1/projects/shop/components/api", e.viewer, nil, nil)
	bodies = append(bodies, rec.Body.String())
	e.must(http.StatusNoContent, http.MethodDelete, credPath, e.developer, nil, nil)
	wantError(t, e.do(http.MethodGet, credPath, e.developer, nil), http.StatusNotFound, "not_found", "")
	wantError(t, e.do(http.MethodDelete, credPath, e.developer, nil), http.StatusNotFound, "not_found", "")

	bodies = append(bodies, e.logs.String())
	for _, b := range bodies {
		for _, s := range secrets {
			if strings.Contains(b, s) {
				t.Errorf("a secret shows in %q", b)
			}
		}
	}
}

func TestRepoCredentialRoles(t *testing.T) {
	e, _ := newBuildEnv(t)
	for _, m := range []string{http.MethodPut, http.MethodGet, http.MethodDelete} {
		rec := e.do(m, credPath, e.viewer, map[string]any{"token": tokenCanary})
		if rec.Code != http.StatusForbidden {
			t.Errorf("%s as viewer: status %d, want 403", m, rec.Code)
		}
	}
	wantError(t, e.do(http.MethodPut, "/api/v1/projects/shop/components/nope/repo-credentials", e.developer,
		map[string]any{"token": tokenCanary}), http.StatusNotFound, "not_found", "")
}

func TestRepoCredentialValidation(t *testing.T) {
	e, _ := newBuildEnv(t)
	plainKey, knownHosts := testSSHKey(t, "", "git.example.com")
	lockedKey, _ := testSSHKey(t, "right-pass", "git.example.com")
	notAKey := "-----BEGIN OPENSSH PRIVATE KEY-----\nCANARY-not-a-key-9d2\n-----END OPENSSH PRIVATE KEY-----\n"
	for _, tc := range []struct {
		name  string
		body  map[string]any
		field string
	}{
		{"empty", map[string]any{}, "token"},
		{"username only", map[string]any{"username": "bot"}, "token"},
		{"username without token", map[string]any{"username": "bot", "sshKey": plainKey, "knownHosts": knownHosts}, "username"},
		{"bad key", map[string]any{"sshKey": notAKey}, "sshKey"},
		{"encrypted key without passphrase", map[string]any{"sshKey": lockedKey}, "sshKeyPassphrase"},
		{"wrong passphrase", map[string]any{"sshKey": lockedKey, "sshKeyPassphrase": "CANARY-wrong"}, "sshKeyPassphrase"},
		{"known hosts without key", map[string]any{"token": tokenCanary, "knownHosts": knownHosts}, "knownHosts"},
		{"bad known hosts", map[string]any{"sshKey": plainKey, "knownHosts": "CANARY-hosts garbage"}, "knownHosts"},
		{"key without known hosts", map[string]any{"sshKey": plainKey}, "knownHosts"},
		{"unknown field", map[string]any{"token": tokenCanary, "password": "x"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := e.do(http.MethodPut, credPath, e.developer, tc.body)
			if rec.Code != http.StatusUnprocessableEntity && rec.Code != http.StatusBadRequest {
				t.Fatalf("status %d, want 422 or 400; body %s", rec.Code, rec.Body)
			}
			if tc.field != "" {
				wantError(t, rec, http.StatusUnprocessableEntity, "invalid", tc.field)
			}
			for _, s := range []string{tokenCanary, "CANARY", "BEGIN", plainKey[40:80]} {
				if strings.Contains(rec.Body.String(), s) {
					t.Errorf("the answer %s echoes %q", rec.Body, s)
				}
			}
		})
	}
	if _, _, err := e.st.GetRepoCredential(context.Background(), "shop", "api"); err == nil {
		t.Error("an invalid credential was stored")
	}
	// An unencrypted key with a passphrase is fine, as go-git reads it.
	e.must(http.StatusOK, http.MethodPut, credPath, e.developer, map[string]any{"sshKey": plainKey, "sshKeyPassphrase": "unused", "knownHosts": knownHosts}, nil)
}

func TestTriggerResolvesWithTheRepoCredential(t *testing.T) {
	var mu sync.Mutex
	var auths []string
	e, _ := newBuildEnv(t, func(d *Deps) {
		d.Resolve = func(ctx context.Context, repo, ref string, auth gitsource.Auth) (string, error) {
			mu.Lock()
			defer mu.Unlock()
			auths = append(auths, auth.Username+":"+auth.Token)
			if auth.Token != tokenCanary {
				return "", fmt.Errorf("resolving %q in %s: %w", ref, repo, gitsource.ErrAuth)
			}
			return shaMain, nil
		}
	})
	rec := e.do(http.MethodPost, triggerPath, e.developer, nil)
	apiErr := wantError(t, rec, http.StatusUnprocessableEntity, "repo_auth_failed", "repo")
	if !strings.Contains(apiErr.Message, "anonymous") {
		t.Errorf("message %q does not say access was anonymous", apiErr.Message)
	}
	e.must(http.StatusOK, http.MethodPut, credPath, e.developer, map[string]any{"token": tokenCanary, "username": "bot"}, nil)
	body := e.must(http.StatusAccepted, http.MethodPost, triggerPath, e.developer, nil, nil).Body.String()
	mu.Lock()
	defer mu.Unlock()
	if want := []string{":", "bot:" + tokenCanary}; fmt.Sprint(auths) != fmt.Sprint(want) {
		t.Errorf("resolved with %q, want %q", auths, want)
	}
	if strings.Contains(body+e.logs.String(), tokenCanary) {
		t.Error("the token shows in the answer or the log")
	}
}
