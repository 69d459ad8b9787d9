package docker

import (
	"context"
	"slices"
	"testing"

	"github.com/slipway-dev/slipway/dataplane"
	"github.com/slipway-dev/slipway/descriptor"
)

// recordingEntry is an entry that records what it was switched to and how often it was closed.
type recordingEntry struct {
	switched [][]string
	closed   int
}

func (e *recordingEntry) Close(context.Context, dataplane.Release) error {
	e.closed++
	return nil
}

func (e *recordingEntry) Switch(_ context.Context, _ dataplane.Release, addrs []string) (string, error) {
	e.switched = append(e.switched, addrs)
	return "http://127.0.0.1:4000", nil
}

// The Docker Engine routes nothing: Serve hands the addresses of the instances to slipway's entry, and
// a release without an endpoint is not served.
func TestServeSwitchesTheEntryToTheInstances(t *testing.T) {
	d := &Driver{}
	if d.VerdictWait() != 0 || d.ReplacesInPlace() {
		t.Fatalf("VerdictWait %v, ReplacesInPlace %v; want slipway's checks the verdict, releases side by side", d.VerdictWait(), d.ReplacesInPlace())
	}
	r := dataplane.Release{Project: "shop", Component: "api", Environment: "dev", BuildID: "b-2",
		Endpoints: []descriptor.Endpoint{{Name: "web", Port: 8080, Type: descriptor.REST}}}
	insts := []dataplane.Instance{{ID: "c1", BuildID: "b-2", Address: "10.0.0.2:8080"}, {ID: "c2", BuildID: "b-2"}, {ID: "c3", BuildID: "b-2", Address: "10.0.0.3:8080"}}
	entry := &recordingEntry{}
	url, err := d.Serve(t.Context(), r, insts, entry)
	if err != nil || url != "http://127.0.0.1:4000" || len(entry.switched) != 1 || !slices.Equal(entry.switched[0], []string{"10.0.0.2:8080", "10.0.0.3:8080"}) {
		t.Fatalf("Serve = %q, %v; entry switched to %v", url, err, entry.switched)
	}
	if _, err := d.Serve(t.Context(), r, insts, nil); err == nil {
		t.Fatal("Serve without an entry succeeded")
	}
	r.Endpoints = []descriptor.Endpoint{{Name: "dns", Port: 53, Type: descriptor.UDP}}
	if url, err := d.Serve(t.Context(), r, insts, entry); err != nil || url != "" || len(entry.switched) != 1 || entry.closed != 1 {
		t.Fatalf("Serve of a release with no TCP-borne endpoint = %q, %v; entry switched %d times, closed %d", url, err, len(entry.switched), entry.closed)
	}
	// Only the first TCP-borne endpoint's visibility counts: a project one is not routed by the edge.
	r.Endpoints = []descriptor.Endpoint{{Name: "dns", Port: 53, Type: descriptor.UDP}, {Name: "db", Port: 5432, Type: descriptor.TCP, Visibility: descriptor.Project},
		{Name: "web", Port: 8080, Type: descriptor.REST, Visibility: descriptor.Public}}
	if url, err := d.Serve(t.Context(), r, insts, entry); err != nil || url != "" || len(entry.switched) != 1 || entry.closed != 2 {
		t.Fatalf("Serve of a project release = %q, %v; entry switched %d times, closed %d", url, err, len(entry.switched), entry.closed)
	}
	if url, err := d.Serve(t.Context(), r, insts, nil); err != nil || url != "" {
		t.Fatalf("Serve of a project release without an entry = %q, %v; want no URL and no error", url, err)
	}
	r.Endpoints[1].Visibility = "" // recorded before endpoints had a visibility: public
	if url, err := d.Serve(t.Context(), r, insts, entry); err != nil || url == "" || len(entry.switched) != 2 {
		t.Fatalf("Serve of a release of an older build = %q, %v; entry switched %d times", url, err, len(entry.switched))
	}
}
