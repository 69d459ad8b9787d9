// Package imagepush pushes the OCI image layout a build left on the worker's disk to a registry,
// by digest, then tags it: a thin adapter over go-containerregistry. The manifest digest it
// returns is the build's identity. It also fetches a pushed image back by digest into a layout of
// the same shape (Pusher.Fetch), for a re-scan at promotion, long after the build's workspace is gone.
//
// It leaves retries to its caller (a Temporal activity, whose retry policy owns them) and reports
// failures that no retry can fix as *Error with a stable Type. It must not import the Temporal
// SDK nor, like every adapter to an outside system, slipway's workflows, activities, store,
// server, worker, stack, cli, delivery or api.
package imagepush
