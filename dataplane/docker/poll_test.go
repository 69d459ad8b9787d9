package docker

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/slipway-dev/slipway/dataplane"
)

// A deadline that ends during a check does not hide why the release was not ready.
func TestPollReadyKeepsTheReasonWhenTheDeadlineCutsACheck(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	calls := 0
	p, err := pollReady(ctx, 20*time.Millisecond, func(ctx context.Context) (dataplane.Probe, error) {
		calls++
		if calls < 3 {
			return dataplane.Probe{Message: "GET /healthz: 404", At: time.Now()}, nil
		}
		<-ctx.Done() // the third check hangs until the deadline
		return dataplane.Probe{Message: "GET /healthz: " + ctx.Err().Error(), At: time.Now()}, nil
	}, nil)
	if !errors.Is(err, context.DeadlineExceeded) || p.Ready || p.Message != "GET /healthz: 404" || calls != 3 {
		t.Fatalf("pollReady = %+v, %v after %d checks; want the 404 and the deadline after 3", p, err, calls)
	}
}

// Checks come quickly at first, then every period, and the first passing one ends the wait.
func TestPollReadyBacksOffToThePeriod(t *testing.T) {
	var at []time.Time
	began := time.Now()
	p, err := pollReady(t.Context(), 80*time.Millisecond, func(context.Context) (dataplane.Probe, error) {
		at = append(at, time.Now())
		return dataplane.Probe{Ready: len(at) == 6, Message: "check", At: time.Now()}, nil
	}, nil)
	if err != nil || !p.Ready || len(at) != 6 {
		t.Fatalf("pollReady = %+v, %v after %d checks", p, err, len(at))
	}
	// 10 + 20 + 40 + 80 + 80 ms of waits between six checks.
	if first := at[1].Sub(at[0]); first > 50*time.Millisecond {
		t.Errorf("the second check came %s after the first, want ~10ms", first)
	}
	if total := at[5].Sub(began); total < 230*time.Millisecond || total > 2*time.Second {
		t.Errorf("six checks took %s, want ~230ms", total)
	}
}
