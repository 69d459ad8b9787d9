// Package delivery holds slipway's use cases that more than one door reaches: start the build of a
// commit (the API, webhooks, and later the console and schedules), queue a deployment of a build to an
// environment (a manual deploy, a promotion, a build's own auto-deploy), and the rules of which build may
// go where (deployable, required configs set, production only for an admin, the promotion order).
//
// It returns domain errors (*Error, with a Kind and a stable Code): the server maps them to HTTP answers,
// the activities to non-retryable Temporal errors. It talks to the metadata store and to Temporal
// through small interfaces, and to Git through gitsource; it must not import the server, the
// activities, the worker, the stack, net/http or Echo.
package delivery
