// Package server holds slipway's HTTP front door (the Echo REST API, health, readiness and metrics) and must not import workflow or activity internals: it talks to workers only through the Temporal client.
package server
