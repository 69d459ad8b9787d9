package api

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

// The rules of the values the API accepts, shared by the server, which refuses what breaks them with a 422, and
// by clients that check a request before sending it (projectfile). Each Check function returns what is wrong
// with a value, to follow its field's name ("name is required", `name "Shop_1" must be a DNS-1123 label: …`),
// or "" when nothing is.

// Limits of the values the API accepts.
const (
	// MaxNameLen bounds project, environment, component and token names.
	MaxNameLen = 63
	// MaxKeyLen bounds config and secret keys.
	MaxKeyLen = 255
	// MaxValueBytes bounds config and secret values and each part of a repo credential.
	MaxValueBytes = 64 << 10
	// MaxRepoLen bounds repository URLs.
	MaxRepoLen = 2048
	// MaxBranchLen bounds branch names.
	MaxBranchLen = 255
	// MaxRepoPathLen bounds paths inside a repository (Dockerfile, context).
	MaxRepoPathLen = 1024
)

var (
	// nameRE is a DNS-1123 label.
	nameRE = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
	// keyRE is an environment-variable name.
	keyRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	// scpRepoRE is Git's scp-like syntax, user@host:path.
	scpRepoRE = regexp.MustCompile(`^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:[^\s]+$`)
)

// CheckName says what is wrong with a project, environment, component or token name (a DNS-1123 label).
func CheckName(name string) string {
	switch {
	case name == "":
		return "is required"
	case len(name) > MaxNameLen:
		return fmt.Sprintf("must be at most %d characters", MaxNameLen)
	case !nameRE.MatchString(name):
		return fmt.Sprintf("%q must be a DNS-1123 label: lower-case letters, digits and '-', starting and ending with a letter or digit", name)
	}
	return ""
}

// CheckKey says what is wrong with a config or secret key (an environment-variable name).
func CheckKey(key string) string {
	switch {
	case key == "":
		return "is required"
	case len(key) > MaxKeyLen:
		return fmt.Sprintf("must be at most %d characters", MaxKeyLen)
	case !keyRE.MatchString(key):
		return fmt.Sprintf("%q must be an environment variable name: letters, digits and '_', not starting with a digit", key)
	}
	return ""
}

// CheckRepo says what is wrong with a Git remote: https://, ssh://, file:// or user@host:path.
func CheckRepo(repo string) string {
	switch {
	case repo == "":
		return "is required"
	case len(repo) > MaxRepoLen:
		return fmt.Sprintf("must be at most %d characters", MaxRepoLen)
	case strings.ContainsFunc(repo, isSpaceOrControl):
		return "must not contain spaces or control characters"
	case scpRepoRE.MatchString(repo) && !strings.Contains(repo, "://"):
		return ""
	}
	u, err := url.Parse(repo)
	if err != nil {
		return fmt.Sprintf("is not a valid URL: %s", err)
	}
	if _, hasPassword := u.User.Password(); hasPassword {
		// A credential in the URL would travel in workflow inputs and API answers.
		return "must not carry a password or token; give credentials to slipway separately"
	}
	switch u.Scheme {
	case "https", "ssh":
		if u.Host == "" || strings.Trim(u.Path, "/") == "" {
			return fmt.Sprintf("%q must name a host and a repository path", repo)
		}
	case "file":
		if u.Host != "" || !strings.HasPrefix(u.Path, "/") || u.Path == "/" {
			return fmt.Sprintf("%q must be file:///absolute/path", repo)
		}
	default:
		return fmt.Sprintf("%q must start with https://, ssh:// or file://, or be user@host:path", repo)
	}
	return ""
}

// CheckBranch says what is wrong with a branch name, after the gist of git check-ref-format.
func CheckBranch(branch string) string {
	switch {
	case branch == "":
		return "is required"
	case len(branch) > MaxBranchLen:
		return fmt.Sprintf("must be at most %d characters", MaxBranchLen)
	case strings.ContainsFunc(branch, isSpaceOrControl),
		strings.ContainsAny(branch, `~^:?*[\`),
		strings.Contains(branch, ".."), strings.Contains(branch, "@{"), strings.Contains(branch, "//"),
		strings.HasPrefix(branch, "-"), strings.HasPrefix(branch, "/"), strings.HasPrefix(branch, "."),
		strings.HasSuffix(branch, "/"), strings.HasSuffix(branch, "."), strings.HasSuffix(branch, ".lock"):
		return fmt.Sprintf("%q is not a valid Git branch name", branch)
	}
	return ""
}

// CheckRepoPath says what is wrong with a path inside the repository: relative, no "..", no backslashes; file
// says whether it must name a file rather than a directory.
func CheckRepoPath(p string, file bool) string {
	switch {
	case p == "":
		return "is required"
	case len(p) > MaxRepoPathLen:
		return fmt.Sprintf("must be at most %d characters", MaxRepoPathLen)
	case strings.ContainsFunc(p, isControl):
		return "must not contain control characters"
	case strings.HasPrefix(p, "/"), strings.Contains(p, `\`):
		return fmt.Sprintf("%q must be a relative path inside the repository", p)
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == ".." {
			return fmt.Sprintf("%q must not contain \"..\"", p)
		}
	}
	if file && (p == "." || strings.HasSuffix(p, "/") || strings.HasSuffix(p, "/.")) {
		return fmt.Sprintf("%q must name a file", p)
	}
	return ""
}

// isSpaceOrControl reports whether r is a space or a control character.
func isSpaceOrControl(r rune) bool { return r == ' ' || r == '\t' || isControl(r) }

// isControl reports whether r is a control character.
func isControl(r rune) bool { return r < 0x20 || r == 0x7f }
