package localtemporal

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync/atomic"

	tlog "go.temporal.io/server/common/log"
	"go.temporal.io/server/common/log/tag"
)

// slogLogger adapts a *slog.Logger to the Temporal server's logger interface.
// Messages below minLevel are dropped before their tags are converted.
type slogLogger struct {
	log      *slog.Logger
	minLevel slog.Level
	// quiet, once set, drops every message: while its services stop one after another, Temporal
	// logs each peer it can no longer reach, which says nothing about a shutdown that works.
	quiet *atomic.Bool
}

var _ tlog.Logger = slogLogger{}

func (l slogLogger) emit(level slog.Level, msg string, tags []tag.Tag) {
	if level < l.minLevel || l.quiet.Load() || !l.log.Enabled(context.Background(), level) {
		return
	}
	attrs := make([]slog.Attr, 0, len(tags))
	for _, t := range tags {
		attrs = append(attrs, slog.Any(t.Key(), t.Value()))
	}
	l.log.LogAttrs(context.Background(), level, msg, attrs...)
}

func (l slogLogger) Debug(msg string, tags ...tag.Tag)  { l.emit(slog.LevelDebug, msg, tags) }
func (l slogLogger) Info(msg string, tags ...tag.Tag)   { l.emit(slog.LevelInfo, msg, tags) }
func (l slogLogger) Warn(msg string, tags ...tag.Tag)   { l.emit(slog.LevelWarn, msg, tags) }
func (l slogLogger) Error(msg string, tags ...tag.Tag)  { l.emit(slog.LevelError, msg, tags) }
func (l slogLogger) DPanic(msg string, tags ...tag.Tag) { l.emit(slog.LevelError, msg, tags) }

func (l slogLogger) Panic(msg string, tags ...tag.Tag) {
	l.emit(slog.LevelError, msg, tags)
	panic(msg)
}

func (l slogLogger) Fatal(msg string, tags ...tag.Tag) {
	l.emit(slog.LevelError, msg, tags)
	fmt.Fprintln(os.Stderr, "temporal server fatal:", msg)
	os.Exit(1)
}
