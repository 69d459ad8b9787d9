package activities

// Stable types of non-retryable activity errors; callers match them with temporal.ApplicationError.Type().
const (
	// ErrTypeKeyMismatch means the worker's keyring does not hold the KEK a rotation asked for, or holds
	// another active one, so re-wrapping now would wrap data keys with the wrong key.
	ErrTypeKeyMismatch = "KeyMismatch"
	// ErrTypeUndecryptable means a stored data key cannot be unwrapped with any KEK the worker holds
	// (the key file lacks its KEK, or the stored value was altered); retrying cannot help.
	ErrTypeUndecryptable = "Undecryptable"
)
