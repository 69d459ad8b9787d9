package server

import (
	"net/url"
	"regexp"
	"strings"
)

// Limits and patterns for values the API accepts.
const (
	maxNameLen     = 63
	maxKeyLen      = 255
	maxValueBytes  = 64 << 10
	maxRepoLen     = 2048
	maxBranchLen   = 255
	maxRepoPathLen = 1024
)

var (
	// nameRE is a DNS-1123 label.
	nameRE = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
	// keyRE is an environment-variable name.
	keyRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	// scpRepoRE is Git's scp-like syntax, user@host:path.
	scpRepoRE = regexp.MustCompile(`^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:[^\s]+$`)
)

// checkName validates a project, environment, component or token name (a DNS-1123 label).
func checkName(field, name string) *APIError {
	switch {
	case name == "":
		return invalid(field, "%s is required", field)
	case len(name) > maxNameLen:
		return invalid(field, "%s must be at most %d characters", field, maxNameLen)
	case !nameRE.MatchString(name):
		return invalid(field, "%s %q must be a DNS-1123 label: lower-case letters, digits and '-', starting and ending with a letter or digit", field, name)
	}
	return nil
}

// checkKey validates a config key (an environment-variable name).
func checkKey(field, key string) *APIError {
	switch {
	case key == "":
		return invalid(field, "%s is required", field)
	case len(key) > maxKeyLen:
		return invalid(field, "%s must be at most %d characters", field, maxKeyLen)
	case !keyRE.MatchString(key):
		return invalid(field, "%s %q must be an environment variable name: letters, digits and '_', not starting with a digit", field, key)
	}
	return nil
}

// checkRepo validates a Git remote: https://, ssh://, file:// or user@host:path.
func checkRepo(field, repo string) *APIError {
	switch {
	case repo == "":
		return invalid(field, "%s is required", field)
	case len(repo) > maxRepoLen:
		return invalid(field, "%s must be at most %d characters", field, maxRepoLen)
	case strings.ContainsFunc(repo, isSpaceOrControl):
		return invalid(field, "%s must not contain spaces or control characters", field)
	case scpRepoRE.MatchString(repo) && !strings.Contains(repo, "://"):
		return nil
	}
	u, err := url.Parse(repo)
	if err != nil {
		return invalid(field, "%s is not a valid URL: %s", field, err)
	}
	if _, hasPassword := u.User.Password(); hasPassword {
		// A credential in the URL would travel in workflow inputs and API answers.
		return invalid(field, "%s must not carry a password or token; give credentials to slipway separately", field)
	}
	switch u.Scheme {
	case "https", "ssh":
		if u.Host == "" || strings.Trim(u.Path, "/") == "" {
			return invalid(field, "%s %q must name a host and a repository path", field, repo)
		}
	case "file":
		if u.Host != "" || !strings.HasPrefix(u.Path, "/") || u.Path == "/" {
			return invalid(field, "%s %q must be file:///absolute/path", field, repo)
		}
	default:
		return invalid(field, "%s %q must start with https://, ssh:// or file://, or be user@host:path", field, repo)
	}
	return nil
}

// checkBranch validates a branch name against the gist of git check-ref-format.
func checkBranch(field, branch string) *APIError {
	switch {
	case branch == "":
		return invalid(field, "%s is required", field)
	case len(branch) > maxBranchLen:
		return invalid(field, "%s must be at most %d characters", field, maxBranchLen)
	case strings.ContainsFunc(branch, isSpaceOrControl),
		strings.ContainsAny(branch, `~^:?*[\`),
		strings.Contains(branch, ".."), strings.Contains(branch, "@{"), strings.Contains(branch, "//"),
		strings.HasPrefix(branch, "-"), strings.HasPrefix(branch, "/"), strings.HasPrefix(branch, "."),
		strings.HasSuffix(branch, "/"), strings.HasSuffix(branch, "."), strings.HasSuffix(branch, ".lock"):
		return invalid(field, "%s %q is not a valid Git branch name", field, branch)
	}
	return nil
}

// checkRepoPath validates a path inside the repository: relative, no "..", no backslashes; file says whether it
// must name a file rather than a directory.
func checkRepoPath(field, p string, file bool) *APIError {
	switch {
	case p == "":
		return invalid(field, "%s is required", field)
	case len(p) > maxRepoPathLen:
		return invalid(field, "%s must be at most %d characters", field, maxRepoPathLen)
	case strings.ContainsFunc(p, isControl):
		return invalid(field, "%s must not contain control characters", field)
	case strings.HasPrefix(p, "/"), strings.Contains(p, `\`):
		return invalid(field, "%s %q must be a relative path inside the repository", field, p)
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == ".." {
			return invalid(field, "%s %q must not contain \"..\"", field, p)
		}
	}
	if file && (p == "." || strings.HasSuffix(p, "/") || strings.HasSuffix(p, "/.")) {
		return invalid(field, "%s %q must name a file", field, p)
	}
	return nil
}

// isSpaceOrControl reports whether r is a space or a control character.
func isSpaceOrControl(r rune) bool { return r == ' ' || r == '\t' || isControl(r) }

// isControl reports whether r is a control character.
func isControl(r rune) bool { return r < 0x20 || r == 0x7f }
