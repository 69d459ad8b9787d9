package api

// Health is the answer of GET /healthz: {"status": "ok"} while the process is up.
type Health struct {
	// Status is "ok".
	Status string `json:"status"`
}

// Readiness is the answer of GET /readyz: 200 when every dependency answers, else 503.
type Readiness struct {
	// Status is "ready" or "not_ready".
	Status string `json:"status"`
	// Checks has one entry per dependency ("store", "temporal"): "ok" or what is wrong ("unavailable",
	// "not configured").
	Checks map[string]string `json:"checks"`
	// Error says which dependencies are not ready; nil (and absent) when ready.
	Error *Error `json:"error,omitempty"`
}
