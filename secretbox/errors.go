package secretbox

import "errors"

// ErrDecrypt is wrapped by every error that comes from a sealed value that cannot be opened: a tampered
// ciphertext or wrapped key, the wrong associated data, or a KEK whose bytes differ from the ones that sealed it.
var ErrDecrypt = errors.New("decryption failed")

// ErrUnknownKEK is wrapped when a sealed value names a KEK that the keyring does not hold, even after re-reading
// its key file.
var ErrUnknownKEK = errors.New("unknown key-encryption key")
