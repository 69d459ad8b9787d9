// Package descriptor reads a component's descriptor, the file .slipway/component.yaml at the root of its
// repository: the endpoints the component serves, its readiness and liveness checks, and the configs and
// secrets a deploy must provide. It also checks the API spec files the endpoints name.
//
// Parse validates a descriptor completely and reports every problem it finds, each with file, line and
// field; Load reads one from a checked-out repository; Default makes one from an image's exposed ports for
// a repository that has none; Specs reads and validates the API specs. Every problem with the repository's
// content is an *Error that matches ErrInvalid, so callers can tell it (never worth retrying) from an I/O
// failure.
//
// The types here are plain data that travel in API responses and Temporal activity results. The package
// depends on the standard library, YAML and kin-openapi only: it must not import any other slipway package.
package descriptor
