// Package trivyscan scans an image's OCI layout with the Trivy binary (built from the pinned tools
// module, kept out of slipway's own dependency graph) and turns Trivy's JSON into a scan.Report.
//
// One Scanner serves a worker: it keeps the vulnerability database in its cache directory,
// refreshed from an OCI repository or taken from a directory, shared read-only by concurrent scans
// (each scan's layer cache lives in memory, so scans never wait on each other's cache locks), and
// keeps earlier reports by image digest, database, ignore rules and scanners, so re-scanning the
// same image costs a file read.
package trivyscan
