package buildkit

import (
	"context"
	"errors"
	"fmt"
	"testing"

	gatewaypb "github.com/moby/buildkit/frontend/gateway/pb"
	"github.com/moby/buildkit/solver/errdefs"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// TestClassify covers the error shapes the build tests meet through a real buildkitd, plus those
// a real buildkitd does not produce on demand (a registry outage while resolving a base image).
func TestClassify(t *testing.T) {
	frontend := func(err error) error { return (&errdefs.Frontend{Name: "dockerfile.v0"}).WrapError(err) }
	vertex := func(err error) error { return errdefs.WrapVertex(err, "sha256:0000") }
	for _, tc := range []struct {
		name      string
		err       error
		wantType  string
		permanent bool
	}{
		{"nil", nil, "", false},
		{"BuildError", fmt.Errorf("activity: %w", &BuildError{Type: ErrTypeBuildStep, Msg: "x"}), ErrTypeBuildStep, true},
		{"buildkitd unreachable", status.Error(codes.Unavailable, "connection error"), "", false},
		{"cancelled", fmt.Errorf("building: %w", context.Canceled), "", false},
		{"RUN exit code", fmt.Errorf("failed to solve: %w", &gatewaypb.ExitError{ExitCode: 3, Err: errors.New(`process "/bin/sh -c exit 3" did not complete successfully: exit code: 3`)}), ErrTypeBuildStep, true},
		{"ADD of a URL answering 401", vertex(errors.New(`failed to load cache key: invalid response status 401`)), ErrTypeBuildStep, true},
		{"ADD of a URL answering 404", vertex(errors.New(`failed to load cache key: invalid response status 404`)), ErrTypeBuildStep, true},
		{"ADD of a URL answering 429", vertex(errors.New(`failed to load cache key: invalid response status 429`)), "", false},
		{"ADD of a URL answering 503", vertex(errors.New(`failed to load cache key: invalid response status 503`)), "", false},
		{"COPY of a missing file", vertex(errors.New(`failed to compute cache key: failed to calculate checksum of ref a::b: "/missing.txt": not found`)), ErrTypeBuildStep, true},
		{"step failed for another reason", vertex(errors.New("failed to extract layer: no space left on device")), "", false},
		{"Dockerfile without stages", frontend(errors.New("the Dockerfile cannot be empty")), ErrTypeDockerfile, true},
		{"base image not found", frontend(errors.New("x: failed to resolve source metadata for r/x:latest: r/x:latest: not found")), ErrTypeDockerfile, true},
		{"registry down", frontend(errors.New(`x: failed to resolve source metadata for r/x:latest: failed to do request: Head "https://r/v2/x/manifests/latest": dial tcp: connection refused`)), "", false},
		{"unknown frontend failure", frontend(errors.New("failed to read dockerfile: transport is closing")), "", false},
		{"plain error", errors.New("something else"), "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			typ, permanent := Classify(tc.err)
			if typ != tc.wantType || permanent != tc.permanent {
				t.Errorf("Classify = %q, %v; want %q, %v", typ, permanent, tc.wantType, tc.permanent)
			}
		})
	}
}
