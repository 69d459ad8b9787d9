// Package ociregistry serves the OCI registry that `slipway dev` embeds: go-containerregistry's
// registry with blobs and manifests kept on disk so images survive a restart. Like every adapter
// to an outside system, it must not import slipway's workflows, activities, store, server,
// worker, stack, cli, delivery or api.
package ociregistry
