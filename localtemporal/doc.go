// Package localtemporal runs a Temporal server and the Temporal UI inside the slipway process,
// persisted to a SQLite file, for `slipway dev`. It must not import slipway's API, store or worker.
package localtemporal
