// Package trivyscan scans an image's OCI layout with the Trivy binary (built from the pinned tools
// module, kept out of slipway's own dependency graph) and turns Trivy's JSON into a scan.Report.
//
// One Scanner serves a worker. It keeps the vulnerability database in its cache directory, taken
// from a directory or refreshed hourly from the first of its OCI repositories that has one
// (Trivy's own, then a mirror; one that does not answer is left out until the next refresh), and
// each report says which database it used and how old it is. Concurrent scans share the database
// read-only (each scan's layer cache lives in memory, so scans never wait on each other's cache
// locks). The Scanner keeps earlier reports by image digest, database, ignore rules and scanners,
// so re-scanning the same image costs a file read. Trivy's notices about its own workings go to
// the Scanner's logger, not the build log. Like every adapter to an outside system, it must not
// import slipway's workflows, activities, store, server, worker, stack, cli, delivery or api.
package trivyscan
