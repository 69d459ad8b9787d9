package console

import (
	"fmt"
	"time"

	"github.com/slipway-dev/slipway/api"
)

// TabDORA is the project's DORA figures tab.
const TabDORA ProjectTab = "dora"

// DORAPeriods are the periods, in days, the DORA page offers.
var DORAPeriods = []int{7, 30, 90}

// DORAPage is the DORA figures of a project, or of one of its components: the four figures with their bands,
// each environment's counts and a bar chart of the deployments ended each day in the last environment.
type DORAPage struct {
	Layout
	Nav ProjectNav
	// Figures are the figures as the API answers them.
	Figures api.DORA
	// Components are the project's components, for the links to each one's figures.
	Components []string
	// Periods are the periods offered (DORAPeriods).
	Periods []int
	// Rows are the four figures as the page shows them.
	Rows []DORAFigureRow
	// Environments are each environment's counts, in promotion order.
	Environments []DORAEnvironmentRow
	// Chart is the daily series drawn as stacked bars.
	Chart DORAChart
}

// DORAFigureRow is one figure as the page shows it: its name, value, what it was computed from and its band ("" when
// nothing was measured).
type DORAFigureRow struct {
	Name, Value, Detail, Band string
}

// DORAEnvironmentRow is one environment's counts with its change failure rate as a percentage ("25%").
type DORAEnvironmentRow struct {
	api.EnvironmentDORA
	Rate string
}

// DORAChart is the geometry of an SVG chart of deployments per day: a bar per day, succeeded at the bottom and
// failed (or rolled back) stacked on top, scaled to the busiest day. Width and Height are the drawing's size.
type DORAChart struct {
	Width, Height int
	// Max is the busiest day's count; 0 when nothing ended (the bars are then empty).
	Max int
	// From and To are the first and the last day (YYYY-MM-DD); "" when there is none.
	From, To string
	Bars     []DORABar
}

// DORABar is one day of a DORAChart: X and W place it; SucceededY/H and FailedY/H are its two stacked parts (a zero
// height is not drawn).
type DORABar struct {
	Day                    string
	Succeeded, Failed      int
	X, W                   int
	SucceededY, SucceededH int
	FailedY, FailedH       int
}

// The chart's size: a fixed drawing the browser scales to the page's width (viewBox).
const (
	doraChartWidth  = 720
	doraChartHeight = 120
)

// NewDORAPage is the page of f for the project's components.
func NewDORAPage(l Layout, nav ProjectNav, f api.DORA, components []string) DORAPage {
	p := DORAPage{Layout: l, Nav: nav, Figures: f, Components: components, Periods: DORAPeriods, Rows: doraRows(f),
		Chart: NewDORAChart(f.Daily)}
	for _, e := range f.Environments {
		p.Environments = append(p.Environments, DORAEnvironmentRow{EnvironmentDORA: e, Rate: fmt.Sprintf("%.0f%%", 100*e.ChangeFailureRate)})
	}
	return p
}

// doraRows is f's four figures in words.
func doraRows(f api.DORA) []DORAFigureRow {
	df, lt, cfr, tr := f.DeploymentFrequency, f.LeadTime, f.ChangeFailureRate, f.TimeToRestore
	rows := []DORAFigureRow{{Name: "Deployment frequency", Value: fmt.Sprintf("%.2f a day", df.PerDay),
		Detail: fmt.Sprintf("%d succeeded in %d days", df.Deployments, f.Days), Band: df.Band}}
	lead := DORAFigureRow{Name: "Lead time for changes", Value: "–", Detail: "no change served for the first time", Band: lt.Band}
	if lt.Changes > 0 {
		lead.Value = span(lt.MedianSeconds) + " median"
		lead.Detail = fmt.Sprintf("p90 %s · %d changes", span(lt.P90Seconds), lt.Changes)
		if lt.Fallbacks > 0 {
			lead.Detail += fmt.Sprintf(" · %d measured from the build's creation (no commit time)", lt.Fallbacks)
		}
	}
	rate := DORAFigureRow{Name: "Change failure rate", Value: "–", Detail: "nothing ended", Band: cfr.Band}
	if cfr.Deployments > 0 {
		rate.Value = fmt.Sprintf("%.0f%%", 100*cfr.Rate)
		rate.Detail = fmt.Sprintf("%d of %d: %d failed, %d rolled back", cfr.Failed+cfr.RolledBack, cfr.Deployments, cfr.Failed, cfr.RolledBack)
	}
	restore := DORAFigureRow{Name: "Time to restore", Value: "–", Detail: "nothing to restore", Band: tr.Band}
	if tr.Restored > 0 {
		restore.Value = span(tr.MedianSeconds) + " median"
		restore.Detail = fmt.Sprintf("%d restored", tr.Restored)
	}
	if tr.Unrestored > 0 {
		if tr.Restored == 0 {
			restore.Detail = ""
		} else {
			restore.Detail += " · "
		}
		restore.Detail += fmt.Sprintf("%d not restored yet", tr.Unrestored)
	}
	return append(rows, lead, rate, restore)
}

// span is a number of seconds in its two largest units: "45s", "12m", "5h 20m", "3d 4h".
func span(seconds int64) string {
	d := time.Duration(seconds) * time.Second
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", seconds)
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d/time.Minute))
	case d < 24*time.Hour:
		return fmt.Sprintf("%dh %dm", int(d/time.Hour), int(d%time.Hour/time.Minute))
	}
	return fmt.Sprintf("%dd %dh", int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour))
}

// NewDORAChart lays out days as stacked bars.
func NewDORAChart(days []api.DORADay) DORAChart {
	c := DORAChart{Width: doraChartWidth, Height: doraChartHeight}
	for _, d := range days {
		c.Max = max(c.Max, d.Succeeded+d.Failed)
	}
	if len(days) == 0 {
		return c
	}
	c.From, c.To = days[0].Day, days[len(days)-1].Day
	slot := c.Width / len(days)
	w := max(slot*3/4, 1)
	for i, d := range days {
		b := DORABar{Day: d.Day, Succeeded: d.Succeeded, Failed: d.Failed, X: i*slot + (slot-w)/2, W: w}
		if c.Max > 0 {
			b.SucceededH = d.Succeeded * c.Height / c.Max
			b.FailedH = d.Failed * c.Height / c.Max
		}
		b.SucceededY = c.Height - b.SucceededH
		b.FailedY = b.SucceededY - b.FailedH
		c.Bars = append(c.Bars, b)
	}
	return c
}
