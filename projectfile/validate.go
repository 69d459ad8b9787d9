package projectfile

import (
	"fmt"
	"math"
	"net/url"
	"path"
	"regexp"
	"strings"
)

// The rules below mirror the server's (server/validate.go, server/components.go and store/environments.go), so
// that Parse refuses what the API would, before anything is written. Each check returns what is wrong, "" when
// nothing is; the caller puts the file position and field in front.

// Limits the API sets.
const (
	maxNameLen              = 63
	maxKeyLen               = 255
	maxValueBytes           = 64 << 10
	maxRepoLen              = 2048
	maxBranchLen            = 255
	maxRepoPathLen          = 1024
	maxPathFilters          = 50
	maxReplicas             = 20
	maxCPUs                 = 64
	minMemoryBytes          = 6 << 20
	maxDeployTimeoutSeconds = 1200
)

var (
	// nameRE is a DNS-1123 label.
	nameRE = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
	// keyRE is an environment-variable name.
	keyRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	// scpRepoRE is Git's scp-like syntax, user@host:path.
	scpRepoRE = regexp.MustCompile(`^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:[^\s]+$`)
)

// checkName says what is wrong with a project, environment or component name or a namespace (a DNS-1123 label).
func checkName(name string) string {
	switch {
	case name == "":
		return "required"
	case len(name) > maxNameLen:
		return fmt.Sprintf("%q must be at most %d characters", name, maxNameLen)
	case !nameRE.MatchString(name):
		return fmt.Sprintf("%q must be a DNS-1123 label: lower-case letters, digits and '-', starting and ending with a letter or digit", name)
	}
	return ""
}

// checkKey says what is wrong with a config or secret key (an environment-variable name).
func checkKey(key string) string {
	switch {
	case key == "":
		return "a key must not be empty"
	case len(key) > maxKeyLen:
		return fmt.Sprintf("key %q must be at most %d characters", key, maxKeyLen)
	case !keyRE.MatchString(key):
		return fmt.Sprintf("key %q must be an environment variable name: letters, digits and '_', not starting with a digit", key)
	}
	return ""
}

// checkValue says what is wrong with a config value.
func checkValue(v string) string {
	switch {
	case len(v) > maxValueBytes:
		return fmt.Sprintf("value must be at most %d bytes", maxValueBytes)
	case strings.ContainsRune(v, 0):
		return "value must not contain NUL characters"
	}
	return ""
}

// checkRepo says what is wrong with a Git remote: https://, ssh://, file:// or user@host:path.
func checkRepo(repo string) string {
	switch {
	case repo == "":
		return "required"
	case len(repo) > maxRepoLen:
		return fmt.Sprintf("must be at most %d characters", maxRepoLen)
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

// checkBranch says what is wrong with a branch name, after the gist of git check-ref-format; "" is the default.
func checkBranch(branch string) string {
	switch {
	case branch == "":
		return ""
	case len(branch) > maxBranchLen:
		return fmt.Sprintf("must be at most %d characters", maxBranchLen)
	case strings.ContainsFunc(branch, isSpaceOrControl),
		strings.ContainsAny(branch, `~^:?*[\`),
		strings.Contains(branch, ".."), strings.Contains(branch, "@{"), strings.Contains(branch, "//"),
		strings.HasPrefix(branch, "-"), strings.HasPrefix(branch, "/"), strings.HasPrefix(branch, "."),
		strings.HasSuffix(branch, "/"), strings.HasSuffix(branch, "."), strings.HasSuffix(branch, ".lock"):
		return fmt.Sprintf("%q is not a valid Git branch name", branch)
	}
	return ""
}

// checkRepoPath says what is wrong with a path inside the repository; file says it must name a file. "" is the
// default.
func checkRepoPath(p string, file bool) string {
	switch {
	case p == "":
		return ""
	case len(p) > maxRepoPathLen:
		return fmt.Sprintf("must be at most %d characters", maxRepoPathLen)
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

// checkPathFilter says what is wrong with one auto-build path filter.
func checkPathFilter(p string) string {
	if p == "" || strings.HasPrefix(p, "/") {
		return fmt.Sprintf("path filter %q must be a non-empty path relative to the repository root", p)
	}
	if _, err := path.Match(p, ""); err != nil {
		return fmt.Sprintf("path filter %q is not a valid pattern: %v", p, err)
	}
	return ""
}

// cpuMillis is cpus in thousandths, rounded: the unit the API stores.
func cpuMillis(cpus float64) int64 { return int64(math.Round(cpus * 1000)) }

// checkCPUs says what is wrong with a CPU limit.
func checkCPUs(cpus float64) string {
	switch {
	case cpus < 0 || cpus > maxCPUs || math.IsNaN(cpus):
		return fmt.Sprintf("must be between 0 (no limit) and %d, got %g", maxCPUs, cpus)
	case math.Abs(cpus*1000-math.Round(cpus*1000)) > 1e-6:
		return fmt.Sprintf("must be a multiple of 0.001, got %g", cpus)
	}
	return ""
}

// isSpaceOrControl reports whether r is a space or a control character.
func isSpaceOrControl(r rune) bool { return r == ' ' || r == '\t' || isControl(r) }

// isControl reports whether r is a control character.
func isControl(r rune) bool { return r < 0x20 || r == 0x7f }
