// Package worker builds slipway's Temporal worker: it constructs the activities from their real
// clients and registers every workflow and activity by name. It also prepares a namespace for
// slipway (search attributes). It must not import the HTTP server or the command line.
package worker
