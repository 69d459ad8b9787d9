package server

import (
	"net/http"
	"strings"

	"github.com/invopop/jsonschema"

	"github.com/slipway-dev/slipway/api"
	"github.com/slipway-dev/slipway/scan"
)

// apiRoute is one operation of the API as the OpenAPI document tells it. routes() registers the handlers;
// TestOpenAPIMatchesRoutes holds the two to the same methods and paths, and the handler tests hold the answers
// to the responses listed here.
type apiRoute struct {
	// method and path are the route's, the path as an OpenAPI template ("/api/v1/builds/{id}").
	method, path string
	// id is the operationId, summary one line and description any more; tag groups the operation.
	id, summary, description, tag string
	// role is the least role of a token allowed to call it; zero means no token is needed.
	role role
	// params are the query and header parameters; the path's are derived from path.
	params []param
	// body is a value of the JSON request body's type; nil means none. bodyOptional says an empty body is
	// taken as {}. rawBody is the schema of a body that is not an api type (a webhook delivery's); bodyDesc
	// describes either.
	body         any
	bodyOptional bool
	rawBody      *jsonschema.Schema
	bodyDesc     string
	// responses are the answers particular to the route; operation adds those of every route of its kind.
	responses []answer
}

// param is a query or header parameter.
type param struct {
	name, in, desc string
	// kind is its JSON Schema type: "string", "integer" or "boolean".
	kind     string
	required bool
}

// schema is the parameter's schema.
func (p param) schema() *jsonschema.Schema {
	sc := &jsonschema.Schema{Type: p.kind}
	if p.kind == "integer" {
		sc.Minimum = "0"
	}
	return sc
}

func query(name, kind, desc string) param {
	return param{name: name, in: "query", kind: kind, desc: desc}
}

func header(name, desc string, required bool) param {
	return param{name: name, in: "header", kind: "string", desc: desc, required: required}
}

// answer is one response of a route: a JSON body of body's type, a body of media type media with schema (a
// string when nil), or, for a 4xx or 5xx with neither, api.ErrorBody. desc says when it is given.
// anyOf is an answer's body that is one of several types.
type anyOf []any

type answer struct {
	status int
	desc   string
	body   any
	media  string
	schema *jsonschema.Schema
}

// withMedia is a with its body also served as media (format=jsonl, say).
func withMedia(a answer, media string) answer {
	a.media = media
	return a
}

func ok(status int, body any, desc string) answer {
	return answer{status: status, body: body, desc: desc}
}

func fail(status int, desc string) answer { return answer{status: status, desc: desc} }

func noContent(desc string) answer { return answer{status: http.StatusNoContent, desc: desc} }

// errorBodyType is the body of every error answer.
var errorBodyType = api.ErrorBody{}

// pathParamDescriptions describe the path parameters by name.
var pathParamDescriptions = map[string]string{
	"project":     "the project's name",
	"component":   "the component's name, unique in its project",
	"environment": "the environment's name, unique in its project",
	"key":         "the config's key",
	"id":          "the build's ID (b- and 16 hex digits)",
	"endpoint":    "the endpoint's name in the build's descriptor",
	"run":         "the task run's ID (run- and 16 hex digits)",
}

// Answers many routes share.
var (
	notFound         = fail(http.StatusNotFound, "what the path names does not exist")
	conflict         = fail(http.StatusConflict, "it exists already, or its state does not allow it")
	forceParam       = query("force", "boolean", "true removes what runs (through the worker) before deleting; false (the default) answers 409 still_deployed while something runs")
	badForce         = fail(http.StatusBadRequest, "force is not true or false (invalid_query)")
	upstream         = fail(http.StatusBadGateway, "GitHub, the Git repository or the undeploy on the data plane failed")
	unavailable      = fail(http.StatusServiceUnavailable, "Temporal or the image registry is not configured or not reachable")
	limitParam       = query("limit", "integer", "how many items a page holds, 1 to 500; 50 when absent")
	cursorParam      = query("cursor", "string", "the \"next\" of the previous page; absent for the first")
	badQuery         = fail(http.StatusUnprocessableEntity, "a query parameter is not valid (the error's field names it)")
	deleteConflict   = fail(http.StatusConflict, "still_deployed without force, or deployment_in_progress")
	productionDenied = fail(http.StatusForbidden, "the change touches a production environment and the token is not an admin's")
	anyJSON          = &jsonschema.Schema{Type: "object", Description: "a JSON document"}
	payloadsSchema   = &jsonschema.Schema{Type: "object", Description: "Temporal's Payloads as protojson: {\"payloads\": [{\"metadata\": {name: base64}, \"data\": base64}]}"}
)

// textPlain is the media type of the text answers (logs, metrics, specs that are not JSON).
const textPlain = "text/plain"

// componentAPIPath is the API path of a component, under which most of its routes are.
const componentAPIPath = "/api/v1/projects/{project}/components/{component}"

// apiRoutes is every route routes() registers but the console's pages, as the OpenAPI document tells it.
func apiRoutes() []apiRoute {
	return []apiRoute{
		{method: http.MethodGet, path: "/healthz", id: "getHealth", tag: "health", summary: "Whether the process is up",
			responses: []answer{ok(http.StatusOK, api.Health{}, "the process is up")}},
		{method: http.MethodGet, path: "/readyz", id: "getReadiness", tag: "health",
			summary: "Whether the store and Temporal answer",
			responses: []answer{ok(http.StatusOK, api.Readiness{}, "every dependency answers"),
				ok(http.StatusServiceUnavailable, api.Readiness{}, "a dependency does not answer; checks say which")}},
		{method: http.MethodGet, path: "/metrics", id: "getMetrics", tag: "health",
			summary:   "Prometheus metrics in the text exposition format",
			responses: []answer{{status: http.StatusOK, media: textPlain, desc: "the metrics"}}},
		{method: http.MethodGet, path: openAPIPath, id: "getOpenAPI", tag: "meta",
			summary:     "This OpenAPI 3.1 document",
			description: "Generated from the handlers' Go types and route table; the server's tests check the handlers' answers against it.",
			responses:   []answer{{status: http.StatusOK, media: "application/json", schema: anyJSON, desc: "the document"}}},

		// Webhook deliveries: their signature (GitHub) or token (GitLab) authenticates them.
		{method: http.MethodPost, path: "/webhooks/github/{key}", id: "deliverGitHubWebhook", tag: "webhooks",
			summary:     "A GitHub (or Gitea, Forgejo) webhook delivery",
			description: "A push to a branch builds its head commit for every component with autoBuild on that builds that repository and branch.",
			params: []param{header("X-Hub-Signature-256", "sha256= and the HMAC of the body under the webhook's secret", true),
				header("X-GitHub-Event", "the event: ping, push, or another (ignored)", true),
				header("X-GitHub-Delivery", "the delivery's ID, kept on the builds it starts", false)},
			rawBody: anyJSON, bodyDesc: "the Git host's event payload (at most 25 MB)",
			responses: deliveryAnswers(ok(http.StatusOK, api.WebhookPing{}, "a ping delivery"))},
		{method: http.MethodPost, path: "/webhooks/gitlab/{key}", id: "deliverGitLabWebhook", tag: "webhooks",
			summary:     "A GitLab webhook delivery",
			description: "A push to a branch builds its head commit for every component with autoBuild on that builds that repository and branch.",
			params: []param{header("X-Gitlab-Token", "the webhook's secret", true),
				header("X-Gitlab-Event", "the event: Push Hook, Tag Push Hook, or another (ignored)", false),
				header("X-Gitlab-Event-UUID", "the delivery's ID, kept on the builds it starts", false)},
			rawBody: anyJSON, bodyDesc: "the Git host's event payload (at most 25 MB)",
			responses: deliveryAnswers()},

		// Projects.
		{method: http.MethodPost, path: "/api/v1/projects", id: "createProject", tag: "projects", role: roleDeveloper,
			summary: "Create a project, with the environments development and production",
			body:    api.ProjectRequest{},
			responses: []answer{ok(http.StatusCreated, api.ProjectResponse{}, "the project"),
				fail(http.StatusConflict, "a project of that name exists")}},
		{method: http.MethodGet, path: "/api/v1/projects", id: "listProjects", tag: "projects", role: roleViewer,
			summary: "List the projects by name, a page at a time", params: []param{limitParam, cursorParam},
			responses: []answer{ok(http.StatusOK, api.Page[api.Project]{}, "a page of projects"), badQuery}},
		{method: http.MethodGet, path: "/api/v1/projects/{project}", id: "getProject", tag: "projects", role: roleViewer,
			summary:   "A project with its environments in promotion order",
			responses: []answer{ok(http.StatusOK, api.ProjectResponse{}, "the project"), notFound}},
		{method: http.MethodPatch, path: "/api/v1/projects/{project}", id: "updateProject", tag: "projects", role: roleDeveloper,
			summary: "Change a project's scan policy", body: api.ProjectUpdate{},
			responses: []answer{ok(http.StatusOK, api.ProjectResponse{}, "the project"), notFound}},
		{method: http.MethodDelete, path: "/api/v1/projects/{project}", id: "deleteProject", tag: "projects", role: roleDeveloper,
			summary: "Delete a project and everything in it", params: []param{forceParam},
			responses: []answer{noContent("deleted"), badForce, productionDenied, notFound, deleteConflict, upstream}},

		// Environments.
		{method: http.MethodGet, path: "/api/v1/projects/{project}/environments", id: "listEnvironments", tag: "environments",
			role: roleViewer, summary: "A project's environments in promotion order",
			responses: []answer{ok(http.StatusOK, api.Page[api.Environment]{}, "the environments"), notFound}},
		{method: http.MethodPost, path: "/api/v1/projects/{project}/environments", id: "createEnvironment", tag: "environments",
			role: roleDeveloper, summary: "Add an environment at the end of the promotion order", body: api.EnvironmentRequest{},
			description: "Creating a production environment needs an admin token.",
			responses: []answer{ok(http.StatusCreated, api.Environment{}, "the environment"), productionDenied, notFound,
				fail(http.StatusConflict, "an environment of that name exists")}},
		{method: http.MethodPatch, path: "/api/v1/projects/{project}/environments/{environment}", id: "updateEnvironment",
			tag: "environments", role: roleDeveloper, summary: "Change an environment's settings", body: api.EnvironmentUpdate{},
			description: "Setting production, the data plane, the kubernetes binding or the kubeconfig needs an admin token.",
			responses:   []answer{ok(http.StatusOK, api.Environment{}, "the environment"), productionDenied, notFound}},
		{method: http.MethodPut, path: "/api/v1/projects/{project}/environments/order", id: "reorderEnvironments",
			tag: "environments", role: roleDeveloper, summary: "Set the promotion order", body: api.EnvironmentOrder{},
			description: "Reordering a project that has a production environment needs an admin token.",
			responses: []answer{ok(http.StatusOK, api.Page[api.Environment]{}, "the environments in their new order"),
				productionDenied, notFound}},

		// Components.
		{method: http.MethodPost, path: "/api/v1/projects/{project}/components", id: "createComponent", tag: "components",
			role: roleDeveloper, summary: "Create a component", body: api.ComponentFields{},
			responses: []answer{ok(http.StatusCreated, api.ComponentResponse{}, "the component, with its webhook when autoBuild is on"),
				notFound, fail(http.StatusConflict, "a component of that name exists"), upstream}},
		{method: http.MethodGet, path: "/api/v1/projects/{project}/components", id: "listComponents", tag: "components",
			role: roleViewer, summary: "A project's components by name",
			responses: []answer{ok(http.StatusOK, api.Page[api.Component]{}, "the components"), notFound}},
		{method: http.MethodGet, path: componentAPIPath, id: "getComponent", tag: "components", role: roleViewer,
			summary:   "A component",
			responses: []answer{ok(http.StatusOK, api.Component{}, "the component"), notFound}},
		{method: http.MethodPatch, path: componentAPIPath, id: "updateComponent", tag: "components", role: roleDeveloper,
			summary: "Change a component (a JSON merge patch; null resets a field)", body: api.ComponentFields{},
			responses: []answer{ok(http.StatusOK, api.ComponentResponse{}, "the component, with its webhook when autoBuild is on"),
				notFound, upstream}},
		{method: http.MethodDelete, path: componentAPIPath, id: "deleteComponent", tag: "components", role: roleDeveloper,
			summary: "Delete a component", params: []param{forceParam},
			responses: []answer{noContent("deleted"), badForce, productionDenied, notFound, deleteConflict, upstream}},
		{method: http.MethodGet, path: componentAPIPath + "/webhook", id: "getWebhook", tag: "components", role: roleViewer,
			summary: "Where the repository's pushes are delivered, never the webhook's secret",
			responses: []answer{ok(http.StatusOK, api.Webhook{}, "the webhook"),
				fail(http.StatusNotFound, "no such component, or its autoBuild is off")}},

		// Repository credentials.
		{method: http.MethodPut, path: componentAPIPath + "/repo-credentials", id: "putRepoCredential", tag: "components",
			role: roleDeveloper, summary: "Set the credential the component's repository is read with",
			body:      api.RepoCredentialRequest{},
			responses: []answer{ok(http.StatusOK, api.RepoCredential{}, "which parts are set"), notFound}},
		{method: http.MethodGet, path: componentAPIPath + "/repo-credentials", id: "getRepoCredential", tag: "components",
			role: roleDeveloper, summary: "Which parts of the repository credential are set, never their values",
			responses: []answer{ok(http.StatusOK, api.RepoCredential{}, "which parts are set"), notFound}},
		{method: http.MethodDelete, path: componentAPIPath + "/repo-credentials", id: "deleteRepoCredential", tag: "components",
			role: roleDeveloper, summary: "Read the repository anonymously again",
			responses: []answer{noContent("deleted"), notFound}},

		// Configs.
		{method: http.MethodGet, path: componentAPIPath + "/environments/{environment}/configs", id: "listConfigs",
			tag: "configs", role: roleViewer, summary: "A component's configs in an environment, by key; never a secret's value",
			responses: []answer{ok(http.StatusOK, api.Page[api.Config]{}, "the configs"), notFound}},
		{method: http.MethodPut, path: componentAPIPath + "/environments/{environment}/configs/{key}", id: "putConfig",
			tag: "configs", role: roleDeveloper, summary: "Set a config or secret", body: api.ConfigRequest{},
			responses: []answer{ok(http.StatusOK, api.Config{}, "the key existed and was replaced"),
				ok(http.StatusCreated, api.Config{}, "a new key"), notFound}},
		{method: http.MethodDelete, path: componentAPIPath + "/environments/{environment}/configs/{key}", id: "deleteConfig",
			tag: "configs", role: roleDeveloper, summary: "Delete a config or secret",
			responses: []answer{noContent("deleted"), notFound,
				fail(http.StatusUnprocessableEntity, "the key is not a valid config key")}},

		// Builds.
		{method: http.MethodPost, path: componentAPIPath + "/builds", id: "triggerBuild", tag: "builds", role: roleDeveloper,
			summary: "Build a commit", body: api.BuildRequest{}, bodyOptional: true,
			description: "A commit is built once however often it is asked for, unless rebuild is set.",
			responses: []answer{ok(http.StatusAccepted, api.BuildAccepted{}, "a new build"),
				ok(http.StatusOK, api.BuildAccepted{}, "the commit's build, which it had already (existing is true)"),
				productionDenied, notFound, fail(http.StatusConflict, "the build to deploy has not finished, or its workflow exists"),
				upstream, unavailable}},
		{method: http.MethodGet, path: componentAPIPath + "/builds", id: "listBuilds", tag: "builds", role: roleViewer,
			summary: "A component's builds, newest first, a page at a time",
			params: []param{query("status", "string", "only builds of these statuses, comma-separated (queued, running, succeeded, failed, cancelled)"),
				limitParam, cursorParam},
			responses: []answer{ok(http.StatusOK, api.Page[api.Build]{}, "a page of builds"), notFound, badQuery}},
		{method: http.MethodGet, path: componentAPIPath + "/commits", id: "listCommits", tag: "builds", role: roleViewer,
			summary: "The newest commits of the component's branch, each with its build",
			params:  []param{query("limit", "integer", "how many commits, 1 to 100; 20 when absent")},
			responses: []answer{ok(http.StatusOK, api.Commits{}, "the commits"),
				fail(http.StatusBadRequest, "limit is not a whole number in range (invalid_query)"), notFound,
				fail(http.StatusUnprocessableEntity, "the branch or repository cannot be read (unknown_branch, repo_auth_failed, repo_not_found)"),
				upstream}},
		{method: http.MethodGet, path: "/api/v1/builds/{id}", id: "getBuild", tag: "builds", role: roleViewer,
			summary:   "A build, with its live steps while it runs",
			responses: []answer{ok(http.StatusOK, api.Build{}, "the build"), notFound}},
		{method: http.MethodGet, path: "/api/v1/builds/{id}/logs", id: "getBuildLogs", tag: "builds", role: roleViewer,
			summary: "A build's log as text, one line per line",
			params: []param{query("after", "integer", "start after this line (lines are numbered from 1); 0 when absent"),
				query("follow", "boolean", "true keeps the answer open and sends new lines until the build has ended")},
			responses: []answer{{status: http.StatusOK, media: textPlain, desc: "the log lines"}, notFound, badQuery}},
		{method: http.MethodPost, path: componentAPIPath + "/environments/{environment}/deploy", id: "deployBuild",
			tag: "deployments", role: roleDeveloper, summary: "Deploy, redeploy or roll back a succeeded build",
			description: "Into an environment with release rules (production, approvals, freeze windows, a stopped line) the answer is " +
				"a promotion request (api.Promotion) instead of a deployment. Into a production environment without approvals only with an admin token.",
			body: api.DeployRequest{},
			responses: []answer{ok(http.StatusAccepted, anyOf{api.Deployment{}, api.Promotion{}}, "the deployment, queued, or the promotion request"),
				productionDenied, notFound,
				fail(http.StatusConflict, "the build has not succeeded or is quarantined, the environment is frozen and refuses (frozen), or the project has no environment"), unavailable}},
		{method: http.MethodPost, path: componentAPIPath + "/promote", id: "promote", tag: "deployments", role: roleDeveloper,
			summary: "Request the promotion of a build to the next environment",
			description: "The request waits for the target's approvals, freeze windows and stopped lines, re-scans the digest for a production target, " +
				"then deploys the same digest. Into a production environment without approvals only with an admin token. " +
				"With dryRun=true the answer is the request that would be made, with its diff, and nothing is recorded.",
			body:   api.PromoteRequest{},
			params: []param{query("dryRun", "boolean", "true previews the request (200) and records nothing")},
			responses: []answer{ok(http.StatusAccepted, api.Promotion{}, "the promotion request"),
				ok(http.StatusOK, api.Promotion{}, "the request that would be made (dryRun)"), productionDenied, notFound,
				fail(http.StatusConflict, "nothing to promote (the build does not run in the environment before, or runs in the last), "+
					"the build is quarantined (quarantined) or failed its verification where it runs (failed_verification), or the target is "+
					"frozen and refuses (frozen)"),
				unavailable}},
		{method: http.MethodDelete, path: componentAPIPath + "/environments/{environment}/hold", id: "releaseHold", tag: "deployments",
			role: roleDeveloper, summary: "Release the hold on auto-promotion into an environment",
			description: "A deploy by hand of a build older than the one serving, into an environment whose promotion policy is auto, holds " +
				"auto-promotion there until it is released. Into a production environment only with an admin token.",
			responses: []answer{{status: http.StatusNoContent, desc: "released"}, productionDenied, notFound}},
		{method: http.MethodGet, path: "/api/v1/projects/{project}/promotions", id: "listPromotions", tag: "promotions", role: roleViewer,
			summary:   "A project's promotion requests, newest first",
			params:    []param{query("status", "string", "only requests of this status"), query("component", "string", "only this component's")},
			responses: []answer{ok(http.StatusOK, api.Page[api.Promotion]{}, "the requests"), notFound, badQuery}},
		{method: http.MethodGet, path: "/api/v1/projects/{project}/dora", id: "getDORA", tag: "projects", role: roleViewer,
			summary: "The DORA figures of a project, or of one component, over the last days",
			description: "Deployment frequency, lead time for changes, change failure rate and time to restore, measured in the " +
				"project's last environment, with their DORA bands, each environment's counts and a daily series.",
			params: []param{query("component", "string", "only this component's deployments; all the project's when absent"),
				query("days", "integer", "the period in UTC days, today included, 1 to 365; 30 when absent")},
			responses: []answer{ok(http.StatusOK, api.DORA{}, "the figures"),
				fail(http.StatusBadRequest, "days is not a whole number from 1 to 365 (invalid_query)"), notFound}},
		{method: http.MethodPost, path: codecAPIPath + "/decode", id: "decodePayloads", tag: "temporal", role: roleViewer,
			summary: "Decrypt Temporal payloads (Temporal's remote codec protocol)",
			description: "slipway encrypts every payload it gives Temporal. This is the codec endpoint for the temporal CLI " +
				"(--codec-endpoint <slipway>/api/v1/temporal-codec --codec-auth \"Bearer <token>\") and an external Temporal UI: " +
				"the payloads decrypted; those not encrypted come back unchanged.",
			rawBody: payloadsSchema, bodyDesc: "a Temporal Payloads object, as protojson (at most 16 MiB)",
			responses: []answer{{status: http.StatusOK, media: "application/json", schema: payloadsSchema, desc: "the payloads decrypted"},
				fail(http.StatusBadRequest, "the body is not a Payloads object (malformed_json)"),
				fail(http.StatusUnprocessableEntity, "a payload was sealed with a KEK the key file lacks, or was tampered with (undecryptable_payload)")}},
		{method: http.MethodPost, path: codecAPIPath + "/encode", id: "encodePayloads", tag: "temporal", role: roleAdmin,
			summary:     "Encrypt Temporal payloads (Temporal's remote codec protocol)",
			description: "For an admin who starts or signals a workflow with an input from the temporal CLI or an external Temporal UI.",
			rawBody:     payloadsSchema, bodyDesc: "a Temporal Payloads object, as protojson (at most 16 MiB)",
			responses: []answer{{status: http.StatusOK, media: "application/json", schema: payloadsSchema, desc: "the payloads encrypted with the active KEK"},
				fail(http.StatusBadRequest, "the body is not a Payloads object (malformed_json)")}},
		{method: http.MethodGet, path: "/api/v1/promotions/{id}", id: "getPromotion", tag: "promotions", role: roleViewer,
			summary:   "A promotion request, with its decisions and diff",
			responses: []answer{ok(http.StatusOK, api.Promotion{}, "the request"), notFound}},
		{method: http.MethodGet, path: "/api/v1/promotions/{id}/scan", id: "getPromotionScan", tag: "promotions", role: roleViewer,
			summary:   "The re-scan report of a production promotion",
			responses: []answer{ok(http.StatusOK, scan.Report{}, "the report"), notFound}},
		{method: http.MethodPost, path: "/api/v1/promotions/{id}/approve", id: "approvePromotion", tag: "promotions", role: roleDeveloper,
			summary: "Approve a promotion request", description: "Only an approver of the target environment, never the requester.",
			body: api.PromotionDecision{},
			responses: []answer{ok(http.StatusOK, api.Promotion{}, "the request"), notFound,
				fail(http.StatusForbidden, "the token requested it (self_approval) or is not an approver"),
				fail(http.StatusConflict, "the request does not wait for approvals (not_pending), or the token already rejected it"), unavailable}},
		{method: http.MethodPost, path: "/api/v1/promotions/{id}/reject", id: "rejectPromotion", tag: "promotions", role: roleDeveloper,
			summary: "Reject a promotion request, saying why", description: "One rejection ends it.", body: api.PromotionDecision{},
			responses: []answer{ok(http.StatusOK, api.Promotion{}, "the request"), notFound,
				fail(http.StatusForbidden, "the token requested it (self_approval) or is not an approver"),
				fail(http.StatusConflict, "the request does not wait for approvals (not_pending), or the token already approved it"),
				fail(http.StatusUnprocessableEntity, "no comment"), unavailable}},
		{method: http.MethodPost, path: "/api/v1/promotions/{id}/cancel", id: "cancelPromotion", tag: "promotions", role: roleDeveloper,
			summary: "Cancel a promotion request not yet deploying", description: "Its requester or an admin.", body: api.PromotionDecision{},
			responses: []answer{ok(http.StatusOK, api.Promotion{}, "the request"), notFound,
				fail(http.StatusForbidden, "the token neither requested it nor is an admin's"),
				fail(http.StatusConflict, "the request is deploying or has ended (not_cancellable)"), unavailable}},
		{method: http.MethodPost, path: "/api/v1/promotions/{id}/break-glass", id: "breakGlassPromotion", tag: "promotions", role: roleDeveloper,
			summary: "Let a promotion request through freeze windows and stopped lines", description: "Admin only, with a reason; audited. It does not approve.",
			body: api.PromotionDecision{},
			responses: []answer{ok(http.StatusOK, api.Promotion{}, "the request"), notFound, fail(http.StatusForbidden, "the token is not an admin's"),
				fail(http.StatusConflict, "the request is deploying or has ended"), fail(http.StatusUnprocessableEntity, "no comment"), unavailable}},
		{method: http.MethodGet, path: componentAPIPath + "/deployments", id: "listDeployments", tag: "deployments",
			role: roleViewer, summary: "Per environment, in promotion order, what runs and the latest deployments",
			responses: []answer{ok(http.StatusOK, api.Page[api.EnvironmentDeployments]{}, "the environments' deployments"), notFound}},
		{method: http.MethodPut, path: componentAPIPath + "/environments/{environment}/schedule", id: "putSchedule", tag: "tasks",
			role: roleDeveloper, summary: "Set when a scheduled task runs in an environment",
			description: "A Temporal Schedule starts the runs, so they survive restarts; overlap says what a run due while the last still runs does.",
			body:        api.TaskScheduleFields{},
			responses: []answer{ok(http.StatusOK, api.TaskSchedule{}, "the schedule, with its next runs"), notFound,
				fail(http.StatusConflict, "the component is not a scheduled-task (not_scheduled)"), unavailable}},
		{method: http.MethodGet, path: componentAPIPath + "/environments/{environment}/schedule", id: "getSchedule", tag: "tasks",
			role: roleViewer, summary: "When a scheduled task runs in an environment",
			responses: []answer{ok(http.StatusOK, api.TaskSchedule{}, "the schedule, with its next runs"), notFound}},
		{method: http.MethodDelete, path: componentAPIPath + "/environments/{environment}/schedule", id: "deleteSchedule", tag: "tasks",
			role: roleDeveloper, summary: "Stop a scheduled task from running in an environment",
			responses: []answer{{status: http.StatusNoContent, desc: "deleted; no run starts there after"}, notFound, unavailable}},
		{method: http.MethodGet, path: componentAPIPath + "/schedules", id: "listSchedules", tag: "tasks", role: roleViewer,
			summary:   "A scheduled task's schedules, by environment",
			responses: []answer{ok(http.StatusOK, api.Page[api.TaskSchedule]{}, "the schedules"), notFound}},
		{method: http.MethodPost, path: componentAPIPath + "/environments/{environment}/runs", id: "startRun", tag: "tasks",
			role: roleDeveloper, summary: "Run a task's release in an environment now",
			description: "The build deployed there runs to an end with the configs and secrets of that deployment. Into a production environment only with an admin token.",
			responses: []answer{ok(http.StatusAccepted, api.TaskRun{}, "the run, queued"), productionDenied, notFound,
				fail(http.StatusConflict, "the component is not a task (not_a_task), or nothing is deployed there (nothing_deployed)"), unavailable}},
		{method: http.MethodGet, path: componentAPIPath + "/runs", id: "listRuns", tag: "tasks", role: roleViewer,
			summary:   "A task's runs, newest first, a page at a time",
			params:    []param{query("environment", "string", "only the runs in this environment"), limitParam, cursorParam},
			responses: []answer{ok(http.StatusOK, api.Page[api.TaskRun]{}, "a page of runs"), notFound, badQuery}},
		{method: http.MethodGet, path: "/api/v1/runs/{run}", id: "getRun", tag: "tasks", role: roleViewer,
			summary:   "A task run: status, exit code, duration",
			responses: []answer{ok(http.StatusOK, api.TaskRun{}, "the run"), notFound}},
		{method: http.MethodGet, path: "/api/v1/runs/{run}/logs", id: "getRunLogs", tag: "tasks", role: roleViewer,
			summary: "What a task run wrote (stdout and stderr), as text, one line per line",
			params: []param{query("after", "integer", "start after this line (lines are numbered from 1); 0 when absent"),
				query("follow", "boolean", "true keeps the answer open and sends new lines until the run has ended")},
			responses: []answer{{status: http.StatusOK, media: textPlain, desc: "the log lines"}, notFound, badQuery}},
		{method: http.MethodGet, path: "/api/v1/builds/{id}/scan", id: "getBuildScan", tag: "builds", role: roleViewer,
			summary: "A build's image scan report",
			responses: []answer{ok(http.StatusOK, scan.Report{}, "the report"),
				fail(http.StatusNotFound, "no such build, or it was not scanned")}},
		{method: http.MethodGet, path: "/api/v1/builds/{id}/endpoints", id: "getBuildEndpoints", tag: "builds",
			role: roleViewer, summary: "The endpoints a build's descriptor declares",
			responses: []answer{ok(http.StatusOK, api.Endpoints{}, "the endpoints"),
				fail(http.StatusNotFound, "no such build, or its spec step has not run")}},
		{method: http.MethodGet, path: "/api/v1/builds/{id}/endpoints/{endpoint}/spec", id: "getEndpointSpec",
			tag: "builds", role: roleViewer, summary: "An endpoint's API spec",
			description: "An OpenAPI or Swagger document as JSON; a GraphQL schema or .proto file as text.",
			responses: []answer{{status: http.StatusOK, media: "application/json", schema: anyJSON, desc: "the spec"},
				{status: http.StatusOK, media: textPlain}, notFound}},
		{method: http.MethodPost, path: "/api/v1/builds/{id}/quarantine", id: "quarantineBuild", tag: "builds", role: roleDeveloper,
			summary: "Quarantine a build: it is never deployed or promoted again", body: api.QuarantineRequest{},
			responses: []answer{ok(http.StatusOK, api.Quarantine{}, "the quarantine"), notFound, fail(http.StatusUnprocessableEntity, "no reason")}},
		{method: http.MethodDelete, path: "/api/v1/builds/{id}/quarantine", id: "unquarantineBuild", tag: "builds", role: roleAdmin,
			summary:   "Lift a build's quarantine (audited)",
			responses: []answer{{status: http.StatusNoContent, desc: "lifted"}, notFound}},
		{method: http.MethodPost, path: "/api/v1/builds/{id}/cancel", id: "cancelBuild", tag: "builds", role: roleDeveloper,
			summary: "Cancel a build",
			responses: []answer{ok(http.StatusAccepted, api.BuildCancellation{}, "cancellation was asked of the build's workflow"),
				notFound, fail(http.StatusConflict, "the build has ended (build_finished)"), unavailable}},

		// The change feed.
		{method: http.MethodGet, path: "/api/v1/events", id: "getEvents", tag: "events", role: roleViewer,
			summary: "slipway's change feed: server-sent events, or a JSON list",
			description: "By default a stream of server-sent events that stays open: each change is a message with id " +
				"(its seq), event (its kind) and data (an Event as JSON); a bare id message marks events read past. " +
				"With follow=false, or Accept: application/json, a JSON EventList of the events after the cursor.",
			params: []param{query("project", "string", "only the events about this project"),
				query("component", "string", "only the events about this component"),
				query("after", "integer", "start after this seq; the newest event when streaming, 0 for a list"),
				query("follow", "boolean", "false answers at once with a JSON list; true (the default, unless Accept asks for JSON) streams"),
				header("Last-Event-ID", "the seq to resume after (an EventSource's reconnect); wins over after", false)},
			responses: []answer{{status: http.StatusOK, media: mimeEventStream, desc: "the stream"},
				ok(http.StatusOK, api.EventList{}, "the list (follow=false)"), badQuery}},

		// Tokens and keys.
		{method: http.MethodPut, path: "/api/v1/projects/{project}/stop", id: "stopProject", tag: "promotions", role: roleDeveloper,
			summary: "Stop a project's line: nothing is promoted or deployed into it until it is started", body: api.StopRequest{},
			responses: []answer{ok(http.StatusOK, api.Stop{}, "the stop"), notFound, fail(http.StatusUnprocessableEntity, "no reason")}},
		{method: http.MethodDelete, path: "/api/v1/projects/{project}/stop", id: "startProject", tag: "promotions", role: roleAdmin,
			summary:   "Start a project's stopped line; the requests waiting for it go on",
			responses: []answer{{status: http.StatusNoContent, desc: "started"}, notFound}},
		{method: http.MethodGet, path: "/api/v1/projects/{project}/notifications", id: "listNotificationHooks", tag: "notifications",
			role: roleDeveloper, summary: "A project's notification hooks (outgoing webhooks), oldest first; never their secrets",
			responses: []answer{ok(http.StatusOK, api.Page[api.NotificationHook]{}, "the hooks"), notFound}},
		{method: http.MethodPost, path: "/api/v1/projects/{project}/notifications", id: "createNotificationHook", tag: "notifications",
			role: roleAdmin, summary: "Add a notification hook: the project's events are POSTed to it, signed (X-Slipway-Signature)",
			description: "Events: " + strings.Join(api.NotificationEvents, ", ") + ". Each body is signed with HMAC-SHA256 of the hook's secret " +
				"(X-Slipway-Signature: sha256=<hex>); X-Slipway-Delivery names the delivery, the same on every retry. Without a secret slipway " +
				"makes one and answers it this once.",
			body: api.NotificationHookRequest{},
			responses: []answer{ok(http.StatusCreated, api.NotificationHook{}, "the hook, with the secret slipway made"), notFound,
				fail(http.StatusUnprocessableEntity, "the url, format or an event is not valid (the error's field names it)")}},
		{method: http.MethodDelete, path: "/api/v1/projects/{project}/notifications/{id}", id: "deleteNotificationHook", tag: "notifications",
			role: roleAdmin, summary: "Delete a notification hook and its delivery log",
			responses: []answer{{status: http.StatusNoContent, desc: "deleted"}, notFound}},
		{method: http.MethodGet, path: "/api/v1/projects/{project}/notifications/{id}/deliveries", id: "listNotificationDeliveries",
			tag: "notifications", role: roleDeveloper, summary: "A hook's delivery log, newest first: each event's attempts and last answer",
			responses: []answer{ok(http.StatusOK, api.Page[api.NotificationDelivery]{}, "the deliveries"), notFound}},
		{method: http.MethodPost, path: "/api/v1/projects/{project}/notifications/{id}/test", id: "testNotificationHook", tag: "notifications",
			role: roleAdmin, summary: "Send a hook a ping",
			responses: []answer{ok(http.StatusAccepted, api.NotificationDelivery{}, "the ping's delivery, under way"), notFound, unavailable}},
		{method: http.MethodGet, path: "/api/v1/audit", id: "auditLog", tag: "admin", role: roleDeveloper,
			summary: "The audit log, newest first, a page at a time; or every match as JSON lines",
			params: []param{query("project", "string", "only entries about this project"), query("component", "string", "only this component"),
				query("environment", "string", "only this environment"), query("actor", "string", "only this actor"),
				query("action", "string", "only this action"), query("target", "string", "only this target"),
				query("since", "string", "only entries at or after this RFC 3339 time"), query("until", "string", "only entries before this RFC 3339 time"),
				query("cursor", "string", "the next of the previous page"), query("limit", "integer", "entries per page, 1 to 1000; 100 when absent"),
				query("format", "string", "jsonl exports every matching entry as JSON lines")},
			responses: []answer{withMedia(ok(http.StatusOK, api.AuditPage{}, "a page of entries, or (format=jsonl) every entry as JSON lines"),
				"application/x-ndjson"), badQuery}},
		{method: http.MethodPost, path: "/api/v1/tokens", id: "createToken", tag: "admin", role: roleAdmin,
			summary: "Create an API token; the answer is the only time it is shown", body: api.TokenRequest{},
			responses: []answer{ok(http.StatusCreated, api.CreatedToken{}, "the token"),
				fail(http.StatusConflict, "a token of that name exists")}},
		{method: http.MethodGet, path: "/api/v1/tokens", id: "listTokens", tag: "admin", role: roleAdmin,
			summary:   "The API tokens, never their secrets",
			responses: []answer{ok(http.StatusOK, api.Page[api.Token]{}, "the tokens")}},
		{method: http.MethodPost, path: "/api/v1/keys/rotate", id: "rotateKeys", tag: "admin", role: roleAdmin,
			summary: "Rotate the key-encryption key and re-wrap every data key with it", body: api.RotateRequest{},
			bodyOptional: true,
			responses: []answer{ok(http.StatusOK, api.Rotation{}, "the active KEK and how many data keys were re-wrapped"),
				fail(http.StatusConflict, "the key file is read-only, or another rotation overtook this one")}},
	}
}

// deliveryAnswers are the answers of a webhook delivery, with extra.
func deliveryAnswers(extra ...answer) []answer {
	return append(extra,
		ok(http.StatusAccepted, api.WebhookAnswer{}, "the builds the push started or found, or why it started none"),
		fail(http.StatusBadRequest, "the delivery is malformed or about another repository"),
		fail(http.StatusUnauthorized, "the delivery is not signed with the secret of a webhook at this URL (bad_signature)"),
		fail(http.StatusRequestEntityTooLarge, "the body is larger than 25 MB"),
		fail(http.StatusServiceUnavailable, "too many deliveries are being read (busy, with Retry-After), or builds cannot start"),
		notFound, conflict, fail(http.StatusUnprocessableEntity, "the component's build cannot start"), upstream)
}
