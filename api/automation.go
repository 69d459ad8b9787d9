package api

import "time"

// Promotion policies: how a build reaches an environment from the one before it.
const (
	// PromotionManual (the default, also what "" means): a person promotes it.
	PromotionManual = "manual"
	// PromotionAuto: a build serving and verified in the environment before for the soak time is promoted by
	// itself, through the environment's release rules (approvals, freeze windows, quarantine still apply).
	PromotionAuto = "auto"
)

// Verification states of a deployment (Deployment.Verification).
const (
	// VerificationRunning is a release that serves while its environment's checks run against it.
	VerificationRunning = "verifying"
	// VerificationPassed is a release whose checks passed for the whole window.
	VerificationPassed = "passed"
	// VerificationFailed is a release whose checks failed: it was rolled back (DeploymentRolledBack).
	VerificationFailed = "failed"
)

// PromotionPolicy is how builds reach an environment from the one before it.
type PromotionPolicy struct {
	// Policy is PromotionManual or PromotionAuto; "" means PromotionManual.
	Policy string `json:"policy,omitempty"`
	// SoakSeconds is how long a build must have served, verified, in the environment before before it is
	// promoted here by itself; zero means at once. At most 30 days.
	SoakSeconds int `json:"soakSeconds,omitempty"`
}

// PromotionPolicyUpdate is a PromotionPolicy as PATCH …/environments/{e} sets it (the fields mean the same).
type PromotionPolicyUpdate PromotionPolicy

// Verification is what a release must pass after it starts serving in an environment: its HTTP checks, tried
// for the window, then its verification task. A release that fails them is rolled back to the release before it, with the configs that one
// had, and its build is not promoted from the environment.
type Verification struct {
	// HTTP are the checks of the release's endpoints; [] (and absent) means none, and then nothing is verified.
	HTTP []HTTPCheck `json:"http,omitempty"`
	// WindowSeconds is how long the checks are tried; zero means 60. At most 3600.
	WindowSeconds int `json:"windowSeconds,omitempty"`
	// Task names a manual-task component of the project whose release in the environment runs, with the
	// environment's configs, once the HTTP checks pass: exit 0 passes the verification, anything else fails it.
	// "" means none.
	Task string `json:"task,omitempty"`
}

// VerificationUpdate is a Verification as PATCH …/environments/{e} sets it ({} removes it).
type VerificationUpdate Verification

// HTTPCheck is one HTTP check of a release: a GET of Path on its endpoint, tried every IntervalSeconds through
// the verification window. It passes when its last Successes tries in a row succeeded as the window ends; it fails
// the verification at once when Failures tries in a row failed.
type HTTPCheck struct {
	// Name labels the check in messages; "" means its path.
	Name string `json:"name,omitempty"`
	// Path is the path asked for, from "/"; "" means "/".
	Path string `json:"path,omitempty"`
	// Status is the status a try must answer; zero means any 2xx.
	Status int `json:"status,omitempty"`
	// BodyContains is text the answer's body must contain; "" means any body.
	BodyContains string `json:"bodyContains,omitempty"`
	// MaxLatencyMs bounds how long a try may take to answer; zero means 2000 ms.
	MaxLatencyMs int `json:"maxLatencyMs,omitempty"`
	// Successes is how many tries in a row must succeed; zero means 3.
	Successes int `json:"successes,omitempty"`
	// Failures is how many tries in a row fail the verification; zero means 3.
	Failures int `json:"failures,omitempty"`
	// IntervalSeconds is the time between tries; zero means 5.
	IntervalSeconds int `json:"intervalSeconds,omitempty"`
}

// Hold stops auto-promotion into an environment: set when someone deploys an older build there by hand, so the
// next automatic promotion does not undo what they did. It lasts until it is released (DELETE …/hold).
type Hold struct {
	// Build is the build deployed by hand.
	Build string `json:"build"`
	// Actor is who deployed it.
	Actor string `json:"actor"`
	// Reason says why auto-promotion is held.
	Reason string `json:"reason"`
	// At is when the hold began (UTC).
	At time.Time `json:"at"`
}
