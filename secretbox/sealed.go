package secretbox

// Sealed is one encrypted value as stored: the ID of the KEK that wrapped its data key, the wrapped data key,
// and the AES-256-GCM ciphertext (nonce prepended) of the value.
//
// The zero Sealed holds nothing and never opens. A Sealed is only meaningful together with the associated data
// it was sealed with (see AAD) and a Keyring that holds its KEK.
type Sealed struct {
	// KEKID names the key-encryption key that wrapped WrappedKey, e.g. "kek-3f9a1c2b".
	KEKID string
	// WrappedKey is the value's 32-byte data key sealed with the KEK (nonce prepended), with KEKID as
	// associated data.
	WrappedKey []byte
	// Ciphertext is the value sealed with the data key (nonce prepended), with the caller's associated data.
	Ciphertext []byte
}
