// Package activities holds slipway's Temporal activities: structs whose methods are the pipeline
// steps, holding the clients they use, injected by the worker package. Errors that must not be
// retried are returned as non-retryable application errors with one of the exported Err* types.
// It must not import the server, stack, cli or worker packages.
package activities
