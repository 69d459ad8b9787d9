package api

import "time"

// DeployRequest is the body of POST …/components/{c}/environments/{e}/deploy: a manual deploy, redeploy or
// rollback.
type DeployRequest struct {
	// Build is the ID of the succeeded build of the component to deploy; required.
	Build string `json:"build"`
}

// PromoteRequest is the body of POST …/components/{c}/promote; both fields are optional.
type PromoteRequest struct {
	// Build is the build to promote; "" means the release of the environment before the target.
	Build string `json:"build"`
	// To is the target environment; "" means the one after the environment running Build (without Build: after
	// the first environment whose release the next one does not run yet).
	To string `json:"to"`
}

// Deployment is a deployment as the API shows it: the answer of a deploy or promote (202) and the entries of
// GET …/deployments.
type Deployment struct {
	// ID is the deployment's ID ("d-" and 16 hex digits).
	ID string `json:"id"`
	// Environment names the environment deployed to.
	Environment string `json:"environment"`
	// Build is the ID of the build deployed.
	Build string `json:"build"`
	// Digest is the image digest deployed.
	Digest string `json:"digest"`
	// Status is one of the Deployment* statuses.
	Status string `json:"status"`
	// URL is the address the release serves at; "" (and absent) until it serves.
	URL string `json:"url,omitempty"`
	// Message says how it went (the last readiness check of a failed rollout, say); "" (and absent) when
	// there is nothing to say.
	Message string `json:"message,omitempty"`
	// Actor is who asked: an API token's name, or "auto" for a build's auto-deploy; "" (and absent) when
	// unknown.
	Actor string `json:"actor,omitempty"`
	// Verification is the release's verification: VerificationRunning, VerificationPassed or VerificationFailed;
	// "" (and absent) when its environment verifies nothing or it has not served.
	Verification string `json:"verification,omitempty"`
	// CreatedAt is when the deployment was recorded (UTC).
	CreatedAt time.Time `json:"createdAt"`
	// DeployedAt is when the deployment ended; nil (and absent) while it has not.
	DeployedAt *time.Time `json:"deployedAt,omitempty"`
}

// EnvironmentDeployments is one environment's entry of GET …/components/{c}/deployments, in promotion order.
type EnvironmentDeployments struct {
	// Environment names the environment.
	Environment string `json:"environment"`
	// Current is the release serving there; null when none does.
	Current *Deployment `json:"current"`
	// Drift is what changed by hand on the data plane since the current release was deployed; nil (and absent)
	// when nothing serves, the data plane is not checked (docker) or could not be read (DriftError says so).
	Drift *Drift `json:"drift,omitempty"`
	// DriftError says the data plane could not be read for drift; "" (and absent) when it was, or was not asked.
	DriftError string `json:"driftError,omitempty"`
	// Hold says auto-promotion into the environment is held; nil (and absent) when it is not.
	Hold *Hold `json:"hold,omitempty"`
	// History are the environment's latest deployments, newest first; [] when it has none.
	History []Deployment `json:"history"`
}

// Drift is what changed on a data plane behind slipway's back.
type Drift struct {
	// Detected says something changed; false means nothing did.
	Detected bool `json:"detected"`
	// Message says what changed, by whom and when; "" (and absent) when nothing did.
	Message string `json:"message,omitempty"`
}
