package descriptor

import (
	"reflect"
	"testing"
)

func TestDefault(t *testing.T) {
	tests := []struct {
		name    string
		exposed []string
		want    Descriptor
	}{
		{"no ports", nil, Descriptor{Default: true}},
		{"one TCP port", []string{"8080/tcp"}, Descriptor{Default: true, Endpoints: []Endpoint{{Name: "default", Port: 8080, Type: TCP, Visibility: Public}}}},
		{"the lowest port", []string{"9000/tcp", "53/udp", "8080/tcp"}, Descriptor{Default: true, Endpoints: []Endpoint{{Name: "default", Port: 53, Type: UDP, Visibility: Public}}}},
		{"TCP over UDP on one port", []string{"53/udp", "53/tcp"}, Descriptor{Default: true, Endpoints: []Endpoint{{Name: "default", Port: 53, Type: TCP, Visibility: Public}}}},
		{"no protocol is TCP", []string{"3000"}, Descriptor{Default: true, Endpoints: []Endpoint{{Name: "default", Port: 3000, Type: TCP, Visibility: Public}}}},
		{"upper case protocol", []string{"5000/UDP"}, Descriptor{Default: true, Endpoints: []Endpoint{{Name: "default", Port: 5000, Type: UDP, Visibility: Public}}}},
		{
			"invalid keys ignored",
			[]string{"0/tcp", "70000/tcp", "http/tcp", "", "9/sctp", "8443/tcp"},
			Descriptor{Default: true, Endpoints: []Endpoint{{Name: "default", Port: 8443, Type: TCP, Visibility: Public}}},
		},
		{"only invalid keys", []string{"9/sctp", "x"}, Descriptor{Default: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Default(tt.exposed); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Default(%q)\n got %+v\nwant %+v", tt.exposed, got, tt.want)
			}
		})
	}
}

// An endpoint recorded before endpoints had a visibility is public.
func TestEndpointIsPublic(t *testing.T) {
	for vis, want := range map[string]bool{"": true, Public: true, Project: false} {
		if got := (Endpoint{Visibility: vis}).IsPublic(); got != want {
			t.Errorf("IsPublic of visibility %q = %v, want %v", vis, got, want)
		}
	}
}
