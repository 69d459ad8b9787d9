// Package webhooks reads Git push deliveries — GitHub's (signed with HMAC-SHA256) and GitLab's (carrying
// a token) — into one Push, checks their authenticity in constant time, and names repositories the same
// way however their address is written, so a delivery finds the components built from it.
package webhooks

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"path"
	"strings"
)

// Providers.
const (
	GitHub = "github"
	GitLab = "gitlab"
)

// Push is a push delivery, as much of it as slipway uses.
type Push struct {
	// Repos are the repository's addresses the delivery gives (clone URL, SSH URL, web URL).
	Repos []string
	// Branch is the branch pushed to; "" for a tag push.
	Branch string
	// Tag is the tag pushed; "" for a branch push.
	Tag string
	// Deleted says the ref was deleted (no commit to build).
	Deleted bool
	// Commit is the pushed head's full SHA.
	Commit string
	// Pusher and Message describe the push and its head commit; "" when the delivery omits them.
	Pusher, Message string
	// Changed lists the files added, modified or removed by the pushed commits (as far as the
	// delivery lists them); nil when it lists none.
	Changed []string
}

// ErrMalformed means the body is not a delivery of the kind its headers say.
var ErrMalformed = errors.New("malformed delivery")

// githubPayload is the part of a GitHub push (or ping) payload slipway reads.
type githubPayload struct {
	Ref        string `json:"ref"`
	After      string `json:"after"`
	Deleted    bool   `json:"deleted"`
	Repository struct {
		CloneURL string `json:"clone_url"`
		SSHURL   string `json:"ssh_url"`
		HTMLURL  string `json:"html_url"`
		GitURL   string `json:"git_url"`
	} `json:"repository"`
	Pusher struct {
		Name string `json:"name"`
	} `json:"pusher"`
	HeadCommit *struct {
		Message string `json:"message"`
	} `json:"head_commit"`
	Commits []changedFiles `json:"commits"`
}

type changedFiles struct {
	Added    []string `json:"added"`
	Modified []string `json:"modified"`
	Removed  []string `json:"removed"`
}

// GitHubRepos returns the repository addresses of a GitHub delivery of any event, to find its secret
// before the signature can be checked.
func GitHubRepos(body []byte) ([]string, error) {
	var p githubPayload
	if err := json.Unmarshal(body, &p); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	repos := nonEmpty(p.Repository.CloneURL, p.Repository.SSHURL, p.Repository.HTMLURL, p.Repository.GitURL)
	if len(repos) == 0 {
		return nil, fmt.Errorf("%w: no repository", ErrMalformed)
	}
	return repos, nil
}

// ParseGitHub reads a GitHub push payload.
func ParseGitHub(body []byte) (Push, error) {
	var p githubPayload
	if err := json.Unmarshal(body, &p); err != nil {
		return Push{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	push := Push{Repos: nonEmpty(p.Repository.CloneURL, p.Repository.SSHURL, p.Repository.HTMLURL, p.Repository.GitURL),
		Deleted: p.Deleted, Commit: p.After, Pusher: p.Pusher.Name}
	if p.HeadCommit != nil {
		push.Message = p.HeadCommit.Message
	}
	for _, c := range p.Commits {
		push.Changed = append(push.Changed, c.Added...)
		push.Changed = append(push.Changed, c.Modified...)
		push.Changed = append(push.Changed, c.Removed...)
	}
	return push, push.setRef(p.Ref)
}

// gitlabPayload is the part of a GitLab push hook payload slipway reads.
type gitlabPayload struct {
	ObjectKind  string `json:"object_kind"`
	Ref         string `json:"ref"`
	After       string `json:"after"`
	CheckoutSHA string `json:"checkout_sha"`
	UserName    string `json:"user_username"`
	Project     struct {
		HTTPURL string `json:"git_http_url"`
		SSHURL  string `json:"git_ssh_url"`
		WebURL  string `json:"web_url"`
	} `json:"project"`
	Commits []struct {
		ID      string `json:"id"`
		Message string `json:"message"`
		changedFiles
	} `json:"commits"`
}

// GitLabRepos returns the repository addresses of a GitLab delivery of any event.
func GitLabRepos(body []byte) ([]string, error) {
	var p gitlabPayload
	if err := json.Unmarshal(body, &p); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	repos := nonEmpty(p.Project.HTTPURL, p.Project.SSHURL, p.Project.WebURL)
	if len(repos) == 0 {
		return nil, fmt.Errorf("%w: no project", ErrMalformed)
	}
	return repos, nil
}

// ParseGitLab reads a GitLab push (or tag push) hook payload.
func ParseGitLab(body []byte) (Push, error) {
	var p gitlabPayload
	if err := json.Unmarshal(body, &p); err != nil {
		return Push{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	push := Push{Repos: nonEmpty(p.Project.HTTPURL, p.Project.SSHURL, p.Project.WebURL), Commit: p.After, Pusher: p.UserName}
	if p.CheckoutSHA != "" {
		push.Commit = p.CheckoutSHA
	}
	push.Deleted = push.Commit == "" || strings.Trim(push.Commit, "0") == ""
	for _, c := range p.Commits {
		if c.ID == push.Commit {
			push.Message = c.Message
		}
		push.Changed = append(push.Changed, c.Added...)
		push.Changed = append(push.Changed, c.Modified...)
		push.Changed = append(push.Changed, c.Removed...)
	}
	return push, push.setRef(p.Ref)
}

func (p *Push) setRef(ref string) error {
	switch {
	case strings.HasPrefix(ref, "refs/heads/"):
		p.Branch = strings.TrimPrefix(ref, "refs/heads/")
	case strings.HasPrefix(ref, "refs/tags/"):
		p.Tag = strings.TrimPrefix(ref, "refs/tags/")
	default:
		return fmt.Errorf("%w: ref %q is neither a branch nor a tag", ErrMalformed, ref)
	}
	if p.Branch == "" && p.Tag == "" {
		return fmt.Errorf("%w: ref %q names nothing", ErrMalformed, ref)
	}
	if len(p.Repos) == 0 {
		return fmt.Errorf("%w: no repository", ErrMalformed)
	}
	if !p.Deleted && !isSHA(p.Commit) {
		return fmt.Errorf("%w: head commit %q is not a full SHA", ErrMalformed, p.Commit)
	}
	return nil
}

func isSHA(s string) bool {
	if len(s) != 40 && len(s) != 64 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

func nonEmpty(xs ...string) []string {
	var out []string
	for _, x := range xs {
		if x != "" {
			out = append(out, x)
		}
	}
	return out
}

// VerifyGitHub checks X-Hub-Signature-256 ("sha256=<hex>") against the HMAC-SHA256 of body under secret,
// in constant time.
func VerifyGitHub(secret, body []byte, header string) bool {
	sig, ok := strings.CutPrefix(header, "sha256=")
	if !ok {
		return false
	}
	got, err := hex.DecodeString(sig)
	if err != nil {
		return false
	}
	return hmac.Equal(got, Sign(secret, body))
}

// Sign is the HMAC-SHA256 of body under secret, as GitHub signs deliveries.
func Sign(secret, body []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return m.Sum(nil)
}

// VerifyGitLab checks X-Gitlab-Token against secret in constant time.
func VerifyGitLab(secret []byte, token string) bool {
	return len(secret) > 0 && subtle.ConstantTimeCompare(secret, []byte(token)) == 1
}

// RepoKey names a repository however its address is written — https or ssh, with or without ".git",
// user or trailing slash — as "host/path", lower-cased host; a file:// or plain path gives its cleaned
// path. Two addresses of one repository give the same key.
func RepoKey(addr string) string {
	a := strings.TrimSpace(addr)
	// scp-like: git@host:owner/repo.git
	if !strings.Contains(a, "://") {
		if at := strings.Index(a, "@"); at >= 0 {
			if colon := strings.Index(a[at:], ":"); colon > 0 {
				a = "ssh://" + a[:at+colon] + "/" + a[at+colon+1:]
			}
		}
	}
	u, err := url.Parse(a)
	if err != nil || u.Scheme == "" {
		return path.Clean(a)
	}
	if u.Scheme == "file" {
		return "file://" + path.Clean(u.Path)
	}
	p := strings.TrimSuffix(strings.Trim(path.Clean("/"+u.Path), "/"), ".git")
	return strings.ToLower(u.Hostname()) + "/" + p
}

// Matches says whether any changed file matches any filter: a path.Match pattern, or a directory prefix
// ending in "/" (or "/**") that matches everything below it. No filters match everything; a delivery
// that lists no changed files matches too (it may have been cut short).
func Matches(filters, changed []string) bool {
	if len(filters) == 0 || len(changed) == 0 {
		return true
	}
	for _, f := range filters {
		dir := strings.TrimSuffix(f, "**")
		for _, c := range changed {
			if strings.HasSuffix(dir, "/") && strings.HasPrefix(c, dir) {
				return true
			}
			if ok, _ := path.Match(f, c); ok {
				return true
			}
		}
	}
	return false
}
