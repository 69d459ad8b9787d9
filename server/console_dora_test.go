package server

import (
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// doraBar reads a bar's title in the DORA chart: its day and counts.
var doraBar = regexp.MustCompile(`<g data-day="(\d{4}-\d\d-\d\d)"><title>[^:]+: (\d+) succeeded, (\d+) failed or rolled back</title>`)

func TestConsoleDORA(t *testing.T) {
	e := newTestEnv(t)
	e.doraHistory()
	s := e.signIn(e.viewer)

	page := s.page(http.StatusOK, "/projects/shop/dora?days=7")
	for _, want := range []string{
		`<a href="/projects/shop/dora" aria-current="page">DORA</a>`,
		"Measured in <strong>production</strong>",
		`<tr data-figure="Deployment frequency"><th scope="row">Deployment frequency</th><td><strong>0.29 a day</strong></td><td class="small">2 succeeded in 7 days</td><td><span class="badge band-high">high</span></td></tr>`,
		`<td class="small">p90 1h 48m · 2 changes · 1 measured from the build&#39;s creation (no commit time)</td><td><span class="badge band-elite">elite</span>`,
		`<tr data-figure="Change failure rate"><th scope="row">Change failure rate</th><td><strong>33%</strong></td><td class="small">1 of 3: 1 failed, 0 rolled back</td><td><span class="badge band-low">low</span>`,
		`<tr data-figure="Time to restore"><th scope="row">Time to restore</th><td><strong>30m median</strong></td><td class="small">1 restored</td><td><span class="badge band-elite">elite</span>`,
		`<tr data-environment="development"><td>development</td><td>1</td><td>0</td><td>0</td><td>0%</td><td>0</td></tr>`,
		`<tr data-environment="production"><td>production</td><td>2</td><td>1</td><td>0</td><td>33%</td><td>1</td></tr>`,
		`<svg class="dora-chart" role="img" viewBox="0 0 720 120"`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the DORA page lacks %q", want)
		}
	}
	// Seven bars, the deployments of the day in their titles, drawn to the busiest day's scale.
	bars := doraBar.FindAllStringSubmatch(page, -1)
	succeeded, failed := 0, 0
	for _, b := range bars {
		n, _ := strconv.Atoi(b[2])
		f, _ := strconv.Atoi(b[3])
		succeeded, failed = succeeded+n, failed+f
	}
	if len(bars) != 7 || succeeded != 2 || failed != 1 {
		t.Errorf("chart bars %v: want 7 days, 2 succeeded and 1 failed", bars)
	}
	if n := strings.Count(page, `<rect class="failed"`); n != 1 {
		t.Errorf("%d failed bars, want 1", n)
	}
	if !regexp.MustCompile(`<rect class="succeeded" x="\d+" y="0" width="\d+" height="120" fill="#137a36"/>|<rect class="failed" x="\d+" y="0" width="\d+" height="\d+" fill="#b3261e"/>`).MatchString(page) {
		t.Errorf("no bar reaches the top of the chart: the busiest day sets the scale")
	}

	// One component's figures; a period out of range is refused.
	page = s.page(http.StatusOK, "/projects/shop/dora?component=api&days=30")
	if !strings.Contains(page, "Component <strong>api</strong>") || strings.Count(page, "<g data-day=") != 30 {
		t.Errorf("api's page over 30 days is not one component's with 30 bars")
	}
	if rec := s.get("/projects/shop/dora?days=0"); rec.Code != http.StatusBadRequest {
		t.Errorf("days=0: status %d, want 400", rec.Code)
	}
	if rec := s.get("/projects/shop/dora?component=nope"); rec.Code != http.StatusNotFound {
		t.Errorf("an unknown component: status %d, want 404", rec.Code)
	}
}
