package payloadcodec_test

import (
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/converter"

	"github.com/slipway-dev/slipway/payloadcodec"
)

// benchInput is a typical workflow input: a build pipeline's, about 1 KiB of JSON.
var benchInput = struct {
	Project, Component, Repo, Commit, Dockerfile string
	Args                                         map[string]string
}{
	Project: "shop", Component: "api", Repo: "https://git.example.com/shop/api.git", Commit: strings.Repeat("c0ffee", 7)[:40],
	Dockerfile: strings.Repeat("RUN make\n", 80), Args: map[string]string{"GOFLAGS": "-trimpath", "CGO_ENABLED": "0"},
}

// BenchmarkPayloadRoundTrip converts benchInput to a payload and back, through Temporal's default converter (the
// raw work) and through the encrypting one, in one run, and reports both and their ratio: what encryption adds
// to every payload a workflow step sends and reads.
func BenchmarkPayloadRoundTrip(b *testing.B) {
	keys, _ := keyring(b)
	plainDC, encDC := converter.GetDefaultDataConverter(), payloadcodec.DataConverter(keys)
	roundTrip := func(dc converter.DataConverter, n int) time.Duration {
		start := time.Now()
		for range n {
			p, err := dc.ToPayload(benchInput)
			if err != nil {
				b.Fatal(err)
			}
			var out struct{ Project string }
			if err := dc.FromPayload(p, &out); err != nil || out.Project != "shop" {
				b.Fatal(err)
			}
		}
		return time.Since(start)
	}
	var plain, enc time.Duration
	n := 0
	b.ReportAllocs()
	for b.Loop() {
		plain += roundTrip(plainDC, 1)
		enc += roundTrip(encDC, 1)
		n++
	}
	b.ReportMetric(float64(plain.Nanoseconds())/float64(n), "raw-ns/op")
	b.ReportMetric(float64(enc.Nanoseconds())/float64(n), "encrypted-ns/op")
	b.ReportMetric(float64(enc)/float64(plain), "encrypted/raw")
}
