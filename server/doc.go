// Package server holds slipway's HTTP front door (the Echo REST API and its OpenAPI document, webhooks, build
// logs, health, readiness, metrics and the Temporal UI behind sign-in). It decodes requests, checks tokens and
// roles, and answers in the API's JSON shapes; what a request does beyond reading the store is a use case of package delivery (start the
// build of a commit, queue a deployment, the promotion rules), whose refusals it maps to HTTP statuses. It talks
// to workers only through the Temporal client and the store. Of slipway's packages it may import only delivery,
// api, store, workflows (names, IDs and input types), gitcred (the component's repo credential, sealed and
// opened), secretbox, descriptor, scan and webhooks: no adapter to an outside system (buildkit, dataplane,
// gitsource, imagepush, trivyscan, ...) nor the Docker or Kubernetes SDKs, and never activities, worker, stack
// or cli.
package server
