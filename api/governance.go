package api

import "time"

// Freeze modes: what a promotion that falls in a freeze window (or a stopped line) does.
const (
	// FreezeWait (the default, also what "" means): it waits until the window ends or the line is started.
	FreezeWait = "wait"
	// FreezeRefuse: it is refused at once, naming the window and when it ends.
	FreezeRefuse = "refuse"
)

// Approval says whether promotions into an environment need approving, and by whom.
type Approval struct {
	// Required says a promotion or deploy into the environment waits for approvals; nil (and absent) means
	// required in a production environment and not elsewhere.
	Required *bool `json:"required,omitempty"`
	// MinApprovals is how many distinct approvers it needs; zero means 1. At most 10.
	MinApprovals int `json:"minApprovals,omitempty"`
	// Approvers are who may approve: a role ("admin", "developer") or a token's name; empty means the admin
	// role. A viewer never approves, and a requester never approves their own request.
	Approvers []string `json:"approvers,omitempty"`
	// ExpirySeconds is how long a request waits for approvals before it expires; zero means 7 days.
	ExpirySeconds int `json:"expirySeconds,omitempty"`
}

// ApprovalUpdate is an Approval as PATCH …/environments/{e} sets it (the fields mean the same).
type ApprovalUpdate Approval

// FreezeWindow is a span in which nothing is promoted or deployed into an environment: recurring (Cron, the
// start of each window, with DurationSeconds, read in TimeZone) or one-off (Start and End).
type FreezeWindow struct {
	// Name labels the window in messages ("weekend", "black friday"); "" means "freeze window N".
	Name string `json:"name,omitempty"`
	// Cron is a five-field cron expression of each window's start; "" for a one-off window.
	Cron string `json:"cron,omitempty"`
	// DurationSeconds is how long each recurring window lasts; required with Cron.
	DurationSeconds int `json:"durationSeconds,omitempty"`
	// TimeZone is an IANA zone Cron is read in; "" means UTC.
	TimeZone string `json:"timeZone,omitempty"`
	// Start and End bound a one-off window; both required without Cron.
	Start *time.Time `json:"start,omitempty"`
	End   *time.Time `json:"end,omitempty"`
}

// FreezeWindowUpdate is a FreezeWindow as PATCH …/environments/{e} sets it (the fields mean the same).
type FreezeWindowUpdate FreezeWindow

// Stop is a stopped line: nothing is promoted or deployed until it is lifted.
type Stop struct {
	// Reason says why; required.
	Reason string `json:"reason"`
	// Actor stopped it, At when (set by slipway).
	Actor string    `json:"actor,omitempty"`
	At    time.Time `json:"at,omitempty"`
}

// ReleaseRules are an environment's release rules as GET …/environments shows them and PATCH sets them.
type ReleaseRules struct {
	// Approval is who approves promotions into it; nil means the default (approval required in production by
	// one admin).
	Approval *Approval `json:"approval,omitempty"`
	// FreezeWindows are the spans nothing is promoted in; [] (and absent) for none.
	FreezeWindows []FreezeWindow `json:"freezeWindows,omitempty"`
	// FreezeMode is FreezeWait or FreezeRefuse; "" means FreezeWait.
	FreezeMode string `json:"freezeMode,omitempty"`
	// Stopped is the environment's stopped line; nil (and absent) when it runs.
	Stopped *Stop `json:"stopped,omitempty"`
	// Promotion is how builds get here from the environment before; nil means PromotionManual.
	Promotion *PromotionPolicy `json:"promotion,omitempty"`
	// Verification is what a release must pass once it serves here; nil means nothing is verified.
	Verification *Verification `json:"verification,omitempty"`
}

// ReleaseRulesUpdate is the part of PATCH /api/v1/projects/{p}/environments/{e} that sets release rules: a nil
// (absent) field stays as it is. Setting any of them needs an admin token.
type ReleaseRulesUpdate struct {
	// Approval replaces the approval rule; {} means the default.
	Approval *ApprovalUpdate `json:"approval"`
	// FreezeWindows replaces the freeze windows; [] removes them all.
	FreezeWindows *[]FreezeWindowUpdate `json:"freezeWindows"`
	// FreezeMode sets FreezeWait or FreezeRefuse.
	FreezeMode *string `json:"freezeMode"`
	// Stopped stops (true, with StopReason) or starts (false) the environment's line.
	Stopped *bool `json:"stopped"`
	// StopReason says why the line stops; required when Stopped is true.
	StopReason *string `json:"stopReason"`
	// Promotion replaces the promotion policy; {} means manual.
	Promotion *PromotionPolicyUpdate `json:"promotion"`
	// Verification replaces the verification; {} removes it.
	Verification *VerificationUpdate `json:"verification"`
}

// StopRequest is the body of PUT /api/v1/projects/{p}/stop: the project's whole line stops.
type StopRequest struct {
	// Reason says why; required.
	Reason string `json:"reason"`
}

// Audit actions: what an AuditEntry records.
const (
	AuditDeploy         = "deploy"
	AuditPromote        = "promote"
	AuditApprove        = "approve"
	AuditReject         = "reject"
	AuditCancel         = "cancel"
	AuditBreakGlass     = "break_glass"
	AuditQuarantine     = "quarantine"
	AuditUnquarantine   = "unquarantine"
	AuditStop           = "stop"
	AuditStart          = "start"
	AuditPromotionEnd   = "promotion_ended"
	AuditConfigSet      = "config_set"
	AuditConfigDelete   = "config_delete"
	AuditTokenCreate    = "token_create"
	AuditTokenDelete    = "token_delete"
	AuditEnvironmentSet = "environment_set"
	AuditRollBack       = "roll_back"
	AuditHold           = "hold"
	AuditReleaseHold    = "release_hold"
	// AuditNotificationSet and AuditNotificationDelete are a notification hook added and deleted.
	AuditNotificationSet    = "notification_set"
	AuditNotificationDelete = "notification_delete"
)

// AuditEntry is one line of the audit log: who did what to what, when, why and how it went. It never holds a
// secret's value.
type AuditEntry struct {
	// ID identifies the entry ("a-" and 16 hex digits).
	ID string `json:"id"`
	// At is when it happened (UTC).
	At time.Time `json:"at"`
	// Actor is the token's name, or "slipway" for what slipway did by itself.
	Actor string `json:"actor"`
	// Action is one of the Audit* actions.
	Action string `json:"action"`
	// Project, Component and Environment name where; "" (and absent) when not about one.
	Project     string `json:"project,omitempty"`
	Component   string `json:"component,omitempty"`
	Environment string `json:"environment,omitempty"`
	// Target is the ID or key acted on (a build, deployment, promotion, config key or token name).
	Target string `json:"target,omitempty"`
	// Reason is what the actor said; "" (and absent) for nothing.
	Reason string `json:"reason,omitempty"`
	// Result is "ok" or what refused it ("forbidden: …").
	Result string `json:"result"`
}

// AuditPage is the answer of GET /api/v1/audit: entries newest first.
type AuditPage struct {
	// Entries are the matching entries, newest first; [] when none.
	Entries []AuditEntry `json:"entries"`
	// Next is the cursor for the next, older page; "" (and absent) when there is none.
	Next string `json:"next,omitempty"`
}
