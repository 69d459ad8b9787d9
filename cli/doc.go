// Package cli implements the slipway command line: the process verbs (dev, server, worker) that
// start a stack, and the client verbs that call the API. It reads no environment itself: cmd/
// passes the lookup function in. The client verbs decode the API's answers into api's types.
package cli
