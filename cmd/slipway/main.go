// Command slipway is the slipway binary: `slipway dev` runs everything in one process; `slipway
// server` and `slipway worker` are the split processes; the other verbs call the API.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/sirupsen/logrus"

	"github.com/slipway-dev/slipway/cli"
)

func main() {
	// BuildKit's client logs through logrus; its warnings (such as a file system without fsverity)
	// say nothing a slipway user can act on, and build errors are returned to slipway anyway.
	logrus.SetLevel(logrus.ErrorLevel)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// After the first signal starts a graceful stop, a second one kills the process at once.
	context.AfterFunc(ctx, stop)
	code := cli.Main(ctx, os.Args[1:], os.LookupEnv, cli.IO{In: os.Stdin, Out: os.Stdout, Err: os.Stderr})
	stop()
	os.Exit(code)
}
