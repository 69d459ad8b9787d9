// Package gitcred holds the Git credential of a component's repository in the form slipway seals and stores it
// (secretbox, under store.RepoCredentialAAD), and turns it into the gitsource.Auth that reads the repository.
//
// A Credential is a secret: it is sealed by the API handler that receives it and opened only by the code that is
// about to use it (the API resolving a commit, the checkout activity). It must never be part of a workflow or
// activity input or result, a log line or an error; it refuses to be marshalled to JSON and prints masked.
//
// gitcred imports secretbox, store (for the AAD) and gitsource; it must not import the server, the workflows or
// the activities.
package gitcred
