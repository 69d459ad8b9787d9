package stack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
)

// Process is a set of started parts, stopped in the reverse order they were started.
type Process struct {
	log   *slog.Logger
	stops []namedStop
}

type namedStop struct {
	name string
	stop func(context.Context) error
}

// onStop registers how to stop a part that has just started.
func (p *Process) onStop(name string, stop func(context.Context) error) {
	p.stops = append(p.stops, namedStop{name, stop})
}

// Stop stops every part, newest first, and returns every error it met. Parts still running when
// ctx ends are abandoned.
func (p *Process) Stop(ctx context.Context) error {
	var errs []error
	for i := len(p.stops) - 1; i >= 0; i-- {
		s := p.stops[i]
		if err := s.stop(ctx); err != nil {
			errs = append(errs, fmt.Errorf("stopping %s: %w", s.name, err))
		}
		p.log.Debug("stopped", "part", s.name)
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
