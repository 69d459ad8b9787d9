package api

// RotateRequest is the optional body of POST /api/v1/keys/rotate; no body is {}.
type RotateRequest struct {
	// KEK names a key-encryption key already added to the key file (`slipway keys rotate --kek-file F`) and
	// given to every slipway process: the data keys are re-wrapped with it. "" means add a fresh KEK to the
	// server's key file now.
	KEK string `json:"kek"`
}

// Rotation is the answer of POST /api/v1/keys/rotate.
type Rotation struct {
	// Active is the ID of the key-encryption key active now.
	Active string `json:"active"`
	// Rewrapped is how many data keys were re-wrapped with it; zero when none needed to be.
	Rewrapped int `json:"rewrapped"`
}
