package activities

import (
	"strings"
	"testing"

	"github.com/slipway-dev/slipway/api"
	"github.com/slipway-dev/slipway/descriptor"
)

func TestForTypeFitsTheDescriptorToTheComponentType(t *testing.T) {
	exposed := descriptor.Default([]string{"9000/tcp"})
	written := descriptor.Descriptor{Endpoints: []descriptor.Endpoint{{Name: "api", Port: 8080, Type: descriptor.REST}}}
	two := descriptor.Descriptor{Endpoints: []descriptor.Endpoint{{Name: "api", Port: 8080, Type: descriptor.REST}, {Name: "rpc", Port: 9090, Type: descriptor.GRPC}}}
	for _, c := range []struct {
		name  string
		d     descriptor.Descriptor
		typ   string
		ports []int
		err   string
	}{
		{"a service keeps what it has", two, api.ComponentService, []int{8080, 9090}, ""},
		{"a service of old builds", two, "", []int{8080, 9090}, ""},
		{"a task drops a default endpoint", exposed, api.ComponentScheduledTask, nil, ""},
		{"a task with written endpoints", written, api.ComponentManualTask, nil, "a manual-task serves no endpoints"},
		{"a web app's default endpoint is HTTP on the exposed port", exposed, api.ComponentWebApp, []int{9000}, ""},
		{"a web app exposing nothing listens on 8080", descriptor.Default(nil), api.ComponentWebApp, []int{8080}, ""},
		{"a web app with one REST endpoint", written, api.ComponentWebApp, []int{8080}, ""},
		{"a web app with two", two, api.ComponentWebApp, nil, "exactly one HTTP endpoint (REST, GraphQL or WS), this one declares 2 (REST, gRPC)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := forType(c.d, c.typ)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) || !strings.Contains(err.Error(), "endpoints") {
					t.Fatalf("error %v, want one naming endpoints: %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var ports []int
			for _, e := range got.Endpoints {
				ports = append(ports, e.Port)
			}
			if len(ports) != len(c.ports) || (len(ports) > 0 && ports[0] != c.ports[0]) {
				t.Errorf("endpoints %+v, want ports %v", got.Endpoints, c.ports)
			}
			if c.typ == api.ComponentWebApp && got.Endpoints[0].Type != descriptor.REST {
				t.Errorf("a web app's endpoint is %s, want REST", got.Endpoints[0].Type)
			}
		})
	}
}
