package delivery

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"testing"

	"go.temporal.io/api/serviceerror"
)

const shaMain = "1111111111111111111111111111111111111111"

func TestBuildIDIsDeterministic(t *testing.T) {
	a, b := BuildID("build/shop/api/"+shaMain), BuildID("build/shop/api/"+shaMain+"/rebuild-2")
	if a != BuildID("build/shop/api/"+shaMain) {
		t.Error("BuildID is not deterministic")
	}
	if a == b {
		t.Errorf("a build and its rebuild share ID %s", a)
	}
	for _, id := range []string{a, b} {
		if !regexp.MustCompile(`^b-[0-9a-f]{16}$`).MatchString(id) {
			t.Errorf("ID %q is not b- and 16 hex digits", id)
		}
	}
}

func TestTemporalUnreachable(t *testing.T) {
	for _, err := range []error{
		serviceerror.NewUnavailable("down"), serviceerror.NewDeadlineExceeded("slow"),
		fmt.Errorf("starting: %w", context.DeadlineExceeded), fmt.Errorf("wrapped: %w", serviceerror.NewResourceExhausted(0, "busy")),
	} {
		if !Unreachable(err) {
			t.Errorf("Unreachable(%v) = false", err)
		}
	}
	for _, err := range []error{serviceerror.NewInvalidArgument("bad"), errors.New("boom"), serviceerror.NewNotFound("gone")} {
		if Unreachable(err) {
			t.Errorf("Unreachable(%v) = true", err)
		}
	}
}

func TestWithoutHostDetail(t *testing.T) {
	const logged = "; the details are in the server log"
	for _, tc := range []struct{ in, want string }{
		{"Temporal is not configured on this server, so builds cannot run", "Temporal is not configured on this server, so builds cannot run"},
		{"deployment d-1 could not be queued: Temporal is unreachable", "deployment d-1 could not be queued: Temporal is unreachable"},
		{"build b-1 failed at 10:15 with 3 of 4 steps", "build b-1 failed at 10:15 with 3 of 4 steps"},
		{"starting the build: connecting to buildkitd at unix:///run/user/1000/buildkit/buildkitd.sock: no such file", "starting the build" + logged},
		{"reading /home/dev/.slipway/data/endpoints.json: permission denied", "the server could not complete the request" + logged},
		{"the registry did not answer: Get \"http://localhost:5000/v2/\": EOF", "the registry did not answer" + logged},
		{"Temporal is unreachable: rpc error: dial tcp [::1]:7233: connect: connection refused", "Temporal is unreachable" + logged},
		{"the cluster is unreachable: Get https://k8s.internal.example:6443/api", "the cluster is unreachable" + logged},
		{"the cluster is unreachable: lookup k8s on 127.0.0.53: no such host", "the cluster is unreachable" + logged},
		{"Kubernetes said no (connection reset by peer)", "Kubernetes said no" + logged},
	} {
		if got := WithoutHostDetail(tc.in); got != tc.want {
			t.Errorf("WithoutHostDetail(%q)\n = %q\nwant %q", tc.in, got, tc.want)
		}
	}
}
