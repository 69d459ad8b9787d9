// Package verify runs a release's verification: its environment's HTTP checks, tried against the address it
// serves at for a window, each needing a run of successes and failing on a run of failures.
package verify

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/slipway-dev/slipway/api"
)

// Defaults of a check's zero fields (api.HTTPCheck).
const (
	DefaultSuccesses  = 3
	DefaultFailures   = 3
	DefaultInterval   = 5 * time.Second
	DefaultMaxLatency = 2 * time.Second
	// maxBody is how much of an answer's body is read to match BodyContains.
	maxBody = 1 << 20
)

// Outcome is how a verification went: Passed, and a sentence saying what passed or which check failed and how.
type Outcome struct {
	Passed  bool
	Message string
}

// check is one HTTP check's settings with the defaults filled in, and its runs so far.
type check struct {
	api.HTTPCheck
	name                  string
	latency, interval     time.Duration
	successes, failures   int
	okRun, failRun, tries int
	last                  string
	next                  time.Time
}

func newCheck(c api.HTTPCheck, start time.Time) *check {
	x := &check{HTTPCheck: c, name: c.Name, latency: DefaultMaxLatency, interval: DefaultInterval,
		successes: DefaultSuccesses, failures: DefaultFailures, next: start}
	if x.Path == "" {
		x.Path = "/"
	}
	if x.name == "" {
		x.name = x.Path
	}
	if c.MaxLatencyMs > 0 {
		x.latency = time.Duration(c.MaxLatencyMs) * time.Millisecond
	}
	if c.IntervalSeconds > 0 {
		x.interval = time.Duration(c.IntervalSeconds) * time.Second
	}
	if c.Successes > 0 {
		x.successes = c.Successes
	}
	if c.Failures > 0 {
		x.failures = c.Failures
	}
	return x
}

// settled reports whether the check has the run of successes it needs.
func (c *check) settled() bool { return c.okRun >= c.successes }

// HTTP tries each check against base (the release's URL, no trailing slash needed) every check's interval for
// window, through client. It fails as soon as a check fails its run of failures in a row; it passes when the
// window has ended and every check's last tries are its run of successes (a check that has not got there by the
// end is tried on until it gets either run). progress is told what is happening after each round; nil tells
// nothing. It returns early, failed, when ctx ends.
func HTTP(ctx context.Context, client *http.Client, base string, checks []api.HTTPCheck, window time.Duration,
	progress func(string)) Outcome {
	start := time.Now()
	end := start.Add(window)
	cs := make([]*check, len(checks))
	for i, c := range checks {
		cs[i] = newCheck(c, start)
	}
	base = strings.TrimSuffix(base, "/")
	for {
		now := time.Now()
		for _, c := range cs {
			if now.Before(c.next) {
				continue
			}
			c.next = now.Add(c.interval)
			c.tries++
			if msg := try(ctx, client, base, c); msg == "" {
				c.okRun, c.failRun = c.okRun+1, 0
			} else {
				c.okRun, c.failRun, c.last = 0, c.failRun+1, msg
			}
			if c.failRun >= c.failures {
				return Outcome{Message: fmt.Sprintf("check %q failed %d tries in a row: %s", c.name, c.failRun, c.last)}
			}
		}
		done := !time.Now().Before(end)
		for _, c := range cs {
			done = done && c.settled()
		}
		if done {
			return Outcome{Passed: true, Message: fmt.Sprintf("%d check(s) passed for %s", len(cs), window.Round(time.Second))}
		}
		if progress != nil {
			progress(summary(cs))
		}
		wake := end
		if time.Now().After(end) {
			wake = time.Time{}
		}
		for _, c := range cs {
			if wake.IsZero() || c.next.Before(wake) {
				wake = c.next
			}
		}
		t := time.NewTimer(time.Until(wake))
		select {
		case <-ctx.Done():
			t.Stop()
			return Outcome{Message: "the verification was stopped: " + context.Cause(ctx).Error()}
		case <-t.C:
		}
	}
}

// summary says how each check stands, for a heartbeat.
func summary(cs []*check) string {
	parts := make([]string, len(cs))
	for i, c := range cs {
		parts[i] = fmt.Sprintf("%s: %d/%d in a row", c.name, c.okRun, c.successes)
	}
	return "verifying: " + strings.Join(parts, ", ")
}

// try GETs the check's path once; it returns "" when the answer passes, else what was wrong with it.
func try(ctx context.Context, client *http.Client, base string, c *check) string {
	ctx, cancel := context.WithTimeout(ctx, c.latency)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+c.Path, nil)
	if err != nil {
		return err.Error()
	}
	req.Header.Set("User-Agent", "slipway-verify")
	began := time.Now()
	res, err := client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Sprintf("no answer within %s", c.latency)
		}
		return "no answer: " + err.Error()
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, maxBody))
	took := time.Since(began)
	switch {
	case err != nil && ctx.Err() != nil:
		return fmt.Sprintf("the answer took over %s", c.latency)
	case err != nil:
		return "reading the answer: " + err.Error()
	case c.Status != 0 && res.StatusCode != c.Status:
		return fmt.Sprintf("status %d, want %d", res.StatusCode, c.Status)
	case c.Status == 0 && (res.StatusCode < 200 || res.StatusCode > 299):
		return fmt.Sprintf("status %d, want 2xx", res.StatusCode)
	case c.BodyContains != "" && !strings.Contains(string(body), c.BodyContains):
		return fmt.Sprintf("the body (status %d) does not contain %q", res.StatusCode, c.BodyContains)
	case took > c.latency:
		return fmt.Sprintf("answered in %s, over %s", took.Round(time.Millisecond), c.latency)
	}
	return ""
}
