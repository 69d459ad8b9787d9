package gitsource

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
)

func TestScrub(t *testing.T) {
	for _, c := range []struct {
		repo  string
		auth  Auth
		msg   string
		want  string
		shown string
	}{
		{
			repo: "https://x-access-token:ghs_abcdef@github.com/o/r.git", shown: "https://github.com/o/r.git",
			msg:  `Get "https://x-access-token:***@github.com/o/r.git/info/refs": EOF (token ghs_abcdef)`,
			want: `Get "https://github.com/o/r.git/info/refs": EOF (token ***)`,
		},
		{
			repo: "https://ghp_tokenonly@github.com/o/r", shown: "https://github.com/o/r",
			msg:  "remote said ghp_tokenonly is wrong",
			want: "remote said *** is wrong",
		},
		{
			repo: "https://u:p%40ss%2Fword@host/r", shown: "https://host/r",
			msg:  "p@ss/word and p%40ss%2Fword and https://u:p%40ss%2Fword@host/r",
			want: "*** and *** and https://host/r",
		},
		{
			repo: "https://host/r", auth: Auth{Token: "tok-123456", SSHKeyPassphrase: "phrase-123"}, shown: "https://host/r",
			msg:  "tok-123456 phrase-123 ssh://git@host/x",
			want: "*** *** ssh://host/x",
		},
		{repo: "git@github.com:o/r.git", shown: "github.com:o/r.git", msg: "git@github.com:o/r.git: refused", want: "github.com:o/r.git: refused"},
		{repo: "ssh://git@host:2222/o/r", shown: "ssh://host:2222/o/r", msg: "git upload-pack", want: "git upload-pack"},
		{repo: "/srv/git/repo", shown: "/srv/git/repo", msg: "x\n", want: "x"},
		{repo: "file:///srv/git/r@1", shown: "file:///srv/git/r@1", msg: "m", want: "m"},
		{repo: "https://u:hunter2000@ex ample.com/x", shown: "https://ex ample.com/x", msg: `parse "https://u:hunter2000@ex ample.com/x": bad`, want: `parse "https://ex ample.com/x": bad`},
	} {
		s := newScrubber(c.repo, c.auth)
		if s.shown != c.shown {
			t.Errorf("%s shown as %q, want %q", c.repo, s.shown, c.shown)
		}
		if got := s.scrub(c.msg); got != c.want {
			t.Errorf("%s: scrub(%q) = %q, want %q", c.repo, c.msg, got, c.want)
		}
	}
}

func TestFailClassifies(t *testing.T) {
	s := newScrubber("https://tok-abcdef@host/r", Auth{})
	for _, c := range []struct {
		err  error
		want error
	}{
		{fmt.Errorf("x: %w", ErrUnknownRef), ErrUnknownRef},
		{fmt.Errorf("listing refs: %w", errors.New("ssh: handshake failed: ssh: unable to authenticate")), ErrAuth},
		{errors.New("connection reset by peer"), nil},
	} {
		err := s.fail(context.Background(), "op", c.err)
		if c.want != nil && !errors.Is(err, c.want) || c.want == nil && errors.Unwrap(err) != nil {
			t.Errorf("fail(%v) = %v wrapping %v, want %v", c.err, err, errors.Unwrap(err), c.want)
		}
		if strings.Contains(err.Error(), "tok-abcdef") {
			t.Errorf("error %q holds the token", err)
		}
	}
	// The cause is not kept in the chain: its text may hold credentials.
	cause := errors.New("with tok-abcdef inside")
	if err := s.fail(context.Background(), "op", cause); errors.Is(err, cause) {
		t.Error("the unscrubbed cause is reachable through Unwrap")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.fail(ctx, "op", errors.New("read: EOF")); !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "EOF") {
		t.Errorf("after cancellation: %v", err)
	}
}

func TestTransportAuth(t *testing.T) {
	_, keyPEM := newKey(t)
	knownHosts := []byte("github.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n")

	m, err := Auth{}.TransportAuth("https://github.com/o/r")
	if err != nil || m != nil {
		t.Errorf("anonymous https: %v, %v", m, err)
	}
	m, err = Auth{Token: "tok"}.TransportAuth("https://github.com/o/r")
	if b, ok := m.(*githttp.BasicAuth); err != nil || !ok || b.Username != DefaultTokenUser || b.Password != "tok" {
		t.Errorf("token: %#v, %v", m, err)
	}
	m, err = Auth{Token: "tok", Username: "oauth2"}.TransportAuth("http://gitlab.local/o/r")
	if b, ok := m.(*githttp.BasicAuth); err != nil || !ok || b.Username != "oauth2" {
		t.Errorf("token with user: %#v, %v", m, err)
	}
	for _, repo := range []string{"file:///srv/r", "/srv/r", "git://host/r"} {
		if m, err := (Auth{Token: "tok", SSHKey: keyPEM}).TransportAuth(repo); err != nil || m != nil {
			t.Errorf("%s: %v, %v", repo, m, err)
		}
	}

	m, err = Auth{SSHKey: keyPEM, SSHKnownHosts: knownHosts}.TransportAuth("git@github.com:o/r.git")
	k, ok := m.(sshKeys)
	if err != nil || !ok || k.User != "git" || k.HostKeyCallback == nil || strings.Join(k.HostKeyAlgorithms, ",") != "ssh-ed25519" {
		t.Fatalf("ssh: %#v, %v", m, err)
	}
	if cfg, err := k.ClientConfig(); err != nil || cfg.Timeout != SSHDialTimeout || cfg.HostKeyCallback == nil {
		t.Errorf("ssh client config: %+v, %v", cfg, err)
	}
	m, err = Auth{SSHKey: keyPEM, InsecureIgnoreHostKey: true}.TransportAuth("ssh://deploy@host:2222/r")
	if k, ok := m.(sshKeys); err != nil || !ok || k.User != "deploy" || k.HostKeyCallback == nil {
		t.Errorf("ssh, insecure: %#v, %v", m, err)
	}
	for _, c := range []struct {
		auth Auth
		repo string
		want error
	}{
		{Auth{}, "git@github.com:o/r.git", ErrAuth},
		{Auth{SSHKey: keyPEM}, "git@github.com:o/r.git", ErrAuth},
		{Auth{SSHKey: keyPEM[:40], SSHKnownHosts: knownHosts}, "git@github.com:o/r.git", ErrAuth},
		{Auth{SSHKey: keyPEM, SSHKnownHosts: []byte("not known hosts")}, "git@github.com:o/r.git", ErrAuth},
		{Auth{}, "ftp://host/r", ErrRepoNotFound},
	} {
		if _, err := c.auth.TransportAuth(c.repo); !errors.Is(err, c.want) {
			t.Errorf("%v for %s: error = %v, want %v", c.auth, c.repo, err, c.want)
		}
	}
}

func TestAuthDoesNotLeak(t *testing.T) {
	_, keyPEM := newKey(t)
	for _, a := range []Auth{
		{Token: "tok-secret-1"},
		{SSHKey: keyPEM, SSHKeyPassphrase: "phrase-secret-2", SSHKnownHosts: []byte("h k")},
		{SSHKey: keyPEM, InsecureIgnoreHostKey: true},
	} {
		var logged strings.Builder
		slog.New(slog.NewTextHandler(&logged, nil)).Info("x", "auth", a)
		for _, out := range []string{fmt.Sprint(a), fmt.Sprintf("%v %+v %#v %s", a, a, a, a), logged.String()} {
			for _, secret := range []string{"tok-secret-1", "phrase-secret-2", "PRIVATE KEY", string(keyPEM[40:60])} {
				if strings.Contains(out, secret) {
					t.Errorf("%q shows %q", out, secret)
				}
			}
		}
		if b, err := json.Marshal(struct{ Auth Auth }{a}); err == nil {
			t.Errorf("json.Marshal gave %s, want an error", b)
		}
	}
}
