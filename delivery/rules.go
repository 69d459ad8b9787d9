package delivery

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/slipway-dev/slipway/api"
	"github.com/slipway-dev/slipway/store"
)

// Limits and defaults of the release rules.
const (
	// MaxMinApprovals bounds Approval.MinApprovals.
	MaxMinApprovals = 10
	// DefaultApprovalExpiry is how long a request waits for approvals when Approval.ExpirySeconds is zero.
	DefaultApprovalExpiry = 7 * 24 * time.Hour
	// MaxFreezeWindows bounds an environment's freeze windows.
	MaxFreezeWindows = 20
)

// ApprovalRule is an environment's effective approval rule: whether promotions into it wait for approvals,
// how many distinct approvers (at least 1 when required), who may approve and how long a request waits.
type ApprovalRule struct {
	Required     bool
	MinApprovals int
	Approvers    []string
	Expiry       time.Duration
}

// ApprovalOf is env's effective approval rule: Approval's settings, with approval required by default in a
// production environment, one approver and the admin role by default.
func ApprovalOf(env store.Environment) ApprovalRule {
	r := ApprovalRule{Required: env.Production, MinApprovals: 1, Approvers: []string{"admin"}, Expiry: DefaultApprovalExpiry}
	a := env.Rules.Approval
	if a == nil {
		return r
	}
	if a.Required != nil {
		r.Required = *a.Required
	}
	if a.MinApprovals > 0 {
		r.MinApprovals = a.MinApprovals
	}
	if len(a.Approvers) > 0 {
		r.Approvers = a.Approvers
	}
	if a.ExpirySeconds > 0 {
		r.Expiry = time.Duration(a.ExpirySeconds) * time.Second
	}
	return r
}

// MayApprove reports whether actor is one of the rule's approvers: by role (admin, developer) or by token
// name. A viewer never is.
func (r ApprovalRule) MayApprove(actor Actor) bool {
	if actor.Role != RoleAdmin && actor.Role != RoleDeveloper {
		return false
	}
	for _, a := range r.Approvers {
		if a == actor.Role || a == actor.Name {
			return true
		}
	}
	return false
}

// Freeze is what holds deploys into an environment at a moment: a stopped line or a freeze window.
type Freeze struct {
	// Reason says what holds it, e.g. `freeze window "weekend"` or `the line of production is stopped: incident 42`.
	Reason string
	// Until is when the window ends; zero for a stopped line, which ends when it is started again.
	Until time.Time
}

// FrozenAt returns what holds deploys into env at t, given the project's stopped line (nil when it runs); ok
// is false when nothing does. A project's stop comes first, then the environment's, then the window that
// ends last among those open at t.
func FrozenAt(env store.Environment, projectStop *api.Stop, t time.Time) (f Freeze, ok bool) {
	if projectStop != nil {
		return Freeze{Reason: fmt.Sprintf("the line of project %s is stopped by %s: %s", env.Project, projectStop.Actor, projectStop.Reason)}, true
	}
	if st := env.Rules.Stopped; st != nil {
		return Freeze{Reason: fmt.Sprintf("the line of %s is stopped by %s: %s", env.Name, st.Actor, st.Reason)}, true
	}
	for i, w := range env.Rules.FreezeWindows {
		start, end, open := windowAt(w, t)
		if !open || (ok && !end.After(f.Until)) {
			continue
		}
		name := w.Name
		if name == "" {
			name = fmt.Sprintf("freeze window %d", i+1)
		}
		f, ok = Freeze{Reason: fmt.Sprintf("%s of %s (from %s) is open", name, env.Name, start.UTC().Format(time.RFC3339)), Until: end}, true
	}
	return f, ok
}

// windowAt returns the span of w open at t, if one is. A window whose rules do not parse is never open
// (CheckReleaseRules refuses it before it is stored).
func windowAt(w api.FreezeWindow, t time.Time) (start, end time.Time, open bool) {
	if w.Cron == "" {
		if w.Start == nil || w.End == nil {
			return time.Time{}, time.Time{}, false
		}
		return *w.Start, *w.End, !t.Before(*w.Start) && t.Before(*w.End)
	}
	sched, loc, err := parseSchedule(w.Cron, w.TimeZone)
	if err != nil || w.DurationSeconds <= 0 {
		return time.Time{}, time.Time{}, false
	}
	d := time.Duration(w.DurationSeconds) * time.Second
	start = sched.Next(t.In(loc).Add(-d).Add(-time.Second))
	end = start.Add(d)
	return start, end, !start.After(t) && t.Before(end)
}

// CheckReleaseRules refuses (Invalid, naming the field) rules that cannot be kept: an approval rule out of
// range or naming a viewer, a freeze window whose cron, duration, time zone or span does not parse, an unknown
// freeze mode.
func CheckReleaseRules(r api.ReleaseRules) error {
	if a := r.Approval; a != nil {
		if a.MinApprovals < 0 || a.MinApprovals > MaxMinApprovals {
			return refuse(Invalid, "invalid", "approval.minApprovals", "minApprovals must be from 0 to %d", MaxMinApprovals)
		}
		if a.ExpirySeconds < 0 {
			return refuse(Invalid, "invalid", "approval.expirySeconds", "expirySeconds must not be negative")
		}
		for i, who := range a.Approvers {
			field := fmt.Sprintf("approval.approvers[%d]", i)
			if who == "viewer" {
				return refuse(Invalid, "invalid", field, "a viewer never approves: name the admin or developer role, or a token")
			}
			if msg := api.CheckName(who); msg != "" {
				return refuse(Invalid, "invalid", field, "approver %s", msg)
			}
		}
	}
	if len(r.FreezeWindows) > MaxFreezeWindows {
		return refuse(Invalid, "invalid", "freezeWindows", "at most %d freeze windows", MaxFreezeWindows)
	}
	for i, w := range r.FreezeWindows {
		field := fmt.Sprintf("freezeWindows[%d]", i)
		if w.Cron == "" {
			if w.Start == nil || w.End == nil || !w.End.After(*w.Start) {
				return refuse(Invalid, "invalid", field, "a one-off freeze window needs a start and a later end (or a cron and durationSeconds)")
			}
			continue
		}
		if _, _, err := parseSchedule(w.Cron, w.TimeZone); err != nil {
			if e, ok := errors.AsType[*Error](err); ok {
				e.Field = field + "." + e.Field
			}
			return err
		}
		if w.DurationSeconds <= 0 {
			return refuse(Invalid, "invalid", field+".durationSeconds", "a recurring freeze window needs durationSeconds above zero")
		}
	}
	if r.FreezeMode != "" && r.FreezeMode != api.FreezeWait && r.FreezeMode != api.FreezeRefuse {
		return refuse(Invalid, "invalid", "freezeMode", "freezeMode must be %q or %q, not %q", api.FreezeWait, api.FreezeRefuse, r.FreezeMode)
	}
	if p := r.Promotion; p != nil {
		if p.Policy != "" && p.Policy != api.PromotionManual && p.Policy != api.PromotionAuto {
			return refuse(Invalid, "invalid", "promotion.policy", "policy must be %q or %q, not %q", api.PromotionManual, api.PromotionAuto, p.Policy)
		}
		if p.SoakSeconds < 0 || time.Duration(p.SoakSeconds)*time.Second > MaxSoak {
			return refuse(Invalid, "invalid", "promotion.soakSeconds", "soakSeconds must be from 0 to %d", int(MaxSoak.Seconds()))
		}
	}
	return checkVerification(r.Verification)
}

// checkVerification refuses (Invalid, naming the field) a verification that cannot run: a window or a check's
// numbers out of range, a path that is not absolute, too many checks.
func checkVerification(v *api.Verification) error {
	if v == nil {
		return nil
	}
	if v.WindowSeconds < 0 || time.Duration(v.WindowSeconds)*time.Second > MaxVerificationWindow {
		return refuse(Invalid, "invalid", "verification.windowSeconds", "windowSeconds must be from 0 to %d", int(MaxVerificationWindow.Seconds()))
	}
	if v.Task != "" {
		if msg := api.CheckName(v.Task); msg != "" {
			return refuse(Invalid, "invalid", "verification.task", "task %s", msg)
		}
	}
	if len(v.HTTP) > MaxHTTPChecks {
		return refuse(Invalid, "invalid", "verification.http", "at most %d HTTP checks", MaxHTTPChecks)
	}
	for i, c := range v.HTTP {
		field := fmt.Sprintf("verification.http[%d]", i)
		switch {
		case c.Path != "" && !strings.HasPrefix(c.Path, "/"):
			return refuse(Invalid, "invalid", field+".path", "path must begin with /, not %q", c.Path)
		case c.Status != 0 && (c.Status < 100 || c.Status > 599):
			return refuse(Invalid, "invalid", field+".status", "status must be an HTTP status from 100 to 599, not %d", c.Status)
		case c.MaxLatencyMs < 0 || c.MaxLatencyMs > 60_000:
			return refuse(Invalid, "invalid", field+".maxLatencyMs", "maxLatencyMs must be from 0 to 60000")
		case c.Successes < 0 || c.Successes > 100:
			return refuse(Invalid, "invalid", field+".successes", "successes must be from 0 to 100")
		case c.Failures < 0 || c.Failures > 100:
			return refuse(Invalid, "invalid", field+".failures", "failures must be from 0 to 100")
		case c.IntervalSeconds < 0 || c.IntervalSeconds > 300:
			return refuse(Invalid, "invalid", field+".intervalSeconds", "intervalSeconds must be from 0 to 300")
		}
	}
	return nil
}
