package delivery

import (
	"context"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/slipway-dev/slipway/api"
	"github.com/slipway-dev/slipway/store"
)

// DORAStore is the part of the metadata store the DORA figures read.
type DORAStore interface {
	// ListEnvironments returns the project's environments in promotion order; ErrNotFound for no project.
	ListEnvironments(ctx context.Context, project string) ([]store.Environment, error)
	// EndedDeployments returns the deployments ended in [since, until), oldest first; ErrNotFound for no
	// project or component.
	EndedDeployments(ctx context.Context, project, component string, since, until time.Time) ([]store.EndedDeployment, error)
}

// DORA computes the DORA figures of projects and components from the store.
type DORA struct {
	// Store is where the deployments are read; required.
	Store DORAStore
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Figures returns the DORA figures of the project (of one component, unless component is "") over the last days
// UTC calendar days, today included; days 0 means api.DORADefaultDays. It refuses days outside 1..api.DORAMaxDays
// (Invalid, field "days") and fails with an error wrapping store.ErrNotFound for an unknown project or component.
func (d *DORA) Figures(ctx context.Context, project, component string, days int) (api.DORA, error) {
	if days == 0 {
		days = api.DORADefaultDays
	}
	if days < 1 || days > api.DORAMaxDays {
		return api.DORA{}, refuse(Invalid, "invalid", "days", "days %d is not between 1 and %d", days, api.DORAMaxDays)
	}
	now := time.Now
	if d.Now != nil {
		now = d.Now
	}
	until := now().UTC()
	since := periodStart(until, days)
	envs, err := d.Store.ListEnvironments(ctx, project)
	if err != nil {
		return api.DORA{}, fmt.Errorf("reading the environments of project %q: %w", project, err)
	}
	rows, err := d.Store.EndedDeployments(ctx, project, component, since, until)
	if err != nil {
		return api.DORA{}, fmt.Errorf("reading the deployments of project %q: %w", project, err)
	}
	names := make([]string, len(envs))
	for i, e := range envs {
		names[i] = e.Name
	}
	f := DORAFigures(names, rows, since, until, days)
	f.Project, f.Component = project, component
	return f, nil
}

// periodStart is 00:00 UTC of the first of the days UTC calendar days ending with until's.
func periodStart(until time.Time, days int) time.Time {
	y, m, dd := until.UTC().Date()
	return time.Date(y, m, dd, 0, 0, 0, 0, time.UTC).AddDate(0, 0, 1-days)
}

// DORAFigures computes the DORA figures from rows, the deployments ended in [since, until) (store.EndedDeployments'
// rows, oldest first), over envs, the environment names in promotion order: the headline figures are the last
// environment's, and Daily has days entries from since. It leaves Project and Component to the caller.
//
// Lead time counts each commit once, at the deployment that first served it in the last environment (its
// FirstServedAt): redeploying a commit that served before (a rollback to it) is no new change. It is measured from
// the build's commit time or, for a build without one, from the build's creation (counted in Fallbacks). Time to
// restore takes consecutive failures of a component in an environment as one incident, from the first's end to
// the end of the next succeeded deployment of the component there.
func DORAFigures(envs []string, rows []store.EndedDeployment, since, until time.Time, days int) api.DORA {
	f := api.DORA{Days: days, Since: since, Until: until, Environments: []api.EnvironmentDORA{}, Daily: make([]api.DORADay, days)}
	for i := range f.Daily {
		f.Daily[i].Day = since.AddDate(0, 0, i).Format(time.DateOnly)
	}
	byEnv := map[string][]store.EndedDeployment{}
	for _, r := range rows {
		byEnv[r.Environment] = append(byEnv[r.Environment], r)
	}
	for _, env := range envs {
		ds := byEnv[env]
		e := api.EnvironmentDORA{Environment: env}
		for _, r := range ds {
			switch r.Status {
			case api.DeploymentSucceeded:
				e.Succeeded++
			case api.DeploymentFailed:
				e.Failed++
			case api.DeploymentRolledBack:
				e.RolledBack++
			}
		}
		e.ChangeFailureRate = ratio(e.Failed+e.RolledBack, e.Succeeded+e.Failed+e.RolledBack)
		restores, _ := restoreTimes(ds)
		e.Restored, e.RestoreMedianSeconds = len(restores), seconds(percentile(restores, 0.5))
		f.Environments = append(f.Environments, e)
	}
	if len(envs) == 0 {
		return f
	}
	last := envs[len(envs)-1]
	f.Environment = last
	ds := byEnv[last]
	e := f.Environments[len(f.Environments)-1]

	f.DeploymentFrequency = api.DeploymentFrequency{Deployments: e.Succeeded, PerDay: float64(e.Succeeded) / float64(days)}
	f.DeploymentFrequency.Band = BandOfFrequency(f.DeploymentFrequency.PerDay)

	f.ChangeFailureRate = api.ChangeFailureRate{Deployments: e.Succeeded + e.Failed + e.RolledBack, Failed: e.Failed,
		RolledBack: e.RolledBack, Rate: e.ChangeFailureRate}
	if f.ChangeFailureRate.Deployments > 0 {
		f.ChangeFailureRate.Band = BandOfFailureRate(f.ChangeFailureRate.Rate)
	}

	leads, fallbacks := leadTimes(ds)
	f.LeadTime = api.LeadTime{Changes: len(leads), Fallbacks: fallbacks,
		MedianSeconds: seconds(percentile(leads, 0.5)), P90Seconds: seconds(percentile(leads, 0.9))}
	if len(leads) > 0 {
		f.LeadTime.Band = BandOfLeadTime(percentile(leads, 0.5))
	}

	restores, open := restoreTimes(ds)
	f.TimeToRestore = api.TimeToRestore{Restored: len(restores), Unrestored: open, MedianSeconds: e.RestoreMedianSeconds}
	if len(restores) > 0 {
		f.TimeToRestore.Band = BandOfRestore(percentile(restores, 0.5))
	}

	for _, r := range ds {
		i := int(r.EndedAt.Sub(since) / oneDay)
		if i < 0 || i >= days {
			continue
		}
		if r.Status == api.DeploymentSucceeded {
			f.Daily[i].Succeeded++
		} else {
			f.Daily[i].Failed++
		}
	}
	return f
}

// leadTimes returns the lead times of the changes first served by ds (one environment's rows), and how many were
// measured from the build's creation for want of a commit time.
func leadTimes(ds []store.EndedDeployment) (leads []time.Duration, fallbacks int) {
	seen := map[string]bool{}
	for _, r := range ds {
		if r.Status != api.DeploymentSucceeded || r.FirstServedAt == nil || !r.FirstServedAt.Equal(r.EndedAt) {
			continue
		}
		key := r.Component + "\x00" + r.Commit
		if seen[key] {
			continue
		}
		seen[key] = true
		from := r.BuildCreatedAt
		if r.CommittedAt != nil {
			from = *r.CommittedAt
		} else {
			fallbacks++
		}
		leads = append(leads, max(r.EndedAt.Sub(from), 0))
	}
	return leads, fallbacks
}

// restoreTimes returns the durations of the incidents in ds (one environment's rows, oldest first) that were
// restored, and the number of those that were not (yet).
func restoreTimes(ds []store.EndedDeployment) (restores []time.Duration, open int) {
	failedSince := map[string]time.Time{} // component → end of the first failure of its current incident
	for _, r := range ds {
		start, failing := failedSince[r.Component]
		switch {
		case r.Status == api.DeploymentSucceeded && failing:
			restores = append(restores, max(r.EndedAt.Sub(start), 0))
			delete(failedSince, r.Component)
		case r.Status == api.DeploymentFailed || r.Status == api.DeploymentRolledBack:
			if !failing {
				failedSince[r.Component] = r.EndedAt
			}
		}
	}
	return restores, len(failedSince)
}

// percentile is the p-th quantile of ds (0 ≤ p ≤ 1) by linear interpolation between the closest ranks; 0 for none.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	rank := p * float64(len(s)-1)
	lo := int(math.Floor(rank))
	hi := min(lo+1, len(s)-1)
	return s[lo] + time.Duration(float64(s[hi]-s[lo])*(rank-float64(lo)))
}

func seconds(d time.Duration) int64 { return int64(d.Round(time.Second) / time.Second) }

func ratio(n, of int) float64 {
	if of == 0 {
		return 0
	}
	return float64(n) / float64(of)
}

const oneDay = 24 * time.Hour

// BandOfFrequency is the DORA band of perDay succeeded deployments a day: elite at one a day or more, high at
// one a week or more, medium at one a month (30 days) or more, low below.
func BandOfFrequency(perDay float64) string {
	switch {
	case perDay >= 1:
		return api.BandElite
	case perDay >= 1.0/7:
		return api.BandHigh
	case perDay >= 1.0/30:
		return api.BandMedium
	}
	return api.BandLow
}

// BandOfLeadTime is the DORA band of a median lead time: elite under a day, high under a week, medium under a
// month (30 days), low beyond.
func BandOfLeadTime(median time.Duration) string {
	switch {
	case median < oneDay:
		return api.BandElite
	case median < 7*oneDay:
		return api.BandHigh
	case median < 30*oneDay:
		return api.BandMedium
	}
	return api.BandLow
}

// BandOfFailureRate is the DORA band of a change failure rate (0 to 1): elite up to 5%, high up to 10%, medium
// up to 15%, low above.
func BandOfFailureRate(rate float64) string {
	switch {
	case rate <= 0.05:
		return api.BandElite
	case rate <= 0.10:
		return api.BandHigh
	case rate <= 0.15:
		return api.BandMedium
	}
	return api.BandLow
}

// BandOfRestore is the DORA band of a median time to restore: elite under an hour, high under a day, medium
// under a week, low beyond.
func BandOfRestore(median time.Duration) string {
	switch {
	case median < time.Hour:
		return api.BandElite
	case median < oneDay:
		return api.BandHigh
	case median < 7*oneDay:
		return api.BandMedium
	}
	return api.BandLow
}
