package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/slipway-dev/slipway/api"
	"github.com/slipway-dev/slipway/store"
	"github.com/slipway-dev/slipway/webhooks"
)

// triggerWebhook is store.Trigger.Kind of a build a push delivery started.
const triggerWebhook = "webhook"

// maxDeliveries is how many deliveries have their bodies read at once; more wait for a slot up to
// deliveryWait, then get a 503 the Git host redelivers. With the body limit it bounds the memory deliveries take.
const (
	maxDeliveries = 16
	deliveryWait  = 10 * time.Second
)

// githubWebhook answers POST /webhooks/github/{key}: a delivery signed with the webhook's secret
// (X-Hub-Signature-256). The key names the webhook, so its secret is known before the body is read; a delivery
// with no signature is refused before it is. A push to a branch builds its head commit for every component built
// from that repository and branch with autoBuild on.
func (s *Server) githubWebhook(c echo.Context) error {
	h := c.Request().Header
	if !strings.HasPrefix(h.Get("X-Hub-Signature-256"), "sha256=") {
		return errBadDelivery
	}
	body, w, err := s.delivery(c, webhooks.GitHub, func(secret, body []byte) bool {
		return webhooks.VerifyGitHub(secret, body, h.Get("X-Hub-Signature-256"))
	})
	if err != nil {
		return err
	}
	event := h.Get("X-GitHub-Event")
	if event == "" {
		return &APIError{Status: http.StatusBadRequest, Code: "bad_delivery", Message: "X-GitHub-Event header is missing"}
	}
	repos, err := webhooks.GitHubRepos(body)
	if err != nil {
		return &APIError{Status: http.StatusBadRequest, Code: "malformed_json", Message: err.Error()}
	}
	if err := ofRepository(w, repos); err != nil {
		return err
	}
	switch event {
	case "ping":
		return c.JSON(http.StatusOK, api.WebhookPing{Message: "pong"})
	case "push":
	default:
		return c.JSON(http.StatusAccepted, api.WebhookAnswer{Builds: []api.WebhookBuild{}, Ignored: "event " + event + ": only push deliveries start builds"})
	}
	push, err := webhooks.ParseGitHub(body)
	if err != nil {
		return &APIError{Status: http.StatusBadRequest, Code: "malformed_json", Message: err.Error()}
	}
	return s.onPush(c, webhooks.GitHub, h.Get("X-GitHub-Delivery"), w.Repo, push)
}

// gitlabWebhook answers POST /webhooks/gitlab/{key}: a delivery carrying the webhook's secret in X-Gitlab-Token,
// checked before the body is read, with the same rules as githubWebhook.
func (s *Server) gitlabWebhook(c echo.Context) error {
	h := c.Request().Header
	token := h.Get("X-Gitlab-Token")
	if token == "" {
		return errBadDelivery
	}
	body, w, err := s.delivery(c, webhooks.GitLab, func(secret, _ []byte) bool { return webhooks.VerifyGitLab(secret, token) })
	if err != nil {
		return err
	}
	repos, err := webhooks.GitLabRepos(body)
	if err != nil {
		return &APIError{Status: http.StatusBadRequest, Code: "malformed_json", Message: err.Error()}
	}
	if err := ofRepository(w, repos); err != nil {
		return err
	}
	if event := h.Get("X-Gitlab-Event"); event != "Push Hook" && event != "Tag Push Hook" {
		return c.JSON(http.StatusAccepted, api.WebhookAnswer{Builds: []api.WebhookBuild{}, Ignored: "event " + event + ": only push deliveries start builds"})
	}
	push, err := webhooks.ParseGitLab(body)
	if err != nil {
		return &APIError{Status: http.StatusBadRequest, Code: "malformed_json", Message: err.Error()}
	}
	return s.onPush(c, webhooks.GitLab, h.Get("X-Gitlab-Event-UUID"), w.Repo, push)
}

// errBadDelivery is the one answer to a delivery that does not authenticate, whatever is wrong with it — an
// unknown key, another provider's URL, a missing or wrong signature or token — so it tells nothing apart.
var errBadDelivery = &APIError{Status: http.StatusUnauthorized, Code: "bad_signature",
	Message: "the delivery is not signed with the secret of a webhook at this URL"}

// delivery finds the webhook the URL's key names, waits for one of maxDeliveries slots, reads the body and
// checks it with verify under the webhook's secret. GitLab's token is checked before the body is read; GitHub's
// signature covers the body, so it is checked after, within the slot.
func (s *Server) delivery(c echo.Context, provider string, verify func(secret, body []byte) bool) ([]byte, store.Webhook, error) {
	ctx := c.Request().Context()
	w, err := s.store.GetWebhookByKey(ctx, c.Param("key"))
	if errors.Is(err, store.ErrNotFound) || (err == nil && w.Provider != provider) {
		return nil, store.Webhook{}, errBadDelivery
	}
	if err != nil {
		return nil, store.Webhook{}, err
	}
	secret, err := s.keys.Open(store.WebhookAAD(w.Repo), w.Secret)
	if err != nil {
		return nil, store.Webhook{}, fmt.Errorf("opening the webhook secret of %s: %w", w.Repo, err)
	}
	if provider == webhooks.GitLab && !verify(secret, nil) {
		return nil, store.Webhook{}, errBadDelivery
	}
	wait, cancel := context.WithTimeout(ctx, deliveryWait)
	defer cancel()
	select {
	case s.deliveries <- struct{}{}:
		defer func() { <-s.deliveries }()
	case <-wait.Done():
		c.Response().Header().Set("Retry-After", "5")
		return nil, store.Webhook{}, &APIError{Status: http.StatusServiceUnavailable, Code: "busy",
			Message: fmt.Sprintf("%d deliveries are being read; deliver again", maxDeliveries)}
	}
	body, err := readBody(c)
	if err != nil {
		return nil, store.Webhook{}, err
	}
	if !verify(secret, body) {
		return nil, store.Webhook{}, errBadDelivery
	}
	return body, w, nil
}

// ofRepository refuses a delivery about other repositories than its webhook's.
func ofRepository(w store.Webhook, repos []string) error {
	for _, r := range repos {
		if webhooks.RepoKey(r) == w.Repo {
			return nil
		}
	}
	return &APIError{Status: http.StatusBadRequest, Code: "bad_delivery",
		Message: "the delivery is about another repository than this webhook's (" + w.Repo + ")"}
}

// onPush builds the pushed head commit for every component built from the repository and branch with
// autoBuild on (and a path filter, if it has one, that a changed file matches): 202 with the builds, each once
// however often the commit is delivered; 503 when Temporal cannot start them, so the delivery can be redelivered.
func (s *Server) onPush(c echo.Context, provider, delivery, repo string, push webhooks.Push) error {
	ans := api.WebhookAnswer{Builds: []api.WebhookBuild{}}
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
		if s.builds.Ready() != nil {
			return errTemporalUnavailable("this server cannot start builds (no Temporal or registry configured)")
		}
		got, err := s.builds.Start(ctx, comp, push.Commit, trigger, false)
		if err != nil {
			return err
		}
		ans.Builds = append(ans.Builds, api.WebhookBuild{Project: comp.Project, Component: comp.Name, BuildAccepted: newBuildAccepted(got)})
	}
	if len(ans.Builds) == 0 {
		ans.Ignored = "no component builds branch " + push.Branch + " of this repository automatically"
	}
	return c.JSON(http.StatusAccepted, ans)
}
