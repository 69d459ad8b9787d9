package secretbox_test

import (
	"bytes"
	"path/filepath"
	"testing"

	"github.com/slipway-dev/slipway/secretbox"
)

// benchValue is the plaintext the benchmarks seal: a 1 KiB config value.
var benchValue = bytes.Repeat([]byte("v"), 1<<10)

// newBenchKeyring creates a keyring in a fresh temporary directory.
func newBenchKeyring(b *testing.B) *secretbox.Keyring {
	b.Helper()
	k, err := secretbox.LoadOrCreateKeyring(filepath.Join(b.TempDir(), "keyring.json"))
	if err != nil {
		b.Fatalf("LoadOrCreateKeyring: %v", err)
	}
	return k
}

// BenchmarkSeal measures sealing a 1 KiB value: a fresh data key, the value's AES-256-GCM seal and the data key's
// wrap under the active KEK.
func BenchmarkSeal(b *testing.B) {
	k := newBenchKeyring(b)
	b.SetBytes(int64(len(benchValue)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := k.Seal(configAAD, benchValue); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOpen measures opening a sealed 1 KiB value: unwrapping its data key and decrypting it.
func BenchmarkOpen(b *testing.B) {
	k := newBenchKeyring(b)
	s, err := k.Seal(configAAD, benchValue)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(benchValue)))
	b.ReportAllocs()
	for b.Loop() {
		pt, err := k.Open(configAAD, s)
		if err != nil {
			b.Fatal(err)
		}
		if len(pt) != len(benchValue) {
			b.Fatalf("Open returned %d bytes, want %d", len(pt), len(benchValue))
		}
	}
}

// BenchmarkRewrap measures moving a value's data key from the previous KEK to the active one, the per-value
// work of a key rotation; the ciphertext is not touched, so the value's size does not matter.
func BenchmarkRewrap(b *testing.B) {
	k := newBenchKeyring(b)
	old, err := k.Seal(configAAD, benchValue)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := k.Rotate(); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		moved, changed, err := k.Rewrap(old)
		if err != nil {
			b.Fatal(err)
		}
		if !changed || moved.KEKID != k.ActiveID() {
			b.Fatalf("Rewrap = %q, changed %v; want moved to %q", moved.KEKID, changed, k.ActiveID())
		}
	}
}
