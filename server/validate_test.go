package server

import (
	"strings"
	"testing"
)

func TestCheckRepo(t *testing.T) {
	good := []string{
		"https://github.com/acme/api.git",
		"https://git.example.com:8443/group/sub/api",
		"ssh://git@github.com/acme/api.git",
		"git@github.com:acme/api.git",
		"file:///srv/git/api",
	}
	bad := []string{
		"", "github.com/acme/api", "http://github.com/acme/api", "https://github.com", "https:///acme/api",
		"ssh://github.com", "file://host/srv/git", "file:///", "git@github.com", "-oProxyCommand=x:y",
		"https://github.com/acme/api\n", strings.Repeat("a", 3000),
		"https://x-access-token:ghp_secret@github.com/acme/api.git",
	}
	for _, r := range good {
		if err := checkRepo("repo", r); err != nil {
			t.Errorf("checkRepo(%q) = %v, want ok", r, err)
		}
	}
	for _, r := range bad {
		if err := checkRepo("repo", r); err == nil || err.Field != "repo" {
			t.Errorf("checkRepo(%q) = %v, want an error naming repo", r, err)
		} else if strings.Contains(err.Message, "ghp_secret") {
			t.Errorf("checkRepo error repeats the credential: %s", err.Message)
		}
	}
}

func TestCheckKey(t *testing.T) {
	for _, k := range []string{"A", "_", "db_URL_2", strings.Repeat("K", 255)} {
		if err := checkKey("key", k); err != nil {
			t.Errorf("checkKey(%q) = %v", k, err)
		}
	}
	for _, k := range []string{"", "2A", "A-B", "A B", "Ä", strings.Repeat("K", 256)} {
		if err := checkKey("key", k); err == nil || err.Field != "key" {
			t.Errorf("checkKey(%q) = %v, want an error naming key", k, err)
		}
	}
}

func TestCheckRepoPath(t *testing.T) {
	for _, p := range []string{"Dockerfile", "build/Dockerfile", "./Dockerfile", "a..b/Dockerfile"} {
		if err := checkRepoPath("dockerfile", p, true); err != nil {
			t.Errorf("dockerfile %q: %v", p, err)
		}
	}
	for _, p := range []string{".", "svc", "svc/api/", "./svc"} {
		if err := checkRepoPath("context", p, false); err != nil {
			t.Errorf("context %q: %v", p, err)
		}
	}
	for _, p := range []string{"", "..", "../x", "a/../../x", "/abs", `a\b`, "svc/", "a\x00b"} {
		if err := checkRepoPath("dockerfile", p, true); err == nil {
			t.Errorf("dockerfile %q accepted", p)
		}
	}
}
