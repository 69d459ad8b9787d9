package secretbox_test

import (
	"bytes"
	"testing"

	"github.com/slipway-dev/slipway/secretbox"
)

func TestAADIsLengthPrefixed(t *testing.T) {
	tests := []struct {
		name string
		a, b []string
	}{
		{"boundary moved", []string{"ab", "c"}, []string{"a", "bc"}},
		{"empty part added", []string{"a"}, []string{"a", ""}},
		{"no parts vs one empty part", nil, []string{""}},
		{"order", []string{"a", "b"}, []string{"b", "a"}},
		{"joined", []string{"config", "shop"}, []string{"configshop"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if x, y := secretbox.AAD(tt.a...), secretbox.AAD(tt.b...); bytes.Equal(x, y) {
				t.Errorf("AAD(%q) == AAD(%q) == %x", tt.a, tt.b, x)
			}
		})
	}
}

func TestAADIsDeterministic(t *testing.T) {
	a := secretbox.AAD("config", "shop", "api", "production", "DB_URL")
	b := secretbox.AAD("config", "shop", "api", "production", "DB_URL")
	if !bytes.Equal(a, b) {
		t.Fatalf("AAD differs between calls: %x vs %x", a, b)
	}
	want := []byte{0, 0, 0, 2, 'a', 'b', 0, 0, 0, 1, 'c'}
	if got := secretbox.AAD("ab", "c"); !bytes.Equal(got, want) {
		t.Errorf("AAD(ab, c) = %x, want %x", got, want)
	}
	if got := secretbox.AAD(); len(got) != 0 {
		t.Errorf("AAD() = %x, want empty", got)
	}
}
