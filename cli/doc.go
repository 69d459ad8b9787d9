// Package cli implements the slipway command line on cobra: the process verbs (dev, server, worker) that
// start a stack, and the client verbs that call the API — one per resource and action (project create,
// config set, build, promote, apply, …), each a cobra.Command built by a runner method that only reads its
// flags into variables and a RunE that calls the API. It reads no environment itself: cmd/ passes the lookup
// function and the streams in, and every flag not given takes its SLIPWAY_<FLAG> variable. The client
// verbs decode the API's answers into api's types; `apply` and `export` leave the file format to projectfile.
package cli
