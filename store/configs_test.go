package store

import (
	"bytes"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/slipway-dev/slipway/secretbox"
)

// fakeSealed returns a distinct, complete Sealed without real encryption: the store does not look inside.
func fakeSealed(kek, tag string) secretbox.Sealed {
	return secretbox.Sealed{KEKID: kek, WrappedKey: []byte("wrapped-" + tag), Ciphertext: []byte("ct-" + tag)}
}

func TestPutConfigUpserts(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		mustCreateProject(t, s, "shop")
		mustCreateComponent(t, s, "shop", "api")
		v := ConfigValue{Project: "shop", Component: "api", Environment: "production", Key: "DB_URL",
			Secret: true, Sealed: fakeSealed("kek-1", "a")}
		first, created, err := s.PutConfig(ctx, v, false)
		must(t, err)
		if first.UpdatedAt.IsZero() {
			t.Error("PutConfig did not set UpdatedAt")
		}
		if !created {
			t.Error("the first put of a key reported created = false")
		}

		v.Secret, v.Sealed = false, fakeSealed("kek-2", "b")
		second, created, err := s.PutConfig(ctx, v, false)
		must(t, err)
		if created {
			t.Error("replacing a key reported created = true")
		}
		if !second.UpdatedAt.After(first.UpdatedAt) {
			t.Errorf("UpdatedAt %v did not move past %v", second.UpdatedAt, first.UpdatedAt)
		}
		if n := count(t, s, "SELECT * FROM configs"); n != 1 {
			t.Fatalf("%d rows after two puts of one key, want 1", n)
		}
		list, err := s.ListConfigs(ctx, "shop", "api", "production")
		must(t, err)
		if len(list) != 1 || !equalConfig(list[0], second) {
			t.Fatalf("ListConfigs = %+v, want [%+v]", list, second)
		}
		if list[0].Secret || list[0].Sealed.KEKID != "kek-2" {
			t.Errorf("the second put did not replace secret flag and sealed value: %+v", list[0])
		}
	})
}

func TestPutConfigKeepKind(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		mustCreateProject(t, s, "shop")
		mustCreateComponent(t, s, "shop", "api")
		v := ConfigValue{Project: "shop", Component: "api", Environment: "production", Key: "DB_URL"}
		tests := []struct {
			name        string
			secret      bool
			keepKind    bool
			wantSecret  bool
			wantCreated bool
		}{
			{"new key with keepKind takes v.Secret", true, true, true, true},
			{"keepKind keeps a secret secret", false, true, true, false},
			{"without keepKind v.Secret applies", false, false, false, false},
			{"keepKind keeps a plain config plain", true, true, false, false},
			{"without keepKind a config becomes secret", true, false, true, false},
		}
		for i, tt := range tests {
			v.Secret, v.Sealed = tt.secret, fakeSealed("kek-1", fmt.Sprint(i))
			got, created, err := s.PutConfig(ctx, v, tt.keepKind)
			must(t, err)
			if got.Secret != tt.wantSecret || created != tt.wantCreated {
				t.Errorf("%s: PutConfig(Secret %t, keepKind %t) = Secret %t, created %t; want %t, %t",
					tt.name, tt.secret, tt.keepKind, got.Secret, created, tt.wantSecret, tt.wantCreated)
			}
			list, err := s.ListConfigs(ctx, "shop", "api", "production")
			must(t, err)
			if len(list) != 1 || !equalConfig(list[0], got) {
				t.Fatalf("%s: ListConfigs = %+v, want [%+v]", tt.name, list, got)
			}
		}
	})
}

// TestPutConfigKeepKindRacesDelete puts a key with keepKind from several goroutines while another deletes it and
// puts it back as a secret. The kind is decided in the transaction that writes, so the key ends secret (a
// keepKind put either finds the secret and keeps it or finds no row and is replaced by the next secret put), and
// every put that created the row follows a delete (creations = deletions + 1).
func TestPutConfigKeepKindRacesDelete(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		mustCreateProject(t, s, "shop")
		mustCreateComponent(t, s, "shop", "api")
		v := ConfigValue{Project: "shop", Component: "api", Environment: "production", Key: "DB_URL",
			Secret: true, Sealed: fakeSealed("kek-1", "secret")}
		_, _, err := s.PutConfig(ctx, v, false)
		must(t, err)

		const putters, rounds = 4, 40
		var creations, deletions atomic.Int64
		creations.Add(1)
		errs := make(chan error, putters+1)
		var wg sync.WaitGroup
		for i := range putters {
			wg.Go(func() {
				plain := ConfigValue{Project: "shop", Component: "api", Environment: "production", Key: "DB_URL",
					Sealed: fakeSealed("kek-1", fmt.Sprint("plain", i))}
				for range rounds {
					_, created, err := s.PutConfig(ctx, plain, true)
					if err != nil {
						errs <- err
						return
					}
					if created {
						creations.Add(1)
					}
				}
			})
		}
		wg.Go(func() {
			for range rounds {
				if err := s.DeleteConfig(ctx, "shop", "api", "production", "DB_URL"); err != nil {
					errs <- err
					return
				}
				deletions.Add(1)
				_, created, err := s.PutConfig(ctx, v, false)
				if err != nil {
					errs <- err
					return
				}
				if created {
					creations.Add(1)
				}
			}
		})
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		list, err := s.ListConfigs(ctx, "shop", "api", "production")
		must(t, err)
		if len(list) != 1 || !list[0].Secret {
			t.Errorf("after the race ListConfigs = %+v, want DB_URL still secret", list)
		}
		if c, d := creations.Load(), deletions.Load(); c != d+1 {
			t.Errorf("%d puts reported created after %d deletions, want %d", c, d, d+1)
		}
	})
}

func equalConfig(a, b ConfigValue) bool {
	return a.Project == b.Project && a.Component == b.Component && a.Environment == b.Environment &&
		a.Key == b.Key && a.Secret == b.Secret && a.UpdatedAt.Equal(b.UpdatedAt) &&
		a.Sealed.KEKID == b.Sealed.KEKID && bytes.Equal(a.Sealed.WrappedKey, b.Sealed.WrappedKey) &&
		bytes.Equal(a.Sealed.Ciphertext, b.Sealed.Ciphertext)
}

func TestListConfigsIsScoped(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		mustCreateProject(t, s, "shop")
		mustCreateComponent(t, s, "shop", "api")
		mustCreateComponent(t, s, "shop", "web")
		put := func(comp, env, key string) {
			t.Helper()
			_, _, err := s.PutConfig(ctx, ConfigValue{Project: "shop", Component: comp, Environment: env, Key: key,
				Sealed: fakeSealed("kek-1", comp+env+key)}, false)
			must(t, err)
		}
		put("api", "development", "PORT")
		put("api", "development", "DB_URL")
		put("api", "development", "A_FIRST")
		put("api", "production", "PORT")
		put("web", "development", "PORT")

		list, err := s.ListConfigs(ctx, "shop", "api", "development")
		must(t, err)
		keys := []string{}
		for _, v := range list {
			keys = append(keys, v.Key)
			if v.Project != "shop" || v.Component != "api" || v.Environment != "development" {
				t.Errorf("listed a value from elsewhere: %+v", v)
			}
			if want := fakeSealed("kek-1", "apidevelopment"+v.Key); !bytes.Equal(v.Sealed.Ciphertext, want.Ciphertext) {
				t.Errorf("%s: ciphertext %q, want %q", v.Key, v.Sealed.Ciphertext, want.Ciphertext)
			}
		}
		if !slices.Equal(keys, []string{"A_FIRST", "DB_URL", "PORT"}) {
			t.Errorf("ListConfigs keys = %v, want sorted", keys)
		}
		if list, err := s.ListConfigs(ctx, "shop", "web", "production"); err != nil || list == nil || len(list) != 0 {
			t.Errorf("ListConfigs(none set) = %#v, %v; want empty non-nil slice", list, err)
		}

		must(t, s.DeleteConfig(ctx, "shop", "api", "development", "DB_URL"))
		list, err = s.ListConfigs(ctx, "shop", "api", "development")
		must(t, err)
		if len(list) != 2 {
			t.Errorf("after delete %d values, want 2", len(list))
		}
		wantErr(t, s.DeleteConfig(ctx, "shop", "api", "development", "DB_URL"), ErrNotFound,
			`config "DB_URL" of component "api" in environment "development" of project "shop": not found`)
	})
}

func TestConfigErrors(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		mustCreateProject(t, s, "shop")
		mustCreateComponent(t, s, "shop", "api")
		put := func(p, c, e, k string, sealed secretbox.Sealed) func() error {
			return func() error {
				_, _, err := s.PutConfig(ctx, ConfigValue{Project: p, Component: c, Environment: e, Key: k, Sealed: sealed}, false)
				return err
			}
		}
		ok := fakeSealed("kek-1", "x")
		tests := []struct {
			name   string
			call   func() error
			target error
			msg    string
		}{
			{"put missing project", put("nope", "api", "development", "K", ok), ErrNotFound, `project "nope": not found`},
			{"put missing component", put("shop", "web", "development", "K", ok), ErrNotFound,
				`component "web" in project "shop": not found`},
			{"put missing environment", put("shop", "api", "staging", "K", ok), ErrNotFound,
				`environment "staging" in project "shop": not found`},
			{"put empty key", put("shop", "api", "development", "", ok), ErrInvalid, ""},
			{"put without KEK ID", put("shop", "api", "development", "K", secretbox.Sealed{WrappedKey: []byte("w"), Ciphertext: []byte("c")}), ErrInvalid, ""},
			{"put without wrapped key", put("shop", "api", "development", "K", secretbox.Sealed{KEKID: "k", Ciphertext: []byte("c")}), ErrInvalid, ""},
			{"put without ciphertext", put("shop", "api", "development", "K", secretbox.Sealed{KEKID: "k", WrappedKey: []byte("w")}), ErrInvalid, ""},
			{"list missing project", func() error { _, err := s.ListConfigs(ctx, "nope", "api", "development"); return err },
				ErrNotFound, `project "nope": not found`},
			{"list missing component", func() error { _, err := s.ListConfigs(ctx, "shop", "web", "development"); return err },
				ErrNotFound, `component "web" in project "shop": not found`},
			{"list missing environment", func() error { _, err := s.ListConfigs(ctx, "shop", "api", "staging"); return err },
				ErrNotFound, `environment "staging" in project "shop": not found`},
			{"delete missing project", func() error { return s.DeleteConfig(ctx, "nope", "api", "development", "K") },
				ErrNotFound, `project "nope": not found`},
			{"delete missing component", func() error { return s.DeleteConfig(ctx, "shop", "web", "development", "K") },
				ErrNotFound, `component "web" in project "shop": not found`},
			{"delete missing environment", func() error { return s.DeleteConfig(ctx, "shop", "api", "staging", "K") },
				ErrNotFound, `environment "staging" in project "shop": not found`},
			{"delete missing key", func() error { return s.DeleteConfig(ctx, "shop", "api", "development", "K") },
				ErrNotFound, `config "K" of component "api" in environment "development" of project "shop": not found`},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) { wantErr(t, tt.call(), tt.target, tt.msg) })
		}
		if n := count(t, s, "SELECT * FROM configs"); n != 0 {
			t.Errorf("%d config rows after only failing calls", n)
		}
	})
}
