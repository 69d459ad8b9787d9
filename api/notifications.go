package api

import "time"

// Notification events: what a project's notification hooks are told of.
const (
	NotifyBuildFailed          = "build.failed"
	NotifyDeploymentSucceeded  = "deployment.succeeded"
	NotifyDeploymentFailed     = "deployment.failed"
	NotifyDeploymentRolledBack = "deployment.rolled_back"
	NotifyApprovalRequested    = "approval.requested"
	NotifyPromotionWaiting     = "promotion.waiting"
	// NotifyPing is the event of POST …/notifications/{id}/test only.
	NotifyPing = "ping"
)

// NotificationEvents are the events a hook may subscribe to.
var NotificationEvents = []string{NotifyBuildFailed, NotifyDeploymentSucceeded, NotifyDeploymentFailed, NotifyDeploymentRolledBack,
	NotifyApprovalRequested, NotifyPromotionWaiting}

// Notification formats: the body a hook gets.
const (
	// NotificationJSON is a Notification (the default, also what "" means).
	NotificationJSON = "json"
	// NotificationSlack is a Slack incoming webhook's message: {"text": "…"}.
	NotificationSlack = "slack"
)

// NotificationHookRequest is the body of POST /api/v1/projects/{p}/notifications.
type NotificationHookRequest struct {
	// URL is where the events are POSTed (http or https); required.
	URL string `json:"url"`
	// Format is NotificationJSON or NotificationSlack; "" means NotificationJSON.
	Format string `json:"format"`
	// Events are the events delivered (NotificationEvents); [] means every one.
	Events []string `json:"events"`
	// Secret is the key each body is signed with (HMAC-SHA256, X-Slipway-Signature); "" means slipway makes one,
	// answered once.
	Secret string `json:"secret"`
}

// NotificationHook is a project's notification hook as the API shows it. Its secret is answered only when slipway
// made it, once, on create.
type NotificationHook struct {
	ID        string    `json:"id"`
	Project   string    `json:"project"`
	URL       string    `json:"url"`
	Format    string    `json:"format"`
	Events    []string  `json:"events"`
	Actor     string    `json:"actor"`
	CreatedAt time.Time `json:"createdAt"`
	// Secret is the signing key slipway made, on create only; "" (and absent) otherwise.
	Secret string `json:"secret,omitempty"`
}

// NotificationDelivery is one event sent to one hook: GET …/notifications/{id}/deliveries, newest first.
type NotificationDelivery struct {
	ID string `json:"id"`
	// Event is the event's name; Subject what it is about, e.g. "deployment/d-…/succeeded".
	Event   string `json:"event"`
	Subject string `json:"subject"`
	// Status is "pending" (being tried, with backoff), "delivered" or "failed" (given up, or refused with a 4xx).
	Status string `json:"status"`
	// Attempts counts the POSTs; LastStatus is the last answer's HTTP status (0: none); LastError what was wrong
	// with it ("" and absent when none).
	Attempts   int       `json:"attempts"`
	LastStatus int       `json:"lastStatus"`
	LastError  string    `json:"lastError,omitempty"`
	CreatedAt  time.Time `json:"createdAt"`
	UpdatedAt  time.Time `json:"updatedAt"`
}

// Notification is the body a NotificationJSON hook gets. It names what happened, never a config or secret value.
// The same delivery retried carries the same ID (also in X-Slipway-Delivery), for the receiver to drop repeats.
type Notification struct {
	ID          string    `json:"id"`
	Event       string    `json:"event"`
	Project     string    `json:"project"`
	Component   string    `json:"component,omitempty"`
	Environment string    `json:"environment,omitempty"`
	Build       string    `json:"build,omitempty"`
	Deployment  string    `json:"deployment,omitempty"`
	Promotion   string    `json:"promotion,omitempty"`
	Status      string    `json:"status,omitempty"`
	Message     string    `json:"message,omitempty"`
	URL         string    `json:"url,omitempty"`
	At          time.Time `json:"at"`
	// Text is the one-line summary a person reads (the Slack format's text).
	Text string `json:"text"`
}
