package api

// ErrorBody is the body of every error answer: {"error": {"code": …, "message": …, "field": …}}.
type ErrorBody struct {
	// Error says what went wrong.
	Error Error `json:"error"`
}

// Error is what went wrong with a request.
type Error struct {
	// Code is a stable snake_case string a client may branch on, e.g. "not_found", "invalid" or
	// "temporal_unavailable".
	Code string `json:"code"`
	// Message is a human sentence naming the problem. A 5xx names its error ID, under which the server log holds
	// the details.
	Message string `json:"message"`
	// Field is the JSON field (a path such as "kubernetes.namespace") or the path or query parameter at fault;
	// "" (and absent) when none is.
	Field string `json:"field,omitempty"`
}
