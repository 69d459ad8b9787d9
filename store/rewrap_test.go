package store

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slipway-dev/slipway/secretbox"
)

// configAAD is the associated data the server seals config values with.
func configAAD(v ConfigValue) []byte {
	return secretbox.AAD("config", v.Project, v.Component, v.Environment, v.Key)
}

// sealedConfigs stores n real sealed values spread over two components and both environments of project shop
// and returns them as stored.
func sealedConfigs(t *testing.T, s *Store, keys *secretbox.Keyring, n int) []ConfigValue {
	t.Helper()
	mustCreateProject(t, s, "shop")
	mustCreateComponent(t, s, "shop", "api")
	mustCreateComponent(t, s, "shop", "web")
	var out []ConfigValue
	for i := range n {
		v := ConfigValue{Project: "shop", Component: []string{"api", "web"}[i%2],
			Environment: []string{"development", "production"}[i/2%2], Key: fmt.Sprintf("KEY_%02d", i), Secret: i%3 == 0}
		sealed, err := keys.Seal(configAAD(v), []byte("value-"+v.Key))
		must(t, err)
		v.Sealed = sealed
		stored, _, err := s.PutConfig(t.Context(), v, false)
		must(t, err)
		out = append(out, stored)
	}
	return out
}

// allConfigs returns every stored value.
func allConfigs(t *testing.T, s *Store) []ConfigValue {
	t.Helper()
	rows, err := s.db().query(t.Context(), "SELECT "+configColumns+" FROM configs ORDER BY key")
	must(t, err)
	defer rows.Close()
	var out []ConfigValue
	for rows.Next() {
		v, err := scanConfig(rows)
		must(t, err)
		out = append(out, v)
	}
	must(t, rows.Err())
	return out
}

func TestRewrapConfigsMovesEveryValueOnce(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		keys, err := secretbox.LoadOrCreateKeyring(filepath.Join(t.TempDir(), "keyring.json"))
		must(t, err)
		before := sealedConfigs(t, s, keys, 10)
		newID, err := keys.Rotate()
		must(t, err)

		for _, batch := range []int{3, 0} { // 10 rows in batches of 3 (a partial last batch), then the default
			n, err := s.RewrapConfigs(ctx, batch, keys.Rewrap)
			must(t, err)
			want := 10
			if batch == 0 {
				want = 0 // idempotent: everything is already under the new KEK
			}
			if n != want {
				t.Fatalf("RewrapConfigs(batch %d) = %d, want %d", batch, n, want)
			}
		}

		after := allConfigs(t, s)
		if len(after) != len(before) {
			t.Fatalf("%d values after rewrap, want %d", len(after), len(before))
		}
		for i, v := range after {
			b := before[i]
			if v.Sealed.KEKID != newID {
				t.Errorf("%s: KEK %q, want %q", v.Key, v.Sealed.KEKID, newID)
			}
			if !bytes.Equal(v.Sealed.Ciphertext, b.Sealed.Ciphertext) {
				t.Errorf("%s: ciphertext changed", v.Key)
			}
			if !v.UpdatedAt.Equal(b.UpdatedAt) || v.Secret != b.Secret {
				t.Errorf("%s: rewrap changed UpdatedAt or Secret: %+v vs %+v", v.Key, v, b)
			}
			pt, err := keys.Open(configAAD(v), v.Sealed)
			if err != nil || string(pt) != "value-"+v.Key {
				t.Errorf("%s: Open = %q, %v", v.Key, pt, err)
			}
		}
	})
}

func TestRewrapConfigsEmptyStore(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *Store) {
		calls := 0
		n, err := s.RewrapConfigs(t.Context(), 5, func(v secretbox.Sealed) (secretbox.Sealed, bool, error) {
			calls++
			return v, false, nil
		})
		if n != 0 || err != nil || calls != 0 {
			t.Fatalf("RewrapConfigs(empty) = %d, %v after %d calls", n, err, calls)
		}
	})
}

func TestRewrapConfigsStopsAtFirstError(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		mustCreateProject(t, s, "shop")
		mustCreateComponent(t, s, "shop", "api")
		for i := range 7 {
			_, _, err := s.PutConfig(ctx, ConfigValue{Project: "shop", Component: "api", Environment: "development",
				Key: fmt.Sprintf("K%d", i), Sealed: fakeSealed("old", fmt.Sprint(i))}, false)
			must(t, err)
		}
		boom := errors.New("boom")
		calls := 0
		n, err := s.RewrapConfigs(ctx, 3, func(v secretbox.Sealed) (secretbox.Sealed, bool, error) {
			calls++
			if calls == 5 { // K4, second value of the second batch
				return secretbox.Sealed{}, false, boom
			}
			return secretbox.Sealed{KEKID: "new", WrappedKey: append([]byte("new-"), v.WrappedKey...), Ciphertext: v.Ciphertext}, true, nil
		})
		if !errors.Is(err, boom) || n != 3 {
			t.Fatalf("RewrapConfigs = %d, %v; want 3 (the first batch) and boom", n, err)
		}
		if !strings.Contains(err.Error(), `config "K4"`) {
			t.Errorf("error %q does not name the value", err)
		}
		kekOf := map[string]string{}
		for _, v := range allConfigs(t, s) {
			kekOf[v.Key] = v.Sealed.KEKID
		}
		want := map[string]string{"K0": "new", "K1": "new", "K2": "new", "K3": "old", "K4": "old", "K5": "old", "K6": "old"}
		for k, w := range want {
			if kekOf[k] != w {
				t.Errorf("%s under KEK %q, want %q (the failed batch must be rolled back)", k, kekOf[k], w)
			}
		}

		// An incomplete result is refused, not stored.
		_, err = s.RewrapConfigs(ctx, 3, func(v secretbox.Sealed) (secretbox.Sealed, bool, error) {
			return secretbox.Sealed{KEKID: "new"}, true, nil
		})
		wantErr(t, err, ErrInvalid, "")
	})
}

func TestRewrapConfigsKeepsConcurrentPut(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			if b.name == "sqlite" {
				t.Skip("SQLite runs one write transaction at a time: a put cannot interleave with a rewrap batch")
			}
			s := openStore(t, b.dsn(t))
			ctx := t.Context()
			mustCreateProject(t, s, "shop")
			mustCreateComponent(t, s, "shop", "api")
			v := ConfigValue{Project: "shop", Component: "api", Environment: "development", Key: "K", Sealed: fakeSealed("old", "1")}
			_, _, err := s.PutConfig(ctx, v, false)
			must(t, err)
			replacement := fakeSealed("active", "2")
			n, err := s.RewrapConfigs(ctx, 10, func(old secretbox.Sealed) (secretbox.Sealed, bool, error) {
				// Another API call replaces the value after the batch read it.
				v.Sealed = replacement
				if _, _, err := s.PutConfig(ctx, v, false); err != nil {
					return secretbox.Sealed{}, false, err
				}
				return secretbox.Sealed{KEKID: "active", WrappedKey: []byte("rewrapped"), Ciphertext: old.Ciphertext}, true, nil
			})
			if err != nil || n != 0 {
				t.Fatalf("RewrapConfigs = %d, %v; want 0 changed", n, err)
			}
			got := allConfigs(t, s)[0].Sealed
			if got.KEKID != "active" || !bytes.Equal(got.WrappedKey, replacement.WrappedKey) || !bytes.Equal(got.Ciphertext, replacement.Ciphertext) {
				t.Fatalf("stored %+v, want the concurrent put's %+v", got, replacement)
			}
		})
	}
}
