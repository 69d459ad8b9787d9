package stack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
)

// Process is a set of started parts, stopped in the reverse order they were started.
type Process struct {
	log    *slog.Logger
	stops  []namedStop
	failed chan error // receives the first error of a part that stopped on its own
}

type namedStop struct {
	name string
	stop func(context.Context) error
}

// Failed receives the error of a part that stopped working on its own (a listener that failed);
// the process should then be stopped.
func (p *Process) Failed() <-chan error { return p.failed }

func newProcess(log *slog.Logger) Process {
	return Process{log: log, failed: make(chan error, 1)}
}

// fail reports a part's failure; only the first is kept.
func (p *Process) fail(err error) {
	select {
	case p.failed <- err:
	default:
	}
}

// onStop registers how to stop a part that has just started.
func (p *Process) onStop(name string, stop func(context.Context) error) {
	p.stops = append(p.stops, namedStop{name, stop})
}

// Stop stops every part, newest first, and returns every error it met. A part still stopping when
// ctx ends is abandoned (its error says so) and the next one is stopped.
func (p *Process) Stop(ctx context.Context) error {
	var errs []error
	for i := len(p.stops) - 1; i >= 0; i-- {
		s := p.stops[i]
		done := make(chan error, 1)
		go func() { done <- s.stop(ctx) }()
		select {
		case err := <-done:
			if err != nil {
				errs = append(errs, fmt.Errorf("stopping %s: %w", s.name, err))
			}
			p.log.Debug("stopped", "part", s.name)
		case <-ctx.Done():
			errs = append(errs, fmt.Errorf("stopping %s: abandoned: %w", s.name, ctx.Err()))
		}
	}
	p.stops = nil
	return errors.Join(errs...)
}

// stopOnError stops what has started when err is not nil, so a failed start leaves nothing running.
func (p *Process) stopOnError(err error) error {
	if err != nil {
		_ = p.Stop(context.Background())
	}
	return err
}
