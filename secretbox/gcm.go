package secretbox

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"fmt"
)

// keySize is the size of every key in this package: KEKs and data keys are AES-256 keys.
const keySize = 32

// newKey returns keySize fresh random bytes.
func newKey() []byte {
	k := make([]byte, keySize)
	rand.Read(k) // never returns an error; it crashes the program if the system's randomness fails
	return k
}

// seal encrypts plaintext with AES-256-GCM under key and returns nonce || ciphertext || tag.
func seal(key, aad, plaintext []byte) ([]byte, error) {
	g, err := newGCM(key)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, g.NonceSize(), g.NonceSize()+len(plaintext)+g.Overhead())
	rand.Read(nonce)
	return g.Seal(nonce, nonce, plaintext, aad), nil
}

// open reverses seal. Any authentication failure wraps ErrDecrypt.
func open(key, aad, sealed []byte) ([]byte, error) {
	g, err := newGCM(key)
	if err != nil {
		return nil, err
	}
	if len(sealed) < g.NonceSize()+g.Overhead() {
		return nil, fmt.Errorf("%d bytes is too short for nonce and tag: %w", len(sealed), ErrDecrypt)
	}
	nonce, body := sealed[:g.NonceSize()], sealed[g.NonceSize():]
	plaintext, err := g.Open(nil, nonce, body, aad)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrDecrypt, err)
	}
	return plaintext, nil
}

func newGCM(key []byte) (cipher.AEAD, error) {
	if len(key) != keySize {
		return nil, fmt.Errorf("key is %d bytes, want %d: %w", len(key), keySize, ErrDecrypt)
	}
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("creating AES cipher: %w", err)
	}
	g, err := cipher.NewGCM(b)
	if err != nil {
		return nil, fmt.Errorf("creating GCM: %w", err)
	}
	return g, nil
}
