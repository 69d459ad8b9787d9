// Package api holds the bodies of slipway's REST API (/api/v1 and the webhook deliveries' answers) and the status
// values they carry: every request and response type, the error body, the list page, and the build, step and
// deployment statuses. The server answers with these types and the CLI decodes them, so the wire format is
// written down once, here.
//
// The JSON field names and omitempty choices of these types are the API: changing one changes what clients read.
//
// api holds plain data only. It imports the standard library and slipway's plain-data packages descriptor and
// scan, nothing else — never store, server, workflows, the adapters, Temporal or Echo — so that the store and
// the (deterministic) workflows may import it.
package api
