// Package server holds slipway's HTTP front door (the Echo REST API, webhooks, build logs, health, readiness,
// metrics and the Temporal UI behind sign-in). It decodes requests, checks tokens and roles, and answers in the
// API's JSON shapes; what a request does beyond reading the store is a use case of package delivery (start the
// build of a commit, queue a deployment, the promotion rules), whose refusals it maps to HTTP statuses. It talks
// to workers only through the Temporal client and the store: from workflows it takes only names, IDs and input
// types. It must not import an adapter to an outside system (Git, BuildKit, Trivy, a registry, Docker,
// Kubernetes), the activities, the worker or the stack.
package server
