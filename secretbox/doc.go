// Package secretbox holds slipway's envelope encryption of config and secret values: AES-256-GCM with a fresh
// data key per value, wrapped by a key-encryption key (KEK) from a keyring file that can be rotated.
//
// It depends on the standard library only and must not import any other slipway package: the store, the server
// and the worker import it, never the other way round.
package secretbox
