package stack

import (
	"context"
	"fmt"
	"log/slog"

	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"

	"github.com/slipway-dev/slipway/config"
	"github.com/slipway-dev/slipway/payloadcodec"
	"github.com/slipway-dev/slipway/secretbox"
	"github.com/slipway-dev/slipway/worker"
)

// dialTemporal connects to Temporal, makes sure slipway's search attributes exist on the namespace
// and registers closing the client. Every payload the client sends (inputs, results, signals, memos,
// failures' messages) is encrypted with keys (payloadcodec), so Temporal's history holds ciphertext.
func (p *Process) dialTemporal(ctx context.Context, t config.Temporal, keys *secretbox.Keyring) (client.Client, error) {
	tlsCfg, err := t.TLS.Config()
	if err != nil {
		return nil, err
	}
	// The SDK logs every retried poll at Info; slipway's own lines say what matters.
	sdkLogger := sdklog.NewStructuredLogger(slog.New(levelFloor{p.log.Handler(), slog.LevelWarn}))
	dc := payloadcodec.DataConverter(keys)
	c, err := client.DialContext(ctx, client.Options{
		HostPort:          t.Address,
		Namespace:         t.Namespace,
		Logger:            sdkLogger,
		ConnectionOptions: client.ConnectionOptions{TLS: tlsCfg},
		DataConverter:     dc,
		FailureConverter:  payloadcodec.FailureConverter(dc),
	})
	if err != nil {
		return nil, fmt.Errorf("connecting to Temporal at %s: %w", t.Address, err)
	}
	p.onStop("temporal client", func(context.Context) error { c.Close(); return nil })
	if err := worker.EnsureSearchAttributes(ctx, c, t.Namespace); err != nil {
		return nil, err
	}
	return c, nil
}

// levelFloor drops records below min before they reach the wrapped handler.
type levelFloor struct {
	slog.Handler
	min slog.Level
}

func (h levelFloor) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

func (h levelFloor) WithAttrs(a []slog.Attr) slog.Handler {
	return levelFloor{h.Handler.WithAttrs(a), h.min}
}
func (h levelFloor) WithGroup(n string) slog.Handler {
	return levelFloor{h.Handler.WithGroup(n), h.min}
}
