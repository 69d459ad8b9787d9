package gitsource

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/go-git/go-git/v5/plumbing/transport"
	"github.com/skeema/knownhosts"
)

// Errors that retrying cannot fix. Every error gitsource returns wraps at most one of them (or a
// context error after cancellation); anything else is transient.
var (
	// ErrUnknownRef means the ref names no commit in the repository: no such branch or tag, a SHA
	// the repository does not hold, an ambiguous short SHA, or an empty repository. The API turns
	// it into HTTP 422; activities into a non-retryable error.
	ErrUnknownRef = errors.New("unknown ref")
	// ErrAuth means the credentials were refused or cannot be used: HTTP 401/403, an SSH key the
	// server rejects or that does not parse, an SSH host key that is unknown or changed, or an ssh
	// URL without a key or without known_hosts.
	ErrAuth = errors.New("authentication refused")
	// ErrRepoNotFound means there is no repository at the address, or the address is not a Git
	// URL gitsource can use.
	ErrRepoNotFound = errors.New("repository not found")
)

// opError is what the exported functions return: a message with credentials removed and, as the
// only wrapped error, its class (an Err* sentinel, a context error, or nil). The go-git error it
// came from is deliberately not kept in the chain, as its text may hold credentials and error
// chains end up in logs and in the Temporal history.
type opError struct {
	msg  string
	kind error
}

func (e *opError) Error() string { return e.msg }
func (e *opError) Unwrap() error { return e.kind }

// scrubber removes credentials from error messages about one repository URL.
type scrubber struct {
	raw, shown string
	secrets    []string
}

// minSecretLen is the length under which a secret is not masked by substring (it could not be
// told apart from ordinary text); user info is removed from URLs structurally whatever its length.
const minSecretLen = 4

func newScrubber(repo string, a Auth) scrubber {
	shown, userinfo, scheme := splitUserinfo(repo)
	s := scrubber{raw: repo, shown: shown}
	add := func(v string) {
		if len(v) >= minSecretLen {
			s.secrets = append(s.secrets, v)
		}
	}
	add(a.Token)
	add(a.SSHKeyPassphrase)
	if userinfo != "" && scheme != "ssh" {
		// https://TOKEN@host/ is a common way to pass a token; treat all user info as secret.
		add(userinfo)
		user, pass, _ := strings.Cut(userinfo, ":")
		add(user)
		add(pass)
		if u, err := url.PathUnescape(user); err == nil {
			add(u)
		}
		if p, err := url.PathUnescape(pass); err == nil {
			add(p)
		}
	}
	return s
}

// urlUserinfo matches the user info of URLs inside a message, such as the ones net/http quotes.
var urlUserinfo = regexp.MustCompile(`(?i)\b([a-z][a-z0-9+.-]*://)[^/?#@\s"']*@`)

// scrub returns msg with the user info of URLs removed and every secret masked.
func (s scrubber) scrub(msg string) string {
	if s.raw != s.shown {
		msg = strings.ReplaceAll(msg, s.raw, s.shown)
	}
	msg = urlUserinfo.ReplaceAllString(msg, "$1")
	for _, v := range s.secrets {
		msg = strings.ReplaceAll(msg, v, "***")
	}
	return strings.TrimSpace(msg)
}

// fail wraps err as the result of op: classified, credentials removed. ctx is the operation's
// context: once it is done, the error is classified as its cause.
func (s scrubber) fail(ctx context.Context, op string, err error) error {
	if err == nil {
		return nil
	}
	kind := classify(err)
	if ctxErr := ctx.Err(); ctxErr != nil {
		kind = ctxErr
		if !errors.Is(err, ctxErr) {
			err = fmt.Errorf("%w (%v)", ctxErr, err)
		}
	}
	return &opError{msg: s.scrub(op + " in " + s.shown + ": " + err.Error()), kind: kind}
}

// classify maps go-git, SSH and gitsource errors to gitsource's sentinels; nil means transient.
func classify(err error) error {
	switch {
	case errors.Is(err, ErrUnknownRef), errors.Is(err, transport.ErrEmptyRemoteRepository):
		return ErrUnknownRef
	case errors.Is(err, ErrAuth),
		errors.Is(err, transport.ErrAuthenticationRequired),
		errors.Is(err, transport.ErrAuthorizationFailed),
		errors.Is(err, transport.ErrInvalidAuthMethod),
		knownhosts.IsHostKeyChanged(err), knownhosts.IsHostUnknown(err),
		strings.Contains(err.Error(), "ssh: unable to authenticate"):
		return ErrAuth
	case errors.Is(err, ErrRepoNotFound), errors.Is(err, transport.ErrRepositoryNotFound):
		return ErrRepoNotFound
	}
	return nil
}

// splitUserinfo returns repo without user info, the user info, and the URL scheme ("ssh" for
// the scp-like user@host:path form, "" for paths). It works on strings, so that URLs that do not
// parse are redacted too.
func splitUserinfo(repo string) (shown, userinfo, scheme string) {
	if i := strings.Index(repo, "://"); i > 0 {
		scheme = strings.ToLower(repo[:i])
		rest := repo[i+3:]
		end := strings.IndexAny(rest, "/?#")
		if end < 0 {
			end = len(rest)
		}
		if at := strings.LastIndex(rest[:end], "@"); at >= 0 {
			return repo[:i+3] + rest[at+1:], rest[:at], scheme
		}
		return repo, "", scheme
	}
	at, colon := strings.Index(repo, "@"), strings.Index(repo, ":")
	if at > 0 && colon > at && !strings.ContainsAny(repo[:at], "/\\") {
		return repo[at+1:], repo[:at], "ssh"
	}
	return repo, "", ""
}
