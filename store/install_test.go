package store

import (
	"regexp"
	"testing"
)

func TestInstallIDIsMadeOnce(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *Store) {
		first, err := s.InstallID(t.Context())
		must(t, err)
		if !regexp.MustCompile(`^[0-9a-f]{16}$`).MatchString(first) {
			t.Fatalf("install ID %q", first)
		}
		again, err := s.InstallID(t.Context())
		must(t, err)
		if again != first {
			t.Fatalf("install ID changed from %s to %s", first, again)
		}
	})
}
