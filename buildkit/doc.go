// Package buildkit is slipway's thin adapter over BuildKit: it starts buildkitd as a child process
// (Daemon), runs Dockerfile builds through BuildKit's Go client into an OCI image layout on local
// disk (Builder), turns BuildKit's progress into plain log lines, and classifies build failures as
// permanent (a bad Dockerfile, a failing RUN) or transient (buildkitd unreachable). It knows
// nothing of Temporal, the store or the API: the build activity wraps it and decides about retries.
// Like every adapter to an outside system, it must not import slipway's workflows, activities,
// store, server, worker, stack, cli, delivery or api.
package buildkit
