// Package ociregistry serves the OCI registry that `slipway dev` embeds: go-containerregistry's
// registry with blobs and manifests kept on disk so images survive a restart. It must not import
// slipway's API, store or workflows.
package ociregistry
