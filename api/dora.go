package api

import "time"

// DORA performance bands (DORAFigures' Band fields), after the 2023 Accelerate State of DevOps report with its
// ranges closed into thresholds; "" means nothing was measured.
const (
	// BandElite is the best of the four bands.
	BandElite = "elite"
	// BandHigh is the second band.
	BandHigh = "high"
	// BandMedium is the third band.
	BandMedium = "medium"
	// BandLow is the last band.
	BandLow = "low"
)

// DORA limits of the period of GET /api/v1/projects/{p}/dora?days=.
const (
	// DORADefaultDays is the period's length when days is not given.
	DORADefaultDays = 30
	// DORAMaxDays is the longest period.
	DORAMaxDays = 365
)

// DORA is the four DORA figures of a project, or of one of its components, over a period of whole days:
// GET /api/v1/projects/{p}/dora?component=&days=. They are measured in the project's last environment (in
// promotion order); Environments has each environment's counts.
type DORA struct {
	// Project is the project measured.
	Project string `json:"project"`
	// Component is the component measured; "" (and absent) for all of the project's.
	Component string `json:"component,omitempty"`
	// Environment is the project's last environment, where the figures are measured; "" when the project has none
	// (then every figure is zero).
	Environment string `json:"environment"`
	// Days is the period's length in days; the period is Days UTC calendar days, the last one today.
	Days int `json:"days"`
	// Since is the start of the period's first day (00:00 UTC); Until is when the figures were computed.
	Since time.Time `json:"since"`
	Until time.Time `json:"until"`
	// DeploymentFrequency is how often a deployment succeeded in Environment.
	DeploymentFrequency DeploymentFrequency `json:"deploymentFrequency"`
	// LeadTime is how long a change took from its commit to serving in Environment.
	LeadTime LeadTime `json:"leadTime"`
	// ChangeFailureRate is the share of the deployments ended in Environment that failed or were rolled back.
	ChangeFailureRate ChangeFailureRate `json:"changeFailureRate"`
	// TimeToRestore is how long it took, after a failed or rolled back deployment in Environment, until one
	// succeeded again.
	TimeToRestore TimeToRestore `json:"timeToRestore"`
	// Environments are the figures of each environment, in promotion order; [] when the project has none.
	Environments []EnvironmentDORA `json:"environments"`
	// Daily are the Days days of the period, oldest first, with what ended in Environment each day.
	Daily []DORADay `json:"daily"`
}

// DeploymentFrequency is how often deployments succeeded in an environment over a period.
type DeploymentFrequency struct {
	// Deployments is the number of deployments that succeeded in the period (a rollback's redeployment of the
	// release before is one); 0 when none did.
	Deployments int `json:"deployments"`
	// PerDay is Deployments divided by the period's days.
	PerDay float64 `json:"perDay"`
	// Band is elite at one a day or more, high at one a week or more, medium at one a month (30 days) or more and
	// low below; "" (and absent) only when the project has no environment.
	Band string `json:"band,omitempty"`
}

// LeadTime is how long changes took from their commit to serving in an environment: each commit counts once, at
// the first deployment of it that succeeded there, when that ended in the period.
type LeadTime struct {
	// Changes is the number of changes measured; 0 means none served for the first time in the period (and the
	// durations are 0).
	Changes int `json:"changes"`
	// MedianSeconds and P90Seconds are the median and the 90th percentile of the changes' lead times, in whole
	// seconds (linear interpolation between the closest ranks).
	MedianSeconds int64 `json:"medianSeconds"`
	P90Seconds    int64 `json:"p90Seconds"`
	// Fallbacks is how many of the changes were measured from their build's creation because the build has no
	// commit time (builds made before slipway recorded it, image imports); 0 when every one had it.
	Fallbacks int `json:"fallbacks"`
	// Band (of the median) is elite under a day, high under a week, medium under a month (30 days) and low
	// beyond; "" when no change was measured.
	Band string `json:"band,omitempty"`
}

// ChangeFailureRate is the share of the deployments ended in an environment over a period that failed or were
// rolled back.
type ChangeFailureRate struct {
	// Deployments is the number of deployments ended in the period: succeeded, failed or rolled back.
	Deployments int `json:"deployments"`
	// Failed and RolledBack count the deployments that failed (a failed deployment whose previous release kept
	// serving too) and those rolled back after failing their verification.
	Failed     int `json:"failed"`
	RolledBack int `json:"rolledBack"`
	// Rate is (Failed + RolledBack) / Deployments, from 0 to 1; 0 when nothing ended.
	Rate float64 `json:"rate"`
	// Band is elite up to 5%, high up to 10%, medium up to 15% and low above; "" when nothing ended.
	Band string `json:"band,omitempty"`
}

// TimeToRestore is how long it took, after a change failure in an environment, until a deployment of that
// component succeeded there again. Consecutive failures of a component before that success are one incident,
// measured from the first one's end to the success's end; a failed deployment whose previous release kept serving
// counts like a rolled back one.
type TimeToRestore struct {
	// Restored is the number of incidents that began in the period and were followed by a success; their
	// durations are measured.
	Restored int `json:"restored"`
	// Unrestored is the number of incidents that began in the period with no success after them yet.
	Unrestored int `json:"unrestored"`
	// MedianSeconds is the median of the restored incidents' durations in whole seconds; 0 when none.
	MedianSeconds int64 `json:"medianSeconds"`
	// Band (of the median) is elite under an hour, high under a day, medium under a week and low beyond; "" when
	// nothing was restored.
	Band string `json:"band,omitempty"`
}

// EnvironmentDORA is what ended in one environment over the period.
type EnvironmentDORA struct {
	// Environment names it.
	Environment string `json:"environment"`
	// Succeeded, Failed and RolledBack count its deployments ended in the period by status.
	Succeeded  int `json:"succeeded"`
	Failed     int `json:"failed"`
	RolledBack int `json:"rolledBack"`
	// ChangeFailureRate is (Failed + RolledBack) over all three; 0 when nothing ended.
	ChangeFailureRate float64 `json:"changeFailureRate"`
	// Restored and RestoreMedianSeconds are TimeToRestore's Restored and MedianSeconds in this environment.
	Restored             int   `json:"restored"`
	RestoreMedianSeconds int64 `json:"restoreMedianSeconds"`
}

// DORADay is one UTC day of the period in the measured environment.
type DORADay struct {
	// Day is the date, YYYY-MM-DD (UTC).
	Day string `json:"day"`
	// Succeeded counts the deployments that succeeded that day; Failed those that failed or were rolled back.
	Succeeded int `json:"succeeded"`
	Failed    int `json:"failed"`
}
