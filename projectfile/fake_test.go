package projectfile_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/slipway-dev/slipway/projectfile"
)

// failingClient answers every call with err, and counts them.
type failingClient struct {
	err   error
	calls int
}

func (c *failingClient) Do(ctx context.Context, method, path string, body, out any) error {
	c.calls++
	return c.err
}

// An error reading the install other than 404 is not taken for "no such project": Diff fails, naming it.
func TestDiffFailsOnAnErrorOtherThanNotFound(t *testing.T) {
	c := &failingClient{err: &apiError{status: http.StatusServiceUnavailable}}
	c.err.(*apiError).body.Message = "store unavailable"
	c.err.(*apiError).body.Code = "unavailable"
	plan, err := projectfile.Diff(context.Background(), c, parse(t, twoProjects), projectfile.Options{})
	if err == nil {
		t.Fatalf("Diff succeeded with a plan of %d changes", len(plan.Changes))
	}
	if want := "reading project shop: store unavailable (unavailable, HTTP 503)"; err.Error() != want {
		t.Errorf("Diff: %v\nwant %s", err, want)
	}
	if statusOf(err) != http.StatusServiceUnavailable || c.calls != 1 {
		t.Errorf("Diff's error %v (status %d) after %d calls, want 503 after the first", err, statusOf(err), c.calls)
	}
}

// Apply stops at the first change that fails and says which ones it made before.
func TestApplyStopsAtTheFirstError(t *testing.T) {
	in := newInstall(t)
	plan, _ := diff(t, in.admin, parse(t, twoProjects), projectfile.Options{})
	c := &failingClient{err: &apiError{status: http.StatusInternalServerError}}
	done, err := plan.Apply(context.Background(), c)
	if err == nil || !strings.HasPrefix(err.Error(), "slipway.yaml:3: projects[0]: creating project shop: ") {
		t.Errorf("Apply: %v, want the project's line and what was done", err)
	}
	if len(done.Changes) != 0 || c.calls != 1 {
		t.Errorf("Apply made %v in %d calls, want none after one", done.Changes, c.calls)
	}
}
