package api

import (
	"time"

	"github.com/slipway-dev/slipway/descriptor"
	"github.com/slipway-dev/slipway/scan"
)

// BuildRequest is the body of POST …/components/{c}/builds; no body is {}.
type BuildRequest struct {
	// Commit is a full or short SHA, a branch or a tag; "" means the head of the component's branch.
	Commit string `json:"commit"`
	// Rebuild starts a new build, under a new ID, of a commit that has been built already; false answers with
	// the commit's build when it has one.
	Rebuild bool `json:"rebuild"`
	// Deploy also deploys the build to the project's first environment once it has succeeded (as the component's
	// autoDeploy does); for a commit built already, its succeeded build is deployed at once. False only builds.
	Deploy bool `json:"deploy"`
}

// BuildAccepted is the answer of a build trigger: 202 for a new build, 200 with Existing for the build the
// commit already has.
type BuildAccepted struct {
	// ID is the build's ID ("b-" and 16 hex digits).
	ID string `json:"id"`
	// WorkflowID names the build's Temporal workflow.
	WorkflowID string `json:"workflowId"`
	// Commit is the full SHA built.
	Commit string `json:"commit"`
	// Status is the build's status now, one of the Build* statuses.
	Status string `json:"status"`
	// Existing says the commit had this build already; false means it was just made.
	Existing bool `json:"existing"`
	// Deployment is the deployment queued of an existing build when the request asked to deploy it; nil (and
	// absent) otherwise (a new build deploys itself when it has succeeded).
	Deployment *Deployment `json:"deployment,omitempty"`
}

// BuildCancellation is the answer of POST /api/v1/builds/{id}/cancel: the build as it is now; it becomes cancelled
// when its workflow has stopped its work.
type BuildCancellation struct {
	// ID is the build's ID.
	ID string `json:"id"`
	// WorkflowID names the build's Temporal workflow.
	WorkflowID string `json:"workflowId"`
	// Status is the build's status now, one of the Build* statuses.
	Status string `json:"status"`
	// CancelRequested says cancellation was asked of the workflow (always true in an answer).
	CancelRequested bool `json:"cancelRequested"`
}

// Build is a build as the API shows it: GET /api/v1/builds/{id} and the items of a component's builds list.
type Build struct {
	// ID is the build's ID ("b-" and 16 hex digits).
	ID string `json:"id"`
	// Project and Component name what is built.
	Project   string `json:"project"`
	Component string `json:"component"`
	// Status is one of the Build* statuses.
	Status string `json:"status"`
	// Commit is the full SHA built.
	Commit string `json:"commit"`
	// CommittedAt is when the commit was committed (its committer time, UTC), as read at checkout; nil (and
	// absent) before the checkout, for builds made before slipway recorded it and for image imports.
	CommittedAt *time.Time `json:"committedAt,omitempty"`
	// Trigger says what started the build.
	Trigger Trigger `json:"trigger"`
	// Digest is the pushed image's manifest digest; "" until the image is pushed.
	Digest string `json:"digest"`
	// ImageSize is the image's size in bytes; 0 until the image is pushed.
	ImageSize int64 `json:"imageSize"`
	// Steps are the pipeline's stages in order; [] when none is known yet.
	Steps []Step `json:"steps"`
	// Scan is the scan in brief (GET /api/v1/builds/{id}/scan has the report); nil (and absent) until the image
	// was scanned.
	Scan *scan.Summary `json:"scan,omitempty"`
	// Descriptor says where the build's endpoints and health checks come from; nil (and absent) until the spec
	// step ran.
	Descriptor *DescriptorSource `json:"descriptor,omitempty"`
	// Source says how a build from source was built (the repository has no Dockerfile, or its descriptor says
	// build: source); nil (and absent) for a build of the repository's Dockerfile, or before the build step.
	Source *SourceBuild `json:"source,omitempty"`
	// Required names the configs and secrets the build's descriptor requires; [] until the spec step ran, or
	// when it requires none.
	Required []RequiredConfig `json:"required"`
	// Error says why a failed build failed; "" (and absent) otherwise.
	Error string `json:"error,omitempty"`
	// SupersededBy names the newer run of the same commit (a rebuild) that is the commit's build now; "" (and
	// absent) when this is the commit's current build.
	SupersededBy string `json:"supersededBy,omitempty"`
	// WorkflowID names the build's Temporal workflow.
	WorkflowID string `json:"workflowId"`
	// RunID names the workflow's run; "" (and absent) until it has started.
	RunID string `json:"runId,omitempty"`
	// CreatedAt is when the build was stored (UTC).
	CreatedAt time.Time `json:"createdAt"`
	// StartedAt is when the pipeline started; nil (and absent) until it has.
	StartedAt *time.Time `json:"startedAt,omitempty"`
	// EndedAt is when the build ended; nil (and absent) while it has not.
	EndedAt *time.Time `json:"endedAt,omitempty"`
}

// Trigger says what started a build.
type Trigger struct {
	// Kind is "manual" (through the API) or "webhook" (a push delivery).
	Kind string `json:"kind"`
	// Actor is the API token's name for a manual build, the pusher for a webhook; "" (and absent) when unknown.
	Actor string `json:"actor,omitempty"`
	// Provider is the Git host of a webhook delivery ("github" or "gitlab"); "" (and absent) for manual builds.
	Provider string `json:"provider,omitempty"`
	// DeliveryID is the Git host's ID of the delivery; "" (and absent) for manual builds or when not sent.
	DeliveryID string `json:"deliveryId,omitempty"`
	// Message is the pushed commit's message; "" (and absent) for manual builds.
	Message string `json:"message,omitempty"`
}

// SourceBuild is how a build from source was built.
type SourceBuild struct {
	// Language is what the source was built as: go, node, python or static.
	Language string `json:"language"`
	// Reason says why that language: detected from a file, or set in the descriptor.
	Reason string `json:"reason"`
	// Dockerfile is the Dockerfile slipway generated and BuildKit built.
	Dockerfile string `json:"dockerfile"`
}

// Descriptor sources (DescriptorSource.Source).
const (
	// DescriptorRepository is a descriptor read from the repository at the build's commit.
	DescriptorRepository = "repository"
	// DescriptorDefault is a descriptor made up from the image for want of one in the repository.
	DescriptorDefault = "default"
)

// DescriptorSource says whether a build's component descriptor was read from the repository or made up for want
// of one.
type DescriptorSource struct {
	// Source is DescriptorRepository or DescriptorDefault.
	Source string `json:"source"`
	// Endpoints is how many endpoints the descriptor declares.
	Endpoints int `json:"endpoints"`
	// Note explains a default descriptor; "" (and absent) for one read from the repository.
	Note string `json:"note,omitempty"`
}

// RequiredConfig is a config or secret a build's component descriptor requires of every environment it is
// deployed to.
type RequiredConfig struct {
	// Name is the config's key.
	Name string `json:"name"`
	// Secret says it is required as a secret; false means as a plain config.
	Secret bool `json:"secret"`
}

// Endpoints is the answer of GET /api/v1/builds/{id}/endpoints.
type Endpoints struct {
	// Items are the build's endpoints in the descriptor's order; [] when it declares none.
	Items []Endpoint `json:"items"`
	// Default says they were made from the image (its EXPOSE) for want of a descriptor in the repository.
	Default bool `json:"default"`
}

// Endpoint is an endpoint of a build as the API shows it: the descriptor's endpoint and where its spec is
// served.
type Endpoint struct {
	descriptor.Endpoint
	// SpecURL is the API path the endpoint's spec is served at; "" (and absent) when it has none.
	SpecURL string `json:"specUrl,omitempty"`
}
