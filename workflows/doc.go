// Package workflows holds slipway's Temporal workflows and the names shared across processes: the
// task queue, search attributes, workflow IDs, activity names and their input and result types.
// It is deterministic: it must not import net/http, os, os/exec, database/sql, the store, the secret
// box, the activities, any adapter to an outside system (a data plane, Git, BuildKit, ...), the server
// or delivery, and never calls time.Now, rand or go. Of slipway's packages it may import only api,
// scan and descriptor, besides the standard library and the Temporal SDK. Its status values and
// the Step type are api's.
package workflows
