// Package baseimages builds the small base images that slipway's builds start from when Docker
// Hub is out of reach: an image is assembled from local files (Debian's static busybox; this
// machine's Go tree, node or python3 with the shared libraries their ELF headers name) and pushed
// into a registry the caller names. `slipway dev` seeds its embedded registry with busybox, so
// `FROM busybox` works offline through buildkitd's docker.io mirror, and tests use it and the
// language images (standing in for golang, node and python) the same way. Like every adapter to
// an outside system, it must not import slipway's workflows, activities, store, server, worker,
// stack, cli, delivery or api.
package baseimages
