// Package server holds slipway's HTTP front door (the Echo REST API, build logs, health, readiness and metrics).
// It talks to workers only through the Temporal client and the store, and to outside systems only through delivery
// (the use cases: starting a build of a commit, queueing a deployment, promotion rules). Of slipway's packages it may
// import only delivery, api, store, workflows (names, IDs and input types), gitcred (the component's repo
// credential, sealed and opened), secretbox, descriptor, scan and webhooks: no adapter to an outside system
// (buildkit, dataplane, gitsource, imagepush, trivyscan, ...) nor the Docker or Kubernetes SDKs, and never
// activities, worker, stack or cli.
package server
