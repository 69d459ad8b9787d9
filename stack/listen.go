package stack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// serveHTTP listens on address (port 0 picks one), serves h in the background and registers its
// graceful shutdown. It returns the address actually bound. With cert and key set it serves HTTPS.
func (p *Process) serveHTTP(name, address string, h http.Handler, cert, key string) (string, error) {
	l, err := net.Listen("tcp", address)
	if err != nil {
		return "", fmt.Errorf("%s: listening on %s: %w", name, address, err)
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(p.log.Handler(), slog.LevelWarn),
	}
	go func() {
		var err error
		if cert != "" {
			err = srv.ServeTLS(l, cert, key)
		} else {
			err = srv.Serve(l)
		}
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			p.log.Error("serving stopped", "part", name, "err", err)
		}
	}()
	p.onStop(name, func(ctx context.Context) error {
		if err := srv.Shutdown(ctx); err != nil {
			return srv.Close()
		}
		return nil
	})
	return l.Addr().String(), nil
}
