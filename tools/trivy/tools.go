//go:build tools

// Package tools pins the Trivy scanner slipway runs beside itself. It is a module of its own because
// Trivy must be built with GOEXPERIMENT=jsonv2 and its dependency graph is far larger than slipway's.
package tools

import _ "github.com/aquasecurity/trivy/cmd/trivy"
