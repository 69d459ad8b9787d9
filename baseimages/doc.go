// Package baseimages builds the small base images that slipway's builds start from when Docker
// Hub is out of reach: an image is assembled from local files (Debian's static busybox) and
// pushed into a registry the caller names. `slipway dev` seeds its embedded registry with it, so
// `FROM busybox` works offline through buildkitd's docker.io mirror, and tests use it the same
// way. Like every adapter to an outside system, it must not import slipway's workflows,
// activities, store, server, worker, stack, cli, delivery or api.
package baseimages
