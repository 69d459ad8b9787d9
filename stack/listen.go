package stack

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// serveHTTP listens on address (port 0 picks one), serves h in the background and registers its
// graceful shutdown. It returns the address actually bound. With cert and key set it serves HTTPS.
// onShutdown, when not nil, runs when the graceful shutdown starts (to end long-lived responses).
func (p *Process) serveHTTP(name, address string, h http.Handler, cert, key string, onShutdown func()) (string, error) {
	var tlsCfg *tls.Config
	if cert != "" {
		pair, err := tls.LoadX509KeyPair(cert, key)
		if err != nil {
			return "", fmt.Errorf("%s: loading TLS certificate: %w", name, err)
		}
		tlsCfg = &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}
	}
	l, err := net.Listen("tcp", address)
	if err != nil {
		return "", fmt.Errorf("%s: listening on %s: %w", name, address, err)
	}
	addr := l.Addr().String()
	if tlsCfg != nil {
		l = tls.NewListener(l, tlsCfg)
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(p.log.Handler(), slog.LevelWarn),
	}
	if onShutdown != nil {
		srv.RegisterOnShutdown(onShutdown)
	}
	go func() {
		if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			p.fail(fmt.Errorf("%s stopped serving: %w", name, err))
		}
	}()
	p.onStop(name, func(ctx context.Context) error {
		if err := srv.Shutdown(ctx); err != nil {
			return srv.Close()
		}
		return nil
	})
	return addr, nil
}
