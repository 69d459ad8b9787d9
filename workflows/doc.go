// Package workflows holds slipway's Temporal workflows and the names shared across processes: the
// task queue, search attributes, workflow IDs, activity names and their input and result types.
// It is deterministic: it must not import net/http, os, os/exec, the store, the secret box or any
// data-plane client, and never calls time.Now, rand or go. Its status values and the Step type are api's.
package workflows
