package activities

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"testing"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/slipway-dev/slipway/secretbox"
	"github.com/slipway-dev/slipway/store"
	"github.com/slipway-dev/slipway/store/storetest"
	"github.com/slipway-dev/slipway/workflows"
)

// seeded opens a real SQLite store holding one sealed config value, sealed by a keyring on kekFile.
func seeded(t *testing.T, kekFile string) (*store.Store, store.ConfigValue) {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, storetest.SQLiteDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	keys, err := secretbox.LoadOrCreateKeyring(kekFile)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateProject(ctx, store.Project{Name: "shop"}, []store.Environment{{Name: "development"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateComponent(ctx, store.Component{Project: "shop", Name: "api", Repo: "file:///r"}); err != nil {
		t.Fatal(err)
	}
	v := store.ConfigValue{Project: "shop", Component: "api", Environment: "development", Key: "TOKEN", Secret: true}
	if v.Sealed, err = keys.Seal(v.AAD(), []byte("s3cret")); err != nil {
		t.Fatal(err)
	}
	if v, _, err = st.PutConfig(ctx, v, false); err != nil {
		t.Fatal(err)
	}
	return st, v
}

func runRewrap(t *testing.T, k *Keys, kek string) (workflows.RewrapDataKeysResult, error) {
	t.Helper()
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	env.RegisterActivity(k)
	val, err := env.ExecuteActivity(k.RewrapDataKeys, workflows.RewrapDataKeysInput{KEKID: kek})
	if err != nil {
		return workflows.RewrapDataKeysResult{}, err
	}
	var res workflows.RewrapDataKeysResult
	if err := val.Get(&res); err != nil {
		t.Fatal(err)
	}
	return res, nil
}

func TestRewrapDataKeysPicksUpRotationFromKeyFile(t *testing.T) {
	kekFile := filepath.Join(t.TempDir(), "kek.json")
	st, before := seeded(t, kekFile)
	// The worker loaded the key file before another process (the API) rotated it.
	workerKeys, err := secretbox.LoadKeyring(kekFile)
	if err != nil {
		t.Fatal(err)
	}
	apiKeys, err := secretbox.LoadKeyring(kekFile)
	if err != nil {
		t.Fatal(err)
	}
	newKEK, err := apiKeys.Rotate()
	if err != nil {
		t.Fatal(err)
	}
	k := &Keys{Store: st, Keyring: workerKeys}

	res, err := runRewrap(t, k, newKEK)
	if err != nil {
		t.Fatalf("RewrapDataKeys: %v", err)
	}
	if res.Rewrapped != 1 {
		t.Fatalf("re-wrapped %d values, want 1", res.Rewrapped)
	}
	vals, err := st.ListConfigs(context.Background(), "shop", "api", "development")
	if err != nil {
		t.Fatal(err)
	}
	after := vals[0]
	if after.Sealed.KEKID != newKEK {
		t.Fatalf("value wrapped by %s, want %s", after.Sealed.KEKID, newKEK)
	}
	if !bytes.Equal(after.Sealed.Ciphertext, before.Sealed.Ciphertext) {
		t.Fatal("re-wrap changed the ciphertext; it must only re-wrap the data key")
	}
	if plain, err := apiKeys.Open(after.AAD(), after.Sealed); err != nil || string(plain) != "s3cret" {
		t.Fatalf("value after re-wrap opens to %q, %v", plain, err)
	}

	if res, err := runRewrap(t, k, newKEK); err != nil || res.Rewrapped != 0 {
		t.Fatalf("second run re-wrapped %d (%v), want 0: the activity must be idempotent", res.Rewrapped, err)
	}
}

func TestRewrapDataKeysRefusesUnknownKEK(t *testing.T) {
	kekFile := filepath.Join(t.TempDir(), "kek.json")
	st, _ := seeded(t, kekFile)
	keys, err := secretbox.LoadKeyring(kekFile)
	if err != nil {
		t.Fatal(err)
	}
	_, err = runRewrap(t, &Keys{Store: st, Keyring: keys}, "kek-00000000")
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) || appErr.Type() != ErrTypeKeyMismatch || !appErr.NonRetryable() {
		t.Fatalf("error = %v, want a non-retryable %s", err, ErrTypeKeyMismatch)
	}
}

func TestRewrapDataKeysUndecryptableIsNotRetried(t *testing.T) {
	dir := t.TempDir()
	st, _ := seeded(t, filepath.Join(dir, "sealed-with.json"))
	other, err := secretbox.LoadOrCreateKeyring(filepath.Join(dir, "other.json"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = runRewrap(t, &Keys{Store: st, Keyring: other}, other.ActiveID())
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) || appErr.Type() != ErrTypeUndecryptable || !appErr.NonRetryable() {
		t.Fatalf("error = %v, want a non-retryable %s", err, ErrTypeUndecryptable)
	}
}
