// Package stack assembles slipway's processes from their parts: `slipway dev` (everything in one
// process on embedded defaults), `slipway server` (the API) and `slipway worker` (the Temporal
// worker), starting each part and stopping them in reverse order.
package stack
