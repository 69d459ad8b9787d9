package trivyscan_test

import (
	"testing"
	"time"

	"github.com/slipway-dev/slipway/trivyscan"
	"github.com/slipway-dev/slipway/trivyscan/trivytest"
)

// BenchmarkRescan scans the vulnerable fixture image cold (a new scanner: no earlier reports) and
// then again warm (same digest, database and ignore rules), and reports both and their ratio; the
// goal is warm ≤ 0.2× cold.
func BenchmarkRescan(b *testing.B) {
	db := trivytest.DB(b)
	dir, digest := trivytest.Layout(b, trivytest.Image(b, trivytest.VulnerableFiles))
	req := trivyscan.Request{Layout: dir, Digest: digest}
	var cold, warm time.Duration
	for b.Loop() {
		s := newScanner(b, db)
		start := time.Now()
		if _, err := s.Scan(b.Context(), req); err != nil {
			b.Fatal(err)
		}
		mid := time.Now()
		r, err := s.Scan(b.Context(), req)
		if err != nil || !r.Cached {
			b.Fatalf("warm scan: cached %v, %v", r.Cached, err)
		}
		cold, warm = cold+mid.Sub(start), warm+time.Since(mid)
	}
	n := float64(b.N)
	b.ReportMetric(float64(cold.Milliseconds())/n, "cold-ms")
	b.ReportMetric(float64(warm.Microseconds())/1000/n, "warm-ms")
	b.ReportMetric(float64(warm)/float64(cold), "warm/cold")
}
