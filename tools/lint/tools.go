//go:build tools

// Package tools pins golangci-lint, which `make lint` runs with the rules in .golangci.yml (depguard
// holds the import rules between slipway's packages). It is a module of its own so that its many
// dependencies do not move those of slipway or of the other tools.
package tools

import (
	_ "github.com/golangci/golangci-lint/v2/cmd/golangci-lint"
)
