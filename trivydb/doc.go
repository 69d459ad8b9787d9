// Package trivydb publishes a Trivy vulnerability DB — a directory holding trivy.db and
// metadata.json — to an OCI registry as the artifact Trivy's `--db-repository` downloads, so scans
// can run without reaching Trivy's own repositories (mirror.gcr.io, ghcr.io). By convention slipway
// keeps it at DefaultRepository:DefaultTag (trivy/db:2) in its own registry, the offline mirror
// scans fall back to.
//
// Like every adapter to an outside system, it must not import slipway's workflows, activities,
// store, server, worker, stack, cli, delivery or api; workflows must not import it (it reads files
// and uses go-containerregistry).
package trivydb
