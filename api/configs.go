package api

import "time"

// ConfigRequest is the body of PUT …/environments/{e}/configs/{key}.
type ConfigRequest struct {
	// Value is the value to store; required (the empty string is a value). At most 64 KiB, no NUL characters.
	Value *string `json:"value"`
	// Secret says whether the value is a secret, never shown again. Nil keeps the kind of an existing key (so
	// updating a secret without repeating "secret": true never makes it readable) and means false for a new key.
	Secret *bool `json:"secret"`
}

// Config is one config or secret of a component in an environment, as the API shows it.
type Config struct {
	// Key is the config's name.
	Key string `json:"key"`
	// Secret says the value is a secret.
	Secret bool `json:"secret"`
	// Value is the config's value; nil (and absent) for a secret, always.
	Value *string `json:"value,omitempty"`
	// UpdatedAt is when the value was last put (UTC).
	UpdatedAt time.Time `json:"updatedAt"`
}
