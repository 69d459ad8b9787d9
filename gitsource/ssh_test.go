package gitsource

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/skeema/knownhosts"
	"golang.org/x/crypto/ssh"
)

// sshServer is a minimal Git SSH server: it accepts one client key and runs git-upload-pack for
// "exec" requests, as a Git host does.
type sshServer struct {
	addr       string
	hostKey    ssh.PublicKey
	knownHosts []byte
}

func newKey(t *testing.T) (ssh.Signer, []byte) {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	return signer, pem.EncodeToMemory(block)
}

func serveSSH(t *testing.T, clientKey ssh.PublicKey) *sshServer {
	t.Helper()
	if _, err := exec.LookPath("git-upload-pack"); err != nil {
		t.Skipf("git is not installed: %v", err)
	}
	hostSigner, _ := newKey(t)
	cfg := &ssh.ServerConfig{
		PublicKeyCallback: func(_ ssh.ConnMetadata, k ssh.PublicKey) (*ssh.Permissions, error) {
			if bytes.Equal(k.Marshal(), clientKey.Marshal()) {
				return nil, nil
			}
			return nil, errors.New("unknown key")
		},
	}
	cfg.AddHostKey(hostSigner)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go serveSSHConn(conn, cfg)
		}
	}()
	addr := ln.Addr().String()
	return &sshServer{
		addr:       addr,
		hostKey:    hostSigner.PublicKey(),
		knownHosts: []byte(knownhosts.Line([]string{addr}, hostSigner.PublicKey()) + "\n"),
	}
}

func serveSSHConn(conn net.Conn, cfg *ssh.ServerConfig) {
	defer conn.Close()
	_, chans, reqs, err := ssh.NewServerConn(conn, cfg)
	if err != nil {
		return
	}
	go ssh.DiscardRequests(reqs)
	for nc := range chans {
		if nc.ChannelType() != "session" {
			_ = nc.Reject(ssh.UnknownChannelType, "sessions only")
			continue
		}
		ch, chReqs, err := nc.Accept()
		if err != nil {
			return
		}
		go serveSSHSession(ch, chReqs)
	}
}

func serveSSHSession(ch ssh.Channel, reqs <-chan *ssh.Request) {
	defer ch.Close()
	for req := range reqs {
		var exe struct{ Command string }
		if req.Type != "exec" || ssh.Unmarshal(req.Payload, &exe) != nil || !strings.HasPrefix(exe.Command, "git-upload-pack ") {
			_ = req.Reply(false, nil)
			continue
		}
		_ = req.Reply(true, nil)
		path := strings.Trim(strings.TrimPrefix(exe.Command, "git-upload-pack "), "'")
		cmd := exec.Command("git-upload-pack", path)
		stdin, err := cmd.StdinPipe()
		if err != nil {
			return
		}
		cmd.Stdout, cmd.Stderr = ch, ch.Stderr()
		status := uint32(0)
		if err := cmd.Start(); err != nil {
			return
		}
		go func() { _, _ = io.Copy(stdin, ch); stdin.Close() }()
		if err := cmd.Wait(); err != nil {
			status = 1
		}
		_, _ = ch.SendRequest("exit-status", false, ssh.Marshal(struct{ Status uint32 }{status}))
		return
	}
}

func TestSSH(t *testing.T) {
	h := newHistory(t)
	clientSigner, clientPEM := newKey(t)
	srv := serveSSH(t, clientSigner.PublicKey())
	repo := fmt.Sprintf("ssh://git@%s%s", srv.addr, h.dir)
	ctx := context.Background()
	auth := Auth{SSHKey: clientPEM, SSHKnownHosts: srv.knownHosts}

	got, err := Resolve(ctx, repo, "v2", auth)
	if err != nil || got != h.c2.String() {
		t.Fatalf("Resolve = %s, %v; want %s", got, err, h.c2)
	}
	dir := filepath.Join(t.TempDir(), "src")
	if err := Checkout(ctx, repo, h.c3.String(), dir, auth); err != nil {
		t.Fatal(err)
	}
	assertTree(t, dir, h.files[h.c3])

	insecure := Auth{SSHKey: clientPEM, InsecureIgnoreHostKey: true}
	if got, err := Resolve(ctx, repo, "", insecure); err != nil || got != h.c4.String() {
		t.Errorf("InsecureIgnoreHostKey: Resolve = %s, %v; want %s", got, err, h.c4)
	}

	otherHost := serveSSH(t, clientSigner.PublicKey())
	_, otherPEM := newKey(t)
	for _, c := range []struct {
		name string
		auth Auth
		msg  string
	}{
		{"no key", Auth{SSHKnownHosts: srv.knownHosts}, "needs an SSH private key"},
		{"no known_hosts", Auth{SSHKey: clientPEM}, "no known_hosts given"},
		{"unknown host key", Auth{SSHKey: clientPEM, SSHKnownHosts: otherHost.knownHosts}, "knownhosts"},
		{"host key changed", Auth{SSHKey: clientPEM, SSHKnownHosts: []byte(knownhosts.Line([]string{srv.addr}, otherHost.hostKey))}, "knownhosts"},
		{"key refused", Auth{SSHKey: otherPEM, SSHKnownHosts: srv.knownHosts}, "unable to authenticate"},
		{"key garbage", Auth{SSHKey: []byte("not a key"), SSHKnownHosts: srv.knownHosts}, "reading the SSH private key"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Resolve(ctx, repo, "main", c.auth)
			if !errors.Is(err, ErrAuth) {
				t.Fatalf("error = %v, want ErrAuth", err)
			}
			t.Log(err)
			if !strings.Contains(err.Error(), c.msg) {
				t.Errorf("error %q does not say %q", err, c.msg)
			}
			if strings.Contains(err.Error(), "git@") {
				t.Errorf("error %q shows the URL's user info", err)
			}
		})
	}
}
