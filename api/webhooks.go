package api

// WebhookAnswer is the answer of a push delivery (POST /webhooks/github/{key} or /webhooks/gitlab/{key}): the
// builds it started or found, or why it was ignored.
type WebhookAnswer struct {
	// Builds are the builds of the pushed commit, one per component built from the repository and branch
	// automatically; [] when none.
	Builds []WebhookBuild `json:"builds"`
	// Ignored says why the delivery started no build; "" (and absent) when it did.
	Ignored string `json:"ignored,omitempty"`
}

// WebhookBuild is one build of a push delivery; Existing says the commit had it already (a redelivery, a second
// webhook, a manual trigger).
type WebhookBuild struct {
	// Project and Component name the component built.
	Project   string `json:"project"`
	Component string `json:"component"`
	BuildAccepted
}

// WebhookPing is the answer of a GitHub ping delivery: {"message": "pong"}.
type WebhookPing struct {
	// Message is "pong".
	Message string `json:"message"`
}
