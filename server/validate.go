package server

import "github.com/slipway-dev/slipway/api"

// ruleError is the 422 of a value that breaks one of api's rules (msg, from an api.Check function), or nil.
func ruleError(field, msg string) *APIError {
	if msg == "" {
		return nil
	}
	return invalid(field, "%s %s", field, msg)
}

// checkName validates a project, environment, component or token name (a DNS-1123 label).
func checkName(field, name string) *APIError { return ruleError(field, api.CheckName(name)) }

// checkKey validates a config key (an environment-variable name).
func checkKey(field, key string) *APIError { return ruleError(field, api.CheckKey(key)) }

// checkRepo validates a Git remote: https://, ssh://, file:// or user@host:path.
func checkRepo(field, repo string) *APIError { return ruleError(field, api.CheckRepo(repo)) }

// checkBranch validates a branch name against the gist of git check-ref-format.
func checkBranch(field, branch string) *APIError { return ruleError(field, api.CheckBranch(branch)) }

// checkRepoPath validates a path inside the repository; file says whether it must name a file.
func checkRepoPath(field, p string, file bool) *APIError {
	return ruleError(field, api.CheckRepoPath(p, file))
}
