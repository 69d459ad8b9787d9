package activities

import (
	"context"
	"errors"
	"fmt"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/slipway-dev/slipway/secretbox"
	"github.com/slipway-dev/slipway/workflows"
)

// rewrapBatch is how many stored values one store transaction re-wraps.
const rewrapBatch = 200

// SealedStore is the part of the metadata store the key activities use.
type SealedStore interface {
	RewrapConfigs(ctx context.Context, batch int, rewrap func(secretbox.Sealed) (secretbox.Sealed, bool, error)) (int, error)
}

// Keyring is the part of the secret box the key activities use.
type Keyring interface {
	ActiveID() string
	Reload() error
	Rewrap(secretbox.Sealed) (secretbox.Sealed, bool, error)
}

// Keys holds the key-management activities.
type Keys struct {
	Store   SealedStore
	Keyring Keyring
}

// RewrapDataKeys re-wraps every stored data key with the KEK named in the input, which must be
// the worker's active KEK (the keyring file is re-read once if it is not). Ciphertexts are not
// touched and nothing is decrypted. It heartbeats the count so far and is idempotent.
func (k *Keys) RewrapDataKeys(ctx context.Context, in workflows.RewrapDataKeysInput) (workflows.RewrapDataKeysResult, error) {
	if k.Keyring.ActiveID() != in.KEKID {
		if err := k.Keyring.Reload(); err != nil {
			return workflows.RewrapDataKeysResult{}, fmt.Errorf("reloading keyring: %w", err)
		}
	}
	if active := k.Keyring.ActiveID(); active != in.KEKID {
		return workflows.RewrapDataKeysResult{}, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("worker's active KEK is %q, rotation asked for %q", active, in.KEKID), ErrTypeKeyMismatch, nil)
	}
	seen := 0
	n, err := k.Store.RewrapConfigs(ctx, rewrapBatch, func(s secretbox.Sealed) (secretbox.Sealed, bool, error) {
		seen++
		activity.RecordHeartbeat(ctx, seen)
		return k.Keyring.Rewrap(s)
	})
	if errors.Is(err, secretbox.ErrUnknownKEK) || errors.Is(err, secretbox.ErrDecrypt) {
		return workflows.RewrapDataKeysResult{}, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("re-wrapping data keys with %s", in.KEKID), ErrTypeUndecryptable, err)
	}
	if err != nil {
		return workflows.RewrapDataKeysResult{}, fmt.Errorf("re-wrapping data keys with %s: %w", in.KEKID, err)
	}
	return workflows.RewrapDataKeysResult{Rewrapped: n}, nil
}
