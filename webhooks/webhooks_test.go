package webhooks

import (
	"encoding/hex"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
)

func read(t testing.TB, name string) []byte {
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseGitHubPush(t *testing.T) {
	p, err := ParseGitHub(read(t, "github_push.json"))
	if err != nil {
		t.Fatal(err)
	}
	if p.Branch != "main" || p.Tag != "" || p.Deleted || p.Commit != "6113728f27ae82c7b1a177c8d03f9e96e0adf246" ||
		p.Pusher != "ada" || p.Message != "Fix the greeting" || !slices.Equal(p.Changed, []string{"docs/new.md", "src/main.go"}) {
		t.Fatalf("push %+v", p)
	}
	for _, r := range p.Repos {
		if RepoKey(r) != "github.com/acme/api" {
			t.Errorf("RepoKey(%s) = %s", r, RepoKey(r))
		}
	}
	tag := strings.Replace(string(read(t, "github_push.json")), "refs/heads/main", "refs/tags/v1.0", 1)
	if p, err := ParseGitHub([]byte(tag)); err != nil || p.Tag != "v1.0" || p.Branch != "" {
		t.Fatalf("tag push %+v, %v", p, err)
	}
	deleted := `{"ref":"refs/heads/gone","after":"0000000000000000000000000000000000000000","deleted":true,"repository":{"clone_url":"https://github.com/acme/api.git"}}`
	if p, err := ParseGitHub([]byte(deleted)); err != nil || !p.Deleted || p.Branch != "gone" {
		t.Fatalf("deletion %+v, %v", p, err)
	}
	for _, bad := range []string{`{`, `{"ref":"refs/heads/main","after":"abc","repository":{"clone_url":"x"}}`,
		`{"ref":"main","after":"6113728f27ae82c7b1a177c8d03f9e96e0adf246","repository":{"clone_url":"x"}}`,
		`{"ref":"refs/heads/main","after":"6113728f27ae82c7b1a177c8d03f9e96e0adf246"}`} {
		if _, err := ParseGitHub([]byte(bad)); !errors.Is(err, ErrMalformed) {
			t.Errorf("ParseGitHub(%s) = %v, want ErrMalformed", bad, err)
		}
	}
}

func TestParseGitLabPush(t *testing.T) {
	p, err := ParseGitLab(read(t, "gitlab_push.json"))
	if err != nil {
		t.Fatal(err)
	}
	if p.Branch != "main" || p.Commit != "da1560886d4f094c3e6c9ef40349f7d38b5d27d7" || p.Pusher != "jsmith" ||
		p.Message != "Update the README" || len(p.Changed) != 2 || RepoKey(p.Repos[0]) != "gitlab.example.com/acme/api" ||
		RepoKey(p.Repos[1]) != "gitlab.example.com/acme/api" {
		t.Fatalf("push %+v", p)
	}
	deleted := `{"object_kind":"push","ref":"refs/heads/x","after":"0000000000000000000000000000000000000000","checkout_sha":null,"project":{"git_http_url":"https://gitlab.example.com/acme/api.git"}}`
	if p, err := ParseGitLab([]byte(deleted)); err != nil || !p.Deleted {
		t.Fatalf("deletion %+v, %v", p, err)
	}
}

func TestVerify(t *testing.T) {
	body, secret := read(t, "github_push.json"), []byte("It's a Secret to Everybody")
	sig := "sha256=" + hex.EncodeToString(Sign(secret, body))
	if !VerifyGitHub(secret, body, sig) {
		t.Fatal("a good signature was refused")
	}
	for _, bad := range []string{"", "sha256=", "sha1=" + sig[7:], sig[:len(sig)-1] + "0", "sha256=zz"} {
		if VerifyGitHub(secret, body, bad) {
			t.Errorf("signature %q accepted", bad)
		}
	}
	if VerifyGitHub([]byte("other"), body, sig) || VerifyGitHub(secret, append(body, ' '), sig) {
		t.Fatal("a signature verified under the wrong secret or body")
	}
	if !VerifyGitLab(secret, string(secret)) || VerifyGitLab(secret, "nope") || VerifyGitLab(nil, "") {
		t.Fatal("GitLab token check")
	}
}

func TestRepoKey(t *testing.T) {
	for in, want := range map[string]string{
		"https://github.com/Acme/api.git":     "github.com/Acme/api",
		"https://GitHub.com/Acme/api/":        "github.com/Acme/api",
		"git@github.com:Acme/api.git":         "github.com/Acme/api",
		"ssh://git@github.com/Acme/api.git":   "github.com/Acme/api",
		"https://user:pw@github.com/Acme/api": "github.com/Acme/api",
		"file:///tmp/hello/":                  "file:///tmp/hello",
		"file:///tmp/./hello":                 "file:///tmp/hello",
	} {
		if got := RepoKey(in); got != want {
			t.Errorf("RepoKey(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMatches(t *testing.T) {
	changed := []string{"docs/new.md", "src/main.go"}
	for _, tc := range []struct {
		filters []string
		want    bool
	}{
		{nil, true}, {[]string{"src/"}, true}, {[]string{"src/**"}, true}, {[]string{"*.md"}, false},
		{[]string{"docs/*.md"}, true}, {[]string{"web/"}, false}, {[]string{"web/", "src/*.go"}, true},
	} {
		if got := Matches(tc.filters, changed); got != tc.want {
			t.Errorf("Matches(%q) = %v, want %v", tc.filters, got, tc.want)
		}
	}
	if !Matches([]string{"web/"}, nil) {
		t.Error("a delivery without file lists must not be filtered out")
	}
}

// FuzzParse feeds both parsers and RepoKey arbitrary bodies: no panics, and an accepted push always has a
// repository and either a branch or a tag.
func FuzzParse(f *testing.F) {
	f.Add(read(f, "github_push.json"))
	f.Add(read(f, "gitlab_push.json"))
	f.Add([]byte(`{"zen":"Keep it logically awesome.","hook_id":1,"repository":{"clone_url":"git@x:y"}}`))
	f.Add([]byte(`{"ref":"refs/tags/","after":"0000000000000000000000000000000000000000","deleted":true,"repository":{"ssh_url":"::"}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, parse := range []func([]byte) (Push, error){ParseGitHub, ParseGitLab} {
			p, err := parse(body)
			if err != nil {
				continue
			}
			if len(p.Repos) == 0 || (p.Branch == "") == (p.Tag == "") || !p.Deleted && !isSHA(p.Commit) {
				t.Fatalf("accepted %+v", p)
			}
			for _, r := range p.Repos {
				_ = RepoKey(r)
			}
		}
		_, _ = GitHubRepos(body)
		_, _ = GitLabRepos(body)
	})
}
