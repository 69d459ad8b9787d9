// Package gitsource is slipway's Git adapter, a thin layer over go-git: it resolves what a user
// calls a commit (a branch, a tag, a full or short SHA, or nothing for the default branch) to a
// full commit SHA, checks out exactly one commit, shallowly, into a directory, lists a branch's
// recent commits, and reads what lies between two commits of a branch: the commits and the files
// that differ.
//
// Repositories are addressed by URL: https:// or http:// (optionally with a token), ssh:// or the
// scp-like user@host:path form (with a private key and known_hosts), file:// and plain paths.
// Errors never carry credentials: URLs in them have their user info removed, and token and
// password values are masked. Errors a retry cannot fix wrap ErrUnknownRef, ErrAuth or
// ErrRepoNotFound; everything else (network, server trouble, cancellation) is worth retrying.
//
// gitsource holds no Temporal code: activities (and delivery, resolving a commit) call it. Like
// every adapter to an outside system, it must not import slipway's workflows, activities, store,
// server, worker, stack, cli, delivery or api.
package gitsource
