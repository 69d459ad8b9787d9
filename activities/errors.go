package activities

// Stable types of non-retryable activity errors; callers match them with temporal.ApplicationError.Type().
const (
	// ErrTypeKeyMismatch means the worker's keyring does not hold the KEK a rotation asked for, or holds
	// another active one, so re-wrapping now would wrap data keys with the wrong key.
	ErrTypeKeyMismatch = "KeyMismatch"
)
