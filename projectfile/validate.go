package projectfile

import (
	"fmt"
	"math"
	"path"
	"strings"

	"github.com/slipway-dev/slipway/api"
)

// The rules below are api's (api/rules.go, shared with the server) and mirror the rest of the server's
// (server/components.go and store/environments.go), so that Parse refuses what the API would, before anything
// is written. Each check returns what is wrong, "" when nothing is; the caller puts the file position and field in
// front.

// Limits the API sets beyond api's.
const (
	maxPathFilters          = 50
	maxReplicas             = 20
	maxCPUs                 = 64
	minMemoryBytes          = 6 << 20
	maxDeployTimeoutSeconds = 1200
)

// checkName says what is wrong with a project, environment or component name or a namespace (a DNS-1123 label).
func checkName(name string) string { return api.CheckName(name) }

// checkKey says what is wrong with a config or secret key (an environment-variable name).
func checkKey(key string) string {
	if msg := api.CheckKey(key); msg != "" {
		return "key " + msg
	}
	return ""
}

// checkRepo says what is wrong with a Git remote: https://, ssh://, file:// or user@host:path.
func checkRepo(repo string) string { return api.CheckRepo(repo) }

// checkBranch says what is wrong with a branch name; "" is the default.
func checkBranch(branch string) string {
	if branch == "" {
		return ""
	}
	return api.CheckBranch(branch)
}

// checkRepoPath says what is wrong with a path inside the repository; file says it must name a file. "" is the
// default.
func checkRepoPath(p string, file bool) string {
	if p == "" {
		return ""
	}
	return api.CheckRepoPath(p, file)
}

// checkValue says what is wrong with a config value.
func checkValue(v string) string {
	switch {
	case len(v) > api.MaxValueBytes:
		return fmt.Sprintf("value must be at most %d bytes", api.MaxValueBytes)
	case strings.ContainsRune(v, 0):
		return "value must not contain NUL characters"
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
