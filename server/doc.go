// Package server holds slipway's HTTP front door (the Echo REST API, build logs, health, readiness and metrics).
// It talks to workers only through the Temporal client and the store: from workflows it takes only names, IDs and
// input types, and from activities only gitsource.Resolve, to turn a requested commit into a SHA before a build
// starts (with the component's repo credential, which gitcred seals and opens). Every body it decodes or answers
// is one of api's types, filled from the store's by the *Of constructors (buildOf, deploymentOf, …).
package server
