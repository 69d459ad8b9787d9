// Package payloadcodec encrypts the payloads slipway hands to Temporal — workflow and activity inputs and
// results, signals, queries, memos and (with the failure converter) error messages and stack traces — before
// they leave the process, and decrypts them on the way back: a Temporal PayloadCodec over the keyring that
// already seals config and secret values (secretbox), so the Temporal history, in whatever database the
// cluster keeps it, holds ciphertext.
//
// Each payload gets a fresh AES-256-GCM data key, wrapped by the keyring's active KEK; the KEK's ID travels in
// the payload's metadata, so a rotation keeps every older history readable as long as the key file keeps the
// old KEK (rotation only adds). Payloads that are not encrypted (histories written before encryption, or by a
// client without it) pass through Decode unchanged.
package payloadcodec
