package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/slipway-dev/slipway/store"
	"github.com/slipway-dev/slipway/webhooks"
)

// triggerWebhook is store.Trigger.Kind of a build a push delivery started.
const triggerWebhook = "webhook"

// webhookAnswer is the body of a delivery's answer: the builds it started or found, or why it was ignored.
type webhookAnswer struct {
	Builds  []webhookBuild `json:"builds"`
	Ignored string         `json:"ignored,omitempty"`
}

// webhookBuild is one build of a delivery; Existing says the commit had it already (a redelivery, a second
// webhook, a manual trigger).
type webhookBuild struct {
	Project   string `json:"project"`
	Component string `json:"component"`
	buildAccepted
}

// githubWebhook answers POST /webhooks/github: a delivery signed with the repository's webhook secret
// (X-Hub-Signature-256). A push to a branch builds its head commit for every component built from that
// repository and branch with autoBuild on.
func (s *Server) githubWebhook(c echo.Context) error {
	body, err := readBody(c)
	if err != nil {
		return err
	}
	h := c.Request().Header
	event := h.Get("X-GitHub-Event")
	if event == "" {
		return &APIError{Status: http.StatusBadRequest, Code: "bad_delivery", Message: "X-GitHub-Event header is missing"}
	}
	repos, err := webhooks.GitHubRepos(body)
	if err != nil {
		return &APIError{Status: http.StatusBadRequest, Code: "malformed_json", Message: err.Error()}
	}
	secret, repo, err := s.webhookSecret(c.Request().Context(), repos)
	if err != nil {
		return err
	}
	if !webhooks.VerifyGitHub(secret, body, h.Get("X-Hub-Signature-256")) {
		return errBadSignature("X-Hub-Signature-256 is missing or does not match the repository's webhook secret")
	}
	switch event {
	case "ping":
		return c.JSON(http.StatusOK, map[string]string{"message": "pong"})
	case "push":
	default:
		return c.JSON(http.StatusAccepted, webhookAnswer{Builds: []webhookBuild{}, Ignored: "event " + event + ": only push deliveries start builds"})
	}
	push, err := webhooks.ParseGitHub(body)
	if err != nil {
		return &APIError{Status: http.StatusBadRequest, Code: "malformed_json", Message: err.Error()}
	}
	return s.onPush(c, webhooks.GitHub, h.Get("X-GitHub-Delivery"), repo, push)
}

// gitlabWebhook answers POST /webhooks/gitlab: a delivery carrying the repository's webhook secret in
// X-Gitlab-Token, with the same rules as githubWebhook.
func (s *Server) gitlabWebhook(c echo.Context) error {
	body, err := readBody(c)
	if err != nil {
		return err
	}
	h := c.Request().Header
	repos, err := webhooks.GitLabRepos(body)
	if err != nil {
		return &APIError{Status: http.StatusBadRequest, Code: "malformed_json", Message: err.Error()}
	}
	secret, repo, err := s.webhookSecret(c.Request().Context(), repos)
	if err != nil {
		return err
	}
	if !webhooks.VerifyGitLab(secret, h.Get("X-Gitlab-Token")) {
		return errBadSignature("X-Gitlab-Token is missing or is not the repository's webhook secret")
	}
	if event := h.Get("X-Gitlab-Event"); event != "Push Hook" && event != "Tag Push Hook" {
		return c.JSON(http.StatusAccepted, webhookAnswer{Builds: []webhookBuild{}, Ignored: "event " + event + ": only push deliveries start builds"})
	}
	push, err := webhooks.ParseGitLab(body)
	if err != nil {
		return &APIError{Status: http.StatusBadRequest, Code: "malformed_json", Message: err.Error()}
	}
	return s.onPush(c, webhooks.GitLab, h.Get("X-Gitlab-Event-UUID"), repo, push)
}

func errBadSignature(msg string) *APIError {
	return &APIError{Status: http.StatusUnauthorized, Code: "bad_signature", Message: msg}
}

// webhookSecret opens the webhook secret of the first of the delivery's repository addresses slipway has
// one for, and returns it with that repository's key. No secret is a 401, like a wrong signature.
func (s *Server) webhookSecret(ctx context.Context, repos []string) ([]byte, string, error) {
	for _, r := range repos {
		key := webhooks.RepoKey(r)
		w, err := s.store.GetWebhook(ctx, key)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, "", err
		}
		secret, err := s.keys.Open(store.WebhookAAD(key), w.Secret)
		if err != nil {
			return nil, "", fmt.Errorf("opening the webhook secret of %s: %w", key, err)
		}
		return secret, key, nil
	}
	return nil, "", errBadSignature("no webhook of this repository is known to slipway")
}

// onPush builds the pushed head commit for every component built from the repository and branch with
// autoBuild on (and a path filter, if it has one, that a changed file matches): 202 with the builds, each once
// however often the commit is delivered; 503 when Temporal cannot start them, so the delivery can be redelivered.
func (s *Server) onPush(c echo.Context, provider, delivery, repo string, push webhooks.Push) error {
	ans := webhookAnswer{Builds: []webhookBuild{}}
	switch {
	case push.Tag != "":
		ans.Ignored = "tag push: builds follow branches"
	case push.Deleted:
		ans.Ignored = "branch " + push.Branch + " was deleted"
	}
	if ans.Ignored != "" {
		return c.JSON(http.StatusAccepted, ans)
	}
	ctx := c.Request().Context()
	comps, err := s.store.ListAutoBuildComponents(ctx)
	if err != nil {
		return err
	}
	trigger := store.Trigger{Kind: triggerWebhook, Actor: push.Pusher, Provider: provider, DeliveryID: delivery, Message: push.Message}
	for _, comp := range comps {
		if webhooks.RepoKey(comp.Repo) != repo || comp.Branch != push.Branch || !webhooks.Matches(comp.Paths, push.Changed) {
			continue
		}
		if s.temporal == nil || s.registry == "" {
			return errTemporalUnavailable("this server cannot start builds (no Temporal or registry configured)")
		}
		got, err := s.buildCommit(ctx, comp, push.Commit, trigger, false)
		if err != nil {
			return err
		}
		ans.Builds = append(ans.Builds, webhookBuild{Project: comp.Project, Component: comp.Name, buildAccepted: got})
	}
	if len(ans.Builds) == 0 {
		ans.Ignored = "no component builds branch " + push.Branch + " of this repository automatically"
	}
	return c.JSON(http.StatusAccepted, ans)
}
