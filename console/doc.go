// Package console holds slipway's web console: its pages as html/template files, the view models those pages
// render, and the assets they load (one stylesheet, one script), all embedded in the binary. Nothing is fetched
// from outside and nothing is built with npm.
//
// The pages are rendered on the server (package server fills the view models from the same store reads and
// use cases as the REST API). Every write a page offers is a call of the REST API itself, made by console.js
// with the session cookie and the session's CSRF token, so the console has no write path of its own; the
// script also streams build logs and follows GET /api/v1/events to refresh the parts of a page marked
// data-live when something changes elsewhere.
package console
