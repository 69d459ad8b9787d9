package delivery

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/slipway-dev/slipway/api"
	"github.com/slipway-dev/slipway/store"
)

// doraStore answers with fixed environments and rows, and records the period it was asked for.
type doraStore struct {
	envs         []store.Environment
	rows         []store.EndedDeployment
	err          error
	since, until time.Time
	component    string
}

func (s *doraStore) ListEnvironments(context.Context, string) ([]store.Environment, error) {
	return s.envs, s.err
}

func (s *doraStore) EndedDeployments(_ context.Context, _, component string, since, until time.Time) ([]store.EndedDeployment, error) {
	s.since, s.until, s.component = since, until, component
	return s.rows, nil
}

// march is 2025-03-dd hh:mm UTC.
func march(dd, hh, mm int) time.Time { return time.Date(2025, 3, dd, hh, mm, 0, 0, time.UTC) }

func ptr(t time.Time) *time.Time { return &t }

// doraRows is a week of deployments: into production, api fails twice, recovers, is rolled back once and
// redeployed, fails at the end; web serves once; development has one success and one failure.
func doraRows() []store.EndedDeployment {
	row := func(id, comp, env, status, commit string, end time.Time, committed *time.Time, first *time.Time) store.EndedDeployment {
		return store.EndedDeployment{ID: id, Component: comp, Environment: env, BuildID: "b-" + commit, Status: status,
			EndedAt: end, Commit: commit, CommittedAt: committed, BuildCreatedAt: end.Add(-48 * time.Hour), FirstServedAt: first}
	}
	ok, failed, rolled := api.DeploymentSucceeded, api.DeploymentFailed, api.DeploymentRolledBack
	return []store.EndedDeployment{
		row("d1", "api", "development", ok, "c1", march(4, 9, 0), ptr(march(4, 8, 0)), ptr(march(4, 9, 0))),
		row("d2", "api", "development", failed, "c2", march(4, 9, 30), nil, nil),
		row("p1", "api", "production", ok, "c1", march(4, 10, 0), ptr(march(4, 8, 0)), ptr(march(4, 10, 0))),  // lead 2h
		row("p2", "api", "production", failed, "c2", march(5, 12, 0), nil, nil),                               // incident…
		row("p3", "api", "production", failed, "c2", march(5, 13, 0), nil, nil),                               // …the same one
		row("p4", "api", "production", ok, "c3", march(5, 14, 0), ptr(march(5, 11, 0)), ptr(march(5, 14, 0))), // lead 3h, restored in 2h
		row("p5", "api", "production", rolled, "c4", march(7, 9, 0), ptr(march(7, 8, 0)), nil),                // rolled back…
		row("p6", "api", "production", ok, "c3", march(7, 9, 30), ptr(march(5, 11, 0)), ptr(march(5, 14, 0))), // …c3 again: no new change
		row("p7", "api", "production", ok, "c5", march(8, 10, 0), nil, ptr(march(8, 10, 0))),                  // no commit time: 48h from the build
		row("w1", "web", "production", ok, "c9", march(9, 0, 30), ptr(march(1, 0, 30)), ptr(march(9, 0, 30))), // lead 8 days
		row("p8", "api", "production", failed, "c6", march(10, 14, 0), nil, nil),                              // not restored yet
	}
}

func TestDORAFigures(t *testing.T) {
	st := &doraStore{envs: []store.Environment{{Name: "development"}, {Name: "production"}}, rows: doraRows()}
	d := &DORA{Store: st, Now: func() time.Time { return march(10, 15, 0) }}
	f, err := d.Figures(t.Context(), "shop", "", 7)
	if err != nil {
		t.Fatal(err)
	}
	if !st.since.Equal(march(4, 0, 0)) || !st.until.Equal(march(10, 15, 0)) {
		t.Fatalf("asked the store for [%v, %v), want 7 UTC days up to now", st.since, st.until)
	}
	want := api.DORA{
		Project: "shop", Environment: "production", Days: 7, Since: march(4, 0, 0), Until: march(10, 15, 0),
		DeploymentFrequency: api.DeploymentFrequency{Deployments: 5, PerDay: 5.0 / 7, Band: api.BandHigh},
		// [2h 3h 48h 192h]: the median is between 3h and 48h, the 90th percentile 70% of the way from 48h to 192h.
		LeadTime:          api.LeadTime{Changes: 4, MedianSeconds: 91800, P90Seconds: 535680, Fallbacks: 1, Band: api.BandHigh},
		ChangeFailureRate: api.ChangeFailureRate{Deployments: 9, Failed: 3, RolledBack: 1, Rate: 4.0 / 9, Band: api.BandLow},
		// Two incidents restored, in 2h and 30m; p8's is open.
		TimeToRestore: api.TimeToRestore{Restored: 2, Unrestored: 1, MedianSeconds: 4500, Band: api.BandHigh},
		Environments: []api.EnvironmentDORA{
			{Environment: "development", Succeeded: 1, Failed: 1, ChangeFailureRate: 0.5},
			{Environment: "production", Succeeded: 5, Failed: 3, RolledBack: 1, ChangeFailureRate: 4.0 / 9, Restored: 2, RestoreMedianSeconds: 4500},
		},
		Daily: []api.DORADay{
			{Day: "2025-03-04", Succeeded: 1}, {Day: "2025-03-05", Succeeded: 1, Failed: 2}, {Day: "2025-03-06"},
			{Day: "2025-03-07", Succeeded: 1, Failed: 1}, {Day: "2025-03-08", Succeeded: 1}, {Day: "2025-03-09", Succeeded: 1},
			{Day: "2025-03-10", Failed: 1},
		},
	}
	if !reflect.DeepEqual(f, want) {
		t.Fatalf("figures\n got %+v\nwant %+v", f, want)
	}
}

func TestDORAFiguresOfNothing(t *testing.T) {
	f := DORAFigures([]string{"development", "production"}, nil, march(4, 0, 0), march(5, 1, 0), 2)
	if f.Environment != "production" || f.DeploymentFrequency.Band != api.BandLow || f.LeadTime.Band != "" ||
		f.ChangeFailureRate.Band != "" || f.TimeToRestore.Band != "" || len(f.Daily) != 2 || f.Daily[1].Day != "2025-03-05" {
		t.Fatalf("figures of no deployment %+v: want low frequency, nothing else banded, two empty days", f)
	}
	f = DORAFigures(nil, doraRows(), march(4, 0, 0), march(5, 1, 0), 2)
	if f.Environment != "" || f.DeploymentFrequency != (api.DeploymentFrequency{}) || len(f.Environments) != 0 {
		t.Fatalf("figures of a project without environments %+v: want zero", f)
	}
}

func TestDORADays(t *testing.T) {
	st := &doraStore{envs: []store.Environment{{Name: "production"}}}
	d := &DORA{Store: st, Now: func() time.Time { return march(31, 23, 59) }}
	if _, err := d.Figures(t.Context(), "shop", "api", 0); err != nil {
		t.Fatal(err)
	}
	if !st.since.Equal(march(2, 0, 0)) || st.component != "api" {
		t.Fatalf("days 0 asked from %v for %q, want the default 30 days from 2025-03-02 for api", st.since, st.component)
	}
	for _, days := range []int{-1, api.DORAMaxDays + 1} {
		_, err := d.Figures(t.Context(), "shop", "", days)
		var refused *Error
		if !errors.As(err, &refused) || refused.Kind != Invalid || refused.Field != "days" {
			t.Fatalf("days %d: error %v, want an Invalid refusal of field days", days, err)
		}
	}
	st.err = store.ErrNotFound
	if _, err := d.Figures(t.Context(), "nope", "", 1); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown project: error %v, want one wrapping ErrNotFound", err)
	}
}

func TestDORABands(t *testing.T) {
	h := time.Hour
	for _, c := range []struct {
		name, got, want string
	}{
		{"2 a day", BandOfFrequency(2), api.BandElite},
		{"1 a day", BandOfFrequency(1), api.BandElite},
		{"1 a week", BandOfFrequency(1.0 / 7), api.BandHigh},
		{"1 in 10 days", BandOfFrequency(0.1), api.BandMedium},
		{"1 in 60 days", BandOfFrequency(1.0 / 60), api.BandLow},
		{"lead 23h", BandOfLeadTime(23 * h), api.BandElite},
		{"lead 1d", BandOfLeadTime(24 * h), api.BandHigh},
		{"lead 8d", BandOfLeadTime(8 * 24 * h), api.BandMedium},
		{"lead 40d", BandOfLeadTime(40 * 24 * h), api.BandLow},
		{"cfr 5%", BandOfFailureRate(0.05), api.BandElite},
		{"cfr 8%", BandOfFailureRate(0.08), api.BandHigh},
		{"cfr 15%", BandOfFailureRate(0.15), api.BandMedium},
		{"cfr 20%", BandOfFailureRate(0.2), api.BandLow},
		{"restore 59m", BandOfRestore(59 * time.Minute), api.BandElite},
		{"restore 5h", BandOfRestore(5 * h), api.BandHigh},
		{"restore 3d", BandOfRestore(72 * h), api.BandMedium},
		{"restore 8d", BandOfRestore(8 * 24 * h), api.BandLow},
	} {
		if c.got != c.want {
			t.Errorf("%s: band %q, want %q", c.name, c.got, c.want)
		}
	}
}
