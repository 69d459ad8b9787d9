package server

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/slipway-dev/slipway/api"
	"github.com/slipway-dev/slipway/store"
	"github.com/slipway-dev/slipway/webhooks"
)

// WebhookConfig says how slipway is reached by Git hosts and how it manages webhooks on GitHub.
type WebhookConfig struct {
	// PublicURL is the base URL Git hosts deliver to (…/webhooks/github/<key>); "" means the API's own URL.
	PublicURL string
	// GitHubAPI is the GitHub REST API base URL; "" means https://api.github.com (GitHub Enterprise:
	// https://host/api/v3).
	GitHubAPI string
	// GitHubToken may create and delete the repositories' webhooks; "" means webhooks are added by hand.
	GitHubToken string
	// HTTPClient calls GitHub; nil means one with a 10 s timeout.
	HTTPClient *http.Client
}

func (w WebhookConfig) githubAPI() string {
	if w.GitHubAPI == "" {
		return "https://api.github.com"
	}
	return strings.TrimSuffix(w.GitHubAPI, "/")
}

// githubHost is the host of GitHub's repositories for the API configured: github.com, or the Enterprise host.
func (w WebhookConfig) githubHost() string {
	u, err := url.Parse(w.githubAPI())
	if err != nil || u.Host == "api.github.com" {
		return "github.com"
	}
	return strings.ToLower(u.Hostname())
}

// provider says which delivery endpoint a repository's host uses: GitLab's for a host named so, else
// GitHub's (whose signed deliveries Gitea and Forgejo send too).
func (s *Server) provider(repo string) string {
	host, _, _ := strings.Cut(repo, "/")
	if host != s.webhooks.githubHost() && strings.Contains(host, "gitlab") {
		return webhooks.GitLab
	}
	return webhooks.GitHub
}

// ensureWebhook gives the component's repository a webhook secret unless it has one and, for a GitHub
// repository with a token configured, registers the webhook there. The answer shows the secret only when the
// webhook must be added by hand and was just made.
func (s *Server) ensureWebhook(ctx context.Context, comp store.Component, base string) (*api.Webhook, error) {
	repo := webhooks.RepoKey(comp.Repo)
	provider := s.provider(repo)
	secret := make([]byte, 32)
	rand.Read(secret)
	plain := hex.EncodeToString(secret)
	sealed, err := s.keys.Seal(store.WebhookAAD(repo), []byte(plain))
	if err != nil {
		return nil, err
	}
	w, created, err := s.store.CreateWebhook(ctx, store.Webhook{Repo: repo, Provider: provider, Key: deliveryKey(), Secret: sealed})
	if err != nil {
		return nil, err
	}
	moved := false
	if w.Key == "" { // made before delivery URLs had keys
		if w.Key, err = s.store.GiveWebhookKey(ctx, repo, deliveryKey()); err != nil {
			return nil, err
		}
		moved = true
	}
	info := &api.Webhook{URL: s.webhookURL(base, w.Provider, w.Key)}
	if w.HookID != "" {
		if moved && s.webhooks.GitHubToken != "" {
			if err := s.moveGitHubHook(ctx, repo, w.HookID, info.URL); err != nil {
				return nil, err
			}
		}
		info.Registered = true
		return info, nil
	}
	if provider == webhooks.GitHub && s.webhooks.GitHubToken != "" {
		if !created { // made earlier by hand, or a registration failed: register it now with the stored secret
			opened, err := s.keys.Open(store.WebhookAAD(repo), w.Secret)
			if err != nil {
				return nil, err
			}
			plain = string(opened)
		}
		id, err := s.createGitHubHook(ctx, repo, info.URL, plain)
		if err != nil {
			return nil, err
		}
		if err := s.store.SetWebhookHookID(ctx, repo, id); err != nil {
			return nil, err
		}
		info.Registered = true
		return info, nil
	}
	info.Note = "add this webhook to the repository by hand (content type JSON, push events)"
	if created {
		info.Secret = plain
		info.Note += "; the secret is shown this once"
	} else {
		info.Note += " with the secret shown when auto-build was first turned on"
	}
	return info, nil
}

// releaseWebhook deletes the repository's webhook (on GitHub too, when slipway registered it) once no
// component builds it automatically any more.
func (s *Server) releaseWebhook(ctx context.Context, repoAddr string) error {
	repo := webhooks.RepoKey(repoAddr)
	comps, err := s.store.ListAutoBuildComponents(ctx)
	if err != nil {
		return err
	}
	for _, c := range comps {
		if webhooks.RepoKey(c.Repo) == repo {
			return nil
		}
	}
	w, err := s.store.GetWebhook(ctx, repo)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if w.HookID != "" && s.webhooks.GitHubToken != "" {
		if err := s.deleteGitHubHook(ctx, repo, w.HookID); err != nil {
			return err
		}
	}
	return s.store.DeleteWebhook(ctx, repo)
}

// webhookURL is where the Git host delivers a webhook's events: …/webhooks/<provider>/<key>.
func (s *Server) webhookURL(base, provider, key string) string {
	if s.webhooks.PublicURL != "" {
		base = s.webhooks.PublicURL
	}
	return strings.TrimSuffix(base, "/") + "/webhooks/" + provider + "/" + key
}

// deliveryKey is a new webhook's delivery key: 128 random bits, hex.
func deliveryKey() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// ownerRepo is "owner/repo" of a GitHub repository key ("github.com/owner/repo").
func ownerRepo(repo string) string {
	_, p, _ := strings.Cut(repo, "/")
	return p
}

func (s *Server) githubDo(ctx context.Context, method, path string, body any, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, s.webhooks.githubAPI()+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+s.webhooks.GitHubToken)
	req.Header.Set("Accept", "application/vnd.github+json")
	req.Header.Set("X-GitHub-Api-Version", "2022-11-28")
	hc := s.webhooks.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	resp, err := hc.Do(req)
	if err != nil {
		return &APIError{Status: http.StatusBadGateway, Code: "github_unreachable", Message: "calling GitHub: " + err.Error()}
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound && method == http.MethodDelete {
		return nil // already gone
	}
	if resp.StatusCode/100 != 2 {
		return &APIError{Status: http.StatusBadGateway, Code: "github_refused",
			Message: fmt.Sprintf("GitHub answered %s to %s %s (does the token have admin:repo_hook on the repository?)", resp.Status, method, path)}
	}
	if out != nil {
		return json.NewDecoder(resp.Body).Decode(out)
	}
	return nil
}

func (s *Server) createGitHubHook(ctx context.Context, repo, deliverTo, secret string) (string, error) {
	var out struct {
		ID int64 `json:"id"`
	}
	err := s.githubDo(ctx, http.MethodPost, "/repos/"+ownerRepo(repo)+"/hooks", map[string]any{
		"name": "web", "active": true, "events": []string{"push"},
		"config": map[string]string{"url": deliverTo, "content_type": "json", "secret": secret, "insecure_ssl": "0"},
	}, &out)
	if err != nil {
		return "", err
	}
	return strconv.FormatInt(out.ID, 10), nil
}

// moveGitHubHook points the webhook slipway made on GitHub at its new delivery URL.
func (s *Server) moveGitHubHook(ctx context.Context, repo, id, deliverTo string) error {
	return s.githubDo(ctx, http.MethodPatch, "/repos/"+ownerRepo(repo)+"/hooks/"+id+"/config", map[string]string{"url": deliverTo}, nil)
}

func (s *Server) deleteGitHubHook(ctx context.Context, repo, id string) error {
	return s.githubDo(ctx, http.MethodDelete, "/repos/"+ownerRepo(repo)+"/hooks/"+id, nil, nil)
}
