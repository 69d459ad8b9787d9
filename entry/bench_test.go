package entry

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// BenchmarkEntry sends requests through an entry to one backend, in parallel, and directly to the
// backend for comparison: the cost the proxy adds per request.
func BenchmarkEntry(b *testing.B) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") }))
	defer backend.Close()
	var r Router
	defer r.Close(context.Background())
	k := Key{"shop", "web", "development"}
	url, err := r.Switch(b.Context(), k, []string{strings.TrimPrefix(backend.URL, "http://")})
	if err != nil {
		b.Fatal(err)
	}
	for name, target := range map[string]string{"direct": backend.URL, "entry": url} {
		b.Run(name, func(b *testing.B) {
			tr := &http.Transport{MaxIdleConnsPerHost: 64, DialContext: DialLocalhost(nil)}
			defer tr.CloseIdleConnections()
			c := &http.Client{Transport: tr}
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					resp, err := c.Get(target)
					if err != nil {
						b.Error(err)
						return
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			})
		})
	}
}
