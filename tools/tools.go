//go:build tools

// Package tools pins the programs slipway runs beside itself, built from source by `make`:
// buildkitd (its go.mod has replace directives, so `go install` refuses it).
package tools

import _ "github.com/moby/buildkit/cmd/buildkitd"
