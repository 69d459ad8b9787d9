package store_test

import (
	"bytes"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/slipway-dev/slipway/secretbox"
	"github.com/slipway-dev/slipway/store"
	"github.com/slipway-dev/slipway/store/storetest"
)

// benchKeys is how many config keys the benchmarks spread their values over.
const benchKeys = 100

// benchBackends are the stores the benchmarks run on. The PostgreSQL one skips itself unless
// storetest.PostgresEnv names a server.
var benchBackends = []struct {
	name string
	dsn  func(testing.TB) string
}{
	{"sqlite", storetest.SQLiteDSN},
	{"postgres", storetest.PostgresDSN},
}

// forEachBenchBackend runs fn as a sub-benchmark on a fresh store of every backend, holding project shop with
// environments development and production and component api.
func forEachBenchBackend(b *testing.B, fn func(b *testing.B, s *store.Store)) {
	for _, be := range benchBackends {
		b.Run(be.name, func(b *testing.B) {
			s, err := store.Open(b.Context(), be.dsn(b))
			if err != nil {
				b.Fatalf("Open: %v", err)
			}
			b.Cleanup(func() {
				if err := s.Close(); err != nil {
					b.Errorf("Close: %v", err)
				}
			})
			if _, err := s.CreateProject(b.Context(), store.Project{Name: "shop"}, []store.Environment{
				{Name: "development"}, {Name: "production", Production: true},
			}); err != nil {
				b.Fatalf("CreateProject: %v", err)
			}
			if _, err := s.CreateComponent(b.Context(), store.Component{
				Project: "shop", Name: "api", Repo: "https://git.example/api.git", Branch: "main",
			}); err != nil {
				b.Fatalf("CreateComponent: %v", err)
			}
			fn(b, s)
		})
	}
}

// benchSealed returns a real sealed 1 KiB value, the size the store sees for a typical config value.
func benchSealed(b *testing.B) secretbox.Sealed {
	b.Helper()
	k, err := secretbox.LoadOrCreateKeyring(filepath.Join(b.TempDir(), "keyring.json"))
	if err != nil {
		b.Fatalf("LoadOrCreateKeyring: %v", err)
	}
	s, err := k.Seal(store.ConfigAAD("shop", "api", "production", "K"), bytes.Repeat([]byte("v"), 1<<10))
	if err != nil {
		b.Fatalf("Seal: %v", err)
	}
	return s
}

// benchKey returns the i-th of benchKeys config keys.
func benchKey(i int) string { return fmt.Sprintf("KEY_%03d", i%benchKeys) }

// BenchmarkPutConfig measures one PutConfig (a transaction that checks the parents, then updates or inserts)
// cycling over benchKeys keys, so after the first benchKeys puts every put replaces a value.
func BenchmarkPutConfig(b *testing.B) {
	forEachBenchBackend(b, func(b *testing.B, s *store.Store) {
		v := store.ConfigValue{Project: "shop", Component: "api", Environment: "production", Sealed: benchSealed(b)}
		ctx := b.Context()
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			v.Key = benchKey(i)
			i++
			if _, _, err := s.PutConfig(ctx, v, false); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "puts/s")
	})
}

// BenchmarkListConfigs measures listing a component's benchKeys values in one environment.
func BenchmarkListConfigs(b *testing.B) {
	forEachBenchBackend(b, func(b *testing.B, s *store.Store) {
		ctx := b.Context()
		v := store.ConfigValue{Project: "shop", Component: "api", Environment: "production", Sealed: benchSealed(b)}
		for i := range benchKeys {
			v.Key = benchKey(i)
			if _, _, err := s.PutConfig(ctx, v, false); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportAllocs()
		for b.Loop() {
			vals, err := s.ListConfigs(ctx, "shop", "api", "production")
			if err != nil {
				b.Fatal(err)
			}
			if len(vals) != benchKeys {
				b.Fatalf("ListConfigs returned %d values, want %d", len(vals), benchKeys)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lists/s")
	})
}
