// Package integration holds end-to-end tests that run slipway's real parts: the embedded
// Temporal server and UI, the on-disk registry, SQLite, the worker and the HTTP API.
package integration
