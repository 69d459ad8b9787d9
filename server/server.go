package server

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/slipway-dev/slipway/api"
	"github.com/slipway-dev/slipway/console"
	"github.com/slipway-dev/slipway/delivery"
	"github.com/slipway-dev/slipway/secretbox"
	"github.com/slipway-dev/slipway/store"
)

// rewrapBatch is how many config values one in-process re-wrap transaction handles.
const rewrapBatch = 500

// Deps is what the API needs. Store and Keys are required; the other fields have usable zero values.
type Deps struct {
	// Store is the metadata store.
	Store *store.Store
	// Keys seals and opens config values; POST /api/v1/keys/rotate rotates it.
	Keys *secretbox.Keyring
	// Temporal is the Temporal client. Nil means Temporal is not configured: /readyz then answers 503, and so do
	// triggering and cancelling builds.
	Temporal client.Client
	// Registry is the host:port of the registry images are pushed to; a build of component c of project p is
	// pushed to Registry + "/" + p + "/" + c. Empty means none is configured: triggering a build answers 503.
	Registry string
	// Resolve returns the full SHA of the commit ref names in the Git repository repo (ref is a full or short
	// SHA, a branch or a tag), read with auth (the component's repo credential, or anonymous access when it has
	// none), with an error wrapping gitsource.ErrUnknownRef when it names none. Nil means gitsource.Resolve.
	Resolve delivery.Resolver
	// RecentCommits returns the newest commits of a branch of the Git repository repo, newest first along first
	// parents, read with auth, for GET …/components/{c}/commits and the console's commit cards. Nil means
	// gitsource.RecentCommits.
	RecentCommits delivery.CommitReader
	// Between reads the commits and files between two commits of a branch, for a promotion's diff; nil means
	// gitsource.Between.
	Between delivery.RangeReader
	// Rewrap re-wraps every stored data key with the active KEK after a rotation and returns how many values
	// changed. Nil means re-wrap in this process with Store.RewrapConfigs and Keys.Rewrap.
	Rewrap func(ctx context.Context) (int, error)
	// Drift tells whether the release of component running in env was changed on its data plane behind
	// slipway's back; nil (Drift or its answer) means it is not checked. GET …/deployments shows it.
	Drift func(ctx context.Context, env store.Environment, component string) (*api.Drift, error)
	// Webhooks says how Git hosts reach slipway and whether it registers webhooks on GitHub itself.
	Webhooks WebhookConfig
	// Logger receives one line per request (never a request body). Nil means slog.Default().
	Logger *slog.Logger
	// TemporalNamespace is the Temporal namespace builds run in, for the console's links to the Temporal UI;
	// "" means "default".
	TemporalNamespace string
	// PayloadCodec encrypts and decrypts Temporal payloads (payloadcodec.Codec) for the codec endpoints
	// (POST /api/v1/temporal-codec/{decode,encode} and the Temporal UI's); nil means payloads are not
	// encrypted, and the endpoints answer them unchanged.
	PayloadCodec converter.PayloadCodec
}

// Server is slipway's HTTP API: its handlers are methods, and it owns its Prometheus registry, so two Servers in
// one process count separately. Build it with New; the zero Server is not usable.
type Server struct {
	echo     *echo.Echo
	store    *store.Store
	keys     *secretbox.Keyring
	temporal client.Client
	rewrap   func(ctx context.Context) (int, error)
	webhooks WebhookConfig
	drift    func(ctx context.Context, env store.Environment, component string) (*api.Drift, error)
	log      *slog.Logger
	metrics  *metrics
	// pages renders the web console; temporalUI is the Temporal UI's base URL its build pages link to (nil:
	// none runs), set by LinkTemporalUI once the UI listens; namespace is the Temporal namespace.
	pages      *console.Pages
	temporalUI atomic.Pointer[string]
	namespace  string
	// payloadCodec encrypts Temporal payloads for the codec endpoints; nil: they answer payloads unchanged.
	payloadCodec converter.PayloadCodec
	// builds starts builds of commits (the API's and the webhooks'); deploys queues deployments.
	builds  *delivery.Builds
	deploys *delivery.Deploys
	tasks   *delivery.Tasks
	// promotions runs promotion requests (promote, deploys into governed environments, approvals).
	promotions *delivery.Promotions
	// notifications keeps projects' notification hooks and sends their test pings.
	notifications *delivery.Notifications

	// logPoll is how often a followed build log polls the store; tests shorten it.
	logPoll time.Duration
	// eventPoll is how often a followed change feed polls the store, keepAlive how long it stays silent at
	// most (it then sends a comment); tests shorten them.
	eventPoll, keepAlive time.Duration
	// streamsDone is closed by EndStreams: followed logs and change feeds end.
	streamsDone chan struct{}
	// deliveries holds a token for each webhook delivery whose body is being read (maxDeliveries at most).
	deliveries chan struct{}
	endStreams sync.Once
	// openAPI is the API's OpenAPI document, built on its first request.
	openAPI openAPIDocument
}

// New builds the Server: an *echo.Echo with every route, the request middleware (observation, panic recovery,
// the 1 MiB body limit; bearer-token authentication and role checks per route) and the central error handler.
// It panics if d.Store or d.Keys is nil, which is a programming error.
func New(d Deps) *Server {
	if d.Store == nil || d.Keys == nil {
		panic("server.New: Deps.Store and Deps.Keys are required")
	}
	s := &Server{
		echo:     echo.New(),
		store:    d.Store,
		keys:     d.Keys,
		temporal: d.Temporal,
		rewrap:   d.Rewrap,
		webhooks: d.Webhooks,
		drift:    d.Drift,
		log:      d.Logger,
		metrics:  newMetrics(),
		pages:    console.New(),

		namespace:    d.TemporalNamespace,
		payloadCodec: d.PayloadCodec,

		logPoll:     defaultLogPoll,
		eventPoll:   defaultEventPoll,
		keepAlive:   defaultKeepAlive,
		streamsDone: make(chan struct{}),
		deliveries:  make(chan struct{}, maxDeliveries),
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.namespace == "" {
		s.namespace = "default"
	}
	s.builds = &delivery.Builds{Store: d.Store, Keys: d.Keys, Registry: d.Registry, Resolve: d.Resolve,
		RecentCommits: d.RecentCommits, Between: d.Between, QueuedGrace: delivery.TemporalTimeout, Log: s.log}
	s.deploys = &delivery.Deploys{Store: d.Store, Log: s.log}
	s.tasks = &delivery.Tasks{Store: d.Store, Log: s.log}
	s.promotions = &delivery.Promotions{Store: d.Store, Deploys: s.deploys, Diff: s.builds.PromotionDiff, Log: s.log}
	s.notifications = &delivery.Notifications{Store: d.Store, Keys: d.Keys, Log: s.log}
	if d.Temporal != nil { // a nil client.Client in an interface field would not be nil
		s.builds.Temporal, s.deploys.Temporal, s.tasks.Temporal = d.Temporal, d.Temporal, d.Temporal
		s.promotions.Temporal, s.notifications.Temporal = d.Temporal, d.Temporal
	}
	if s.rewrap == nil {
		s.rewrap = func(ctx context.Context) (int, error) {
			return s.store.RewrapConfigs(ctx, rewrapBatch, s.keys.Rewrap)
		}
	}
	s.echo.HideBanner = true
	s.echo.HidePort = true
	s.echo.HTTPErrorHandler = s.handleError
	s.echo.Use(s.observe, recoverPanics, limitBody)
	s.routes()
	return s
}

// LinkTemporalUI makes the console's build pages link to their runs in the Temporal UI served at base (its
// base URL, e.g. http://127.0.0.1:8233); "" removes the links.
func (s *Server) LinkTemporalUI(base string) {
	if base == "" {
		s.temporalUI.Store(nil)
		return
	}
	base = strings.TrimSuffix(base, "/")
	s.temporalUI.Store(&base)
}

// Handler returns the http.Handler serving the whole API.
func (s *Server) Handler() http.Handler { return s.echo }

// EndStreams ends every followed build log (GET /api/v1/builds/{id}/logs?follow=true) and change feed
// (GET /api/v1/events) now, and each one started later at once. Register it with http.Server.RegisterOnShutdown:
// Shutdown otherwise waits for those responses, which last as long as their builds or their clients, until its
// deadline.
func (s *Server) EndStreams() { s.endStreams.Do(func() { close(s.streamsDone) }) }

// routes registers every route with the least role allowed to call it.
func (s *Server) routes() {
	e := s.echo
	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)
	e.GET("/metrics", s.metrics.handler())
	// The OpenAPI document holds no data: it needs no token. apiRoutes (openapi_routes.go) describes every route
	// registered here but the console's pages; TestOpenAPIMatchesRoutes holds the two together.
	e.GET(openAPIPath, s.serveOpenAPI)
	// Webhook deliveries carry no token: their signature (or GitLab's token) authenticates them.
	e.POST("/webhooks/github/:key", s.githubWebhook)
	e.POST("/webhooks/gitlab/:key", s.gitlabWebhook)

	// Authentication is per route, not group middleware: a group middleware makes Echo answer 404 instead of
	// 405 for a known path with the wrong method.
	viewer, developer, admin := s.allow(roleViewer), s.allow(roleDeveloper), s.allow(roleAdmin)
	api := e.Group("/api/v1")

	api.POST("/projects", s.createProject, developer)
	api.GET("/projects", s.listProjects, viewer)
	api.GET("/projects/:project", s.getProject, viewer)
	api.PATCH("/projects/:project", s.updateProject, developer)
	api.DELETE("/projects/:project", s.deleteProject, developer)

	api.GET("/projects/:project/environments", s.listEnvironments, viewer)
	api.POST("/projects/:project/environments", s.createEnvironment, developer)
	api.PATCH("/projects/:project/environments/:environment", s.updateEnvironment, developer)
	api.PUT("/projects/:project/environments/order", s.reorderEnvironments, developer)

	api.POST("/projects/:project/components", s.createComponent, developer)
	api.GET("/projects/:project/components", s.listComponents, viewer)
	api.GET("/projects/:project/components/:component", s.getComponent, viewer)
	api.PATCH("/projects/:project/components/:component", s.updateComponent, developer)
	api.DELETE("/projects/:project/components/:component", s.deleteComponent, developer)
	api.GET("/projects/:project/components/:component/webhook", s.getWebhook, viewer)

	// A repo credential is never shown, only which parts are set; even that is for developers.
	repoCredentials := "/projects/:project/components/:component/repo-credentials"
	api.PUT(repoCredentials, s.putRepoCredential, developer)
	api.GET(repoCredentials, s.getRepoCredential, developer)
	api.DELETE(repoCredentials, s.deleteRepoCredential, developer)

	configs := "/projects/:project/components/:component/environments/:environment/configs"
	api.GET(configs, s.listConfigs, viewer)
	api.PUT(configs+"/:key", s.putConfig, developer)
	api.DELETE(configs+"/:key", s.deleteConfig, developer)

	builds := "/projects/:project/components/:component/builds"
	api.POST(builds, s.triggerBuild, developer)
	api.GET(builds, s.listBuilds, viewer)
	api.GET("/projects/:project/components/:component/commits", s.listCommits, viewer)
	api.GET("/builds/:id", s.getBuild, viewer)
	api.GET("/builds/:id/logs", s.buildLogs, viewer)
	api.POST("/projects/:project/components/:component/environments/:environment/deploy", s.deployBuild, developer)
	api.POST("/projects/:project/components/:component/promote", s.promote, developer)
	api.GET("/projects/:project/components/:component/deployments", s.listDeployments, viewer)
	api.DELETE("/projects/:project/components/:component/environments/:environment/hold", s.releaseHold, developer)
	schedule := "/projects/:project/components/:component/environments/:environment/schedule"
	api.PUT(schedule, s.putSchedule, developer)
	api.GET(schedule, s.getSchedule, viewer)
	api.DELETE(schedule, s.deleteSchedule, developer)
	api.GET("/projects/:project/components/:component/schedules", s.listSchedules, viewer)
	api.POST("/projects/:project/components/:component/environments/:environment/runs", s.startRun, developer)
	api.GET("/projects/:project/components/:component/runs", s.listRuns, viewer)
	api.GET("/runs/:run", s.getRun, viewer)
	api.GET("/runs/:run/logs", s.taskRunLogs, viewer)
	api.GET("/builds/:id/scan", s.getBuildScan, viewer)
	api.GET("/builds/:id/endpoints", s.getBuildEndpoints, viewer)
	api.GET("/builds/:id/endpoints/:endpoint/spec", s.getEndpointSpec, viewer)
	api.POST("/builds/:id/cancel", s.cancelBuild, developer)

	api.GET("/projects/:project/promotions", s.listPromotions, viewer)
	api.GET("/projects/:project/dora", s.getDORA, viewer)
	api.POST("/temporal-codec/decode", s.decodePayloads, viewer)
	api.POST("/temporal-codec/encode", s.encodePayloads, admin)
	api.GET("/promotions/:id", s.getPromotion, viewer)
	api.GET("/promotions/:id/scan", s.getPromotionScan, viewer)
	for _, decision := range []string{"approve", "reject", "cancel", "break-glass"} {
		api.POST("/promotions/:id/"+decision, s.decidePromotion, developer)
	}
	api.POST("/builds/:id/quarantine", s.quarantineBuild, developer)
	api.DELETE("/builds/:id/quarantine", s.unquarantineBuild, admin)
	api.PUT("/projects/:project/stop", s.stopProject, developer)
	api.DELETE("/projects/:project/stop", s.startProject, admin)
	api.GET("/audit", s.auditLog, developer)
	api.GET("/projects/:project/notifications", s.listNotificationHooks, developer)
	api.POST("/projects/:project/notifications", s.createNotificationHook, admin)
	api.DELETE("/projects/:project/notifications/:id", s.deleteNotificationHook, admin)
	api.GET("/projects/:project/notifications/:id/deliveries", s.listNotificationDeliveries, developer)
	api.POST("/projects/:project/notifications/:id/test", s.testNotificationHook, admin)

	api.GET("/events", s.events, viewer)

	api.POST("/tokens", s.createToken, admin)
	api.GET("/tokens", s.listTokens, admin)
	api.POST("/keys/rotate", s.rotateKeys, admin)

	s.consoleRoutes()
}
