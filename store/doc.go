// Package store holds slipway's metadata store: projects, their environments (with their data planes' sealed
// kubeconfigs), components, sealed config values, API tokens, builds and deployments, kept in SQLite (one file, for
// `slipway dev`) or PostgreSQL (at scale) through database/sql.
//
// The schema is created and upgraded by versioned migrations embedded in the binary and applied by Open. Config
// values are stored only as secretbox.Sealed; the store never sees a plaintext value. Of slipway's packages it may
// import only secretbox, descriptor, scan and api (the types it keeps): never server, delivery, worker,
// workflows, activities, an adapter or cmd.
package store
