package api

import (
	"time"

	"github.com/slipway-dev/slipway/scan"
)

// Promotion statuses: where a promotion request is in its life. A request ends succeeded, rejected, expired,
// cancelled or failed.
const (
	// PromotionPendingApproval: it waits for approvals (Approval.MinApprovals distinct approvers).
	PromotionPendingApproval = "pending_approval"
	// PromotionWaitingWindow: it is approved (or needs none) and waits for a freeze window to end or the
	// environment or project to be started again; WaitingUntil says until when, when known.
	PromotionWaitingWindow = "waiting_window"
	// PromotionQueued: its checks passed and it is being re-scanned or queued for deployment.
	PromotionQueued = "queued"
	// PromotionDeploying: its deployment is queued or rolling out.
	PromotionDeploying = "deploying"
	// PromotionSucceeded: its deployment serves.
	PromotionSucceeded = "succeeded"
	// PromotionRejected: an approver rejected it.
	PromotionRejected = "rejected"
	// PromotionExpired: it was not approved before ExpiresAt.
	PromotionExpired = "expired"
	// PromotionCancelled: its requester or an admin cancelled it.
	PromotionCancelled = "cancelled"
	// PromotionFailed: a check refused it at its turn (a quarantined build, a re-scan the policy fails, a
	// frozen environment that refuses) or its deployment failed; Message says why.
	PromotionFailed = "failed"
)

// PromotionEnded reports whether status is one a promotion request never leaves.
func PromotionEnded(status string) bool {
	switch status {
	case PromotionSucceeded, PromotionRejected, PromotionExpired, PromotionCancelled, PromotionFailed:
		return true
	}
	return false
}

// PromotionDecision is the body of POST /api/v1/promotions/{id}/approve, …/reject, …/cancel and
// …/break-glass.
type PromotionDecision struct {
	// Comment says why; optional for approve and cancel, required for reject and break-glass.
	Comment string `json:"comment"`
}

// Promotion is a promotion request as the API shows it: the answer of POST …/promote (202) and of
// GET /api/v1/promotions/{id}, and the items of GET /api/v1/projects/{p}/promotions.
type Promotion struct {
	// ID is the request's ID ("pr-" and 16 hex digits).
	ID string `json:"id"`
	// Status is one of the Promotion* statuses.
	Status string `json:"status"`
	// Project, Component and Environment name what is promoted where (Environment is the target).
	Project     string `json:"project"`
	Component   string `json:"component"`
	Environment string `json:"environment"`
	// From is the environment the build is promoted from; "" (and absent) for a deploy, which names no source.
	From string `json:"from,omitempty"`
	// Build and Digest are the build promoted and its image; the digest is what is deployed.
	Build  string `json:"build"`
	Digest string `json:"digest"`
	// Requester is the name of the token that asked.
	Requester string `json:"requester"`
	// MinApprovals is how many distinct approvers it needs; zero means none.
	MinApprovals int `json:"minApprovals"`
	// Approvals and Rejections are the decisions given so far, oldest first; [] when none.
	Decisions []PromotionVote `json:"decisions"`
	// BreakGlass is the admin's reason to go through a freeze window or a stopped line; "" (and absent) when
	// none was given.
	BreakGlass string `json:"breakGlass,omitempty"`
	// WaitingUntil is when the freeze window it waits for ends; nil (and absent) when it does not wait or
	// waits for a stop to be lifted.
	WaitingUntil *time.Time `json:"waitingUntil,omitempty"`
	// Message says why it waits, failed or ended; "" (and absent) when there is nothing to say.
	Message string `json:"message,omitempty"`
	// Deployment is the deployment it queued; nil (and absent) until then.
	Deployment *Deployment `json:"deployment,omitempty"`
	// Diff is what the promotion changes in the target environment, read when it was requested; nil (and
	// absent) when it could not be read (Message says so) or in lists.
	Diff *PromotionDiff `json:"diff,omitempty"`
	// Rescan is the re-scan of the digest at promotion to a production environment; nil (and absent) until
	// then, or when the target is not production.
	Rescan *scan.Summary `json:"rescan,omitempty"`
	// CreatedAt is when it was requested, UpdatedAt when it last changed, ExpiresAt when an approval is
	// no longer waited for (nil and absent when it needs none) (UTC).
	CreatedAt time.Time  `json:"createdAt"`
	UpdatedAt time.Time  `json:"updatedAt"`
	ExpiresAt *time.Time `json:"expiresAt,omitempty"`
}

// PromotionVote is one approver's decision on a promotion request.
type PromotionVote struct {
	// Actor is the approver's token name.
	Actor string `json:"actor"`
	// Decision is "approve" or "reject".
	Decision string `json:"decision"`
	// Comment is what the approver said; "" (and absent) for none.
	Comment string `json:"comment,omitempty"`
	// At is when the decision was given (UTC).
	At time.Time `json:"at"`
}

// Promotion decisions.
const (
	DecisionApprove = "approve"
	DecisionReject  = "reject"
)

// PromotionDiff is what a promotion changes in its target environment: the commits between the build serving
// there and the one promoted, the files they touch, and the config and secret keys that differ between the
// two environments (keys only, never a value).
type PromotionDiff struct {
	// FromBuild and FromCommit are what serves in the target now; "" (and absent) when nothing does.
	FromBuild  string `json:"fromBuild,omitempty"`
	FromCommit string `json:"fromCommit,omitempty"`
	// ToBuild and ToCommit are what the promotion deploys.
	ToBuild  string `json:"toBuild"`
	ToCommit string `json:"toCommit"`
	// Commits are the commits the promotion brings (those of ToCommit that FromCommit lacks), newest first,
	// without their builds; on a rollback, those it takes away. When nothing serves, the newest commits up to
	// ToCommit. [] when none (the same commit) or when they could not be read (Error says so).
	Commits []Commit `json:"commits"`
	// Rollback says the promoted commit is an ancestor of the one serving: Commits are those taken away.
	Rollback bool `json:"rollback,omitempty"`
	// Files are the paths whose content differs between FromCommit and ToCommit, sorted; [] when none, when
	// nothing serves, or when they could not be read (Error says so).
	Files []string `json:"files"`
	// Truncated says there were more commits or files than are listed.
	Truncated bool `json:"truncated,omitempty"`
	// Configs are the keys whose config or secret differs between the source and the target environment, by
	// key; [] when none differs, for a deploy (it has no source), or when they could not be read (Error says so).
	Configs []KeyDifference `json:"configs"`
	// Error says what could not be read — the commits (the repository was unreachable) or the configs — in words
	// that name the repository but no credential, value or host detail; "" (and absent) when all was read.
	Error string `json:"error,omitempty"`
}

// KeyDifference is one config or secret key that differs between two environments.
type KeyDifference struct {
	// Key is the config's or secret's key.
	Key string `json:"key"`
	// Secret says the key is a secret (in either environment).
	Secret bool `json:"secret,omitempty"`
	// Change is KeyAdded (only in the source: the target lacks it), KeyRemoved (only in the target) or
	// KeyChanged (in both, with different values; secrets are compared opened inside slipway and never shown).
	Change string `json:"change"`
}

// Changes of a KeyDifference.
const (
	KeyAdded   = "added"
	KeyRemoved = "removed"
	KeyChanged = "changed"
)

// QuarantineRequest is the body of POST /api/v1/builds/{id}/quarantine.
type QuarantineRequest struct {
	// Reason says why the build must not be deployed; required.
	Reason string `json:"reason"`
}

// Quarantine says a build is never deployed or promoted again.
type Quarantine struct {
	// Reason is why; Actor who quarantined it; At when (UTC).
	Reason string    `json:"reason"`
	Actor  string    `json:"actor"`
	At     time.Time `json:"at"`
}
